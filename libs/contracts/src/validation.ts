import 'reflect-metadata';
import { plainToInstance, Type } from 'class-transformer';
import {
  Equals,
  IsEmail,
  IsIn,
  IsISO8601,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  Min,
  ValidateNested,
  validateSync,
  ValidationError,
} from 'class-validator';
import { SUBSCRIPTION_ID_PATTERN, TENANT_ID_PATTERN } from './naming';
import { REGIONS, TIERS, type Region, type Tier } from './tiers';

/**
 * Validation of billing payloads (spec 1.2). The DTO classes below carry decorators and no behaviour;
 * they are the one place these rules live, shared by the webhook and the bus intake. Every violated rule
 * is reported by field, never a bare `false`.
 */

/** Spec 1.2: 3-100 letters, digits and spaces. Spaces only (no tabs/newlines), and at least one letter or digit. */
export const COMPANY_NAME_PATTERN = /^(?=.*[A-Za-z0-9])[A-Za-z0-9 ]{3,100}$/;

/**
 * validator.js accepts quoted local parts (`"x\r\nBcc: …"@host`), with CR/LF, NUL and angle brackets inside,
 * which then reach SMTP headers and the welcome e-mail. No customer needs one: a `"` anywhere in the local part
 * (so every quoted form) and angle brackets are refused; the unquoted form already excludes control characters.
 */
const EMAIL_OPTIONS = { blacklisted_chars: '"<>' };

class CustomerDto {
  @IsString()
  @Matches(COMPANY_NAME_PATTERN, { message: 'name must be 3-100 letters, digits and spaces' })
  name!: string;

  @IsString()
  @MaxLength(254)
  @IsEmail(EMAIL_OPTIONS, { message: 'email must be a valid e-mail address' })
  email!: string;

  @IsOptional()
  @IsString()
  @MaxLength(254)
  @IsEmail(EMAIL_OPTIONS, { message: 'billing_email must be a valid e-mail address' })
  billing_email?: string;
}

class PlanDto {
  @IsIn(TIERS as unknown as string[], { message: `tier must be one of ${TIERS.join(', ')}` })
  tier!: Tier;

  @IsNumber({ allowNaN: false, allowInfinity: false, maxDecimalPlaces: 2 })
  @Min(0)
  price!: number;

  @IsString()
  @Matches(/^[A-Z]{3}$/, { message: 'currency must be an ISO 4217 code such as EUR' })
  currency!: string;

  @IsIn(['monthly', 'annual'], { message: 'billing_period must be monthly or annual' })
  billing_period!: 'monthly' | 'annual';
}

class SubscriptionMetadataDto {
  @IsIn(REGIONS as unknown as string[], { message: `region must be one of ${REGIONS.join(', ')}` })
  region!: Region;

  @IsOptional()
  @IsString()
  @MaxLength(50)
  company_size?: string;

  @IsOptional()
  @IsString()
  @MaxLength(100)
  industry?: string;
}

class SubscriptionCreatedDataDto {
  @IsString()
  @Matches(SUBSCRIPTION_ID_PATTERN, { message: 'subscription_id must be 1-64 of letters, digits, _ and -' })
  subscription_id!: string;

  @IsObject()
  @ValidateNested()
  @Type(() => CustomerDto)
  customer!: CustomerDto;

  @IsObject()
  @ValidateNested()
  @Type(() => PlanDto)
  plan!: PlanDto;

  @IsObject()
  @ValidateNested()
  @Type(() => SubscriptionMetadataDto)
  metadata!: SubscriptionMetadataDto;
}

export class SubscriptionCreatedDto {
  @Equals('subscription.created')
  event!: 'subscription.created';

  @IsISO8601({ strict: true })
  timestamp!: string;

  @IsObject()
  @ValidateNested()
  @Type(() => SubscriptionCreatedDataDto)
  data!: SubscriptionCreatedDataDto;
}

class SubscriptionCancelledDataDto {
  @IsString()
  @Matches(SUBSCRIPTION_ID_PATTERN, { message: 'subscription_id must be 1-64 of letters, digits, _ and -' })
  subscription_id!: string;

  @IsString()
  @Matches(TENANT_ID_PATTERN, { message: 'tenant_id must be a tenant id such as abc-corporation-7f3a9c' })
  tenant_id!: string;

  @IsOptional()
  @IsString()
  @MaxLength(200)
  cancellation_reason?: string;

  @IsOptional()
  @IsISO8601({ strict: true })
  effective_date?: string;
}

export class SubscriptionCancelledDto {
  @Equals('subscription.cancelled')
  event!: 'subscription.cancelled';

  @IsISO8601({ strict: true })
  timestamp!: string;

  @IsObject()
  @ValidateNested()
  @Type(() => SubscriptionCancelledDataDto)
  data!: SubscriptionCancelledDataDto;
}

export interface Violation {
  /** Dotted path of the offending field, e.g. `data.customer.name`; empty for the payload itself. */
  field: string;
  /** class-validator rule names, e.g. `matches`, `isEmail`. */
  rules: string[];
  messages: string[];
}

export type ValidationResult<T> = { ok: true; value: T } | { ok: false; violations: Violation[] };

function flatten(errors: ValidationError[], prefix = ''): Violation[] {
  return errors.flatMap((error) => {
    const field = prefix ? `${prefix}.${error.property}` : error.property;
    const own: Violation[] = error.constraints
      ? [{ field, rules: Object.keys(error.constraints), messages: Object.values(error.constraints) }]
      : [];
    return [...own, ...flatten(error.children ?? [], field)];
  });
}

/** Deeper than any payload billing sends (the spec's deepest field is `data.customer.email`, depth 3). */
export const MAX_PAYLOAD_DEPTH = 8;

/**
 * The path where the payload nests deeper than MAX_PAYLOAD_DEPTH, or undefined. Iterative and stopping at the
 * limit: class-transformer recurses into every nested object, so a deep enough body would overflow its stack
 * (a 500 over HTTP, a retried-then-parked message on the bus) before any rule ran.
 */
function tooDeep(payload: object): string | undefined {
  const stack: { value: object; path: string[] }[] = [{ value: payload, path: [] }];
  while (stack.length > 0) {
    const { value, path } = stack.pop()!;
    for (const [key, child] of Object.entries(value)) {
      if (child === null || typeof child !== 'object') continue;
      const childPath = [...path, key];
      if (childPath.length > MAX_PAYLOAD_DEPTH) return childPath.join('.').slice(0, 200);
      stack.push({ value: child as object, path: childPath });
    }
  }
  return undefined;
}

function validatePayload<T extends object>(dto: new () => T, payload: unknown): ValidationResult<T> {
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
    return {
      ok: false,
      violations: [{ field: '', rules: ['isObject'], messages: ['payload must be a JSON object'] }],
    };
  }
  const deep = tooDeep(payload);
  if (deep !== undefined) {
    return {
      ok: false,
      violations: [
        { field: deep, rules: ['maxDepth'], messages: [`nested deeper than ${MAX_PAYLOAD_DEPTH} levels`] },
      ],
    };
  }
  const instance = plainToInstance(dto, payload, { enableImplicitConversion: false });
  const errors = validateSync(instance, { whitelist: true, forbidUnknownValues: true });
  if (errors.length > 0) return { ok: false, violations: flatten(errors) };
  return { ok: true, value: instance };
}

export function validateSubscriptionCreated(payload: unknown): ValidationResult<SubscriptionCreatedDto> {
  return validatePayload(SubscriptionCreatedDto, payload);
}

export function validateSubscriptionCancelled(payload: unknown): ValidationResult<SubscriptionCancelledDto> {
  return validatePayload(SubscriptionCancelledDto, payload);
}

// ---------------------------------------------------------------------------------------------------------
// Subscription changes after creation: tier change, suspension for non-payment, explicit reactivation.

/** `subscription_id` and `tenant_id`, which every follow-up event of a subscription names. */
class SubscriptionRefDataDto {
  @IsString()
  @Matches(SUBSCRIPTION_ID_PATTERN, { message: 'subscription_id must be 1-64 of letters, digits, _ and -' })
  subscription_id!: string;

  @IsString()
  @Matches(TENANT_ID_PATTERN, { message: 'tenant_id must be a tenant id such as abc-corporation-7f3a9c' })
  tenant_id!: string;
}

/** Only the tier matters for a plan change; price and period are billing's business and optional here. */
class UpdatedPlanDto {
  @IsIn(TIERS as unknown as string[], { message: `tier must be one of ${TIERS.join(', ')}` })
  tier!: Tier;

  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false, maxDecimalPlaces: 2 })
  @Min(0)
  price?: number;

  @IsOptional()
  @IsString()
  @Matches(/^[A-Z]{3}$/, { message: 'currency must be an ISO 4217 code such as EUR' })
  currency?: string;

  @IsOptional()
  @IsIn(['monthly', 'annual'], { message: 'billing_period must be monthly or annual' })
  billing_period?: 'monthly' | 'annual';
}

class SubscriptionUpdatedDataDto extends SubscriptionRefDataDto {
  @IsObject()
  @ValidateNested()
  @Type(() => UpdatedPlanDto)
  plan!: UpdatedPlanDto;
}

export class SubscriptionUpdatedDto {
  @Equals('subscription.updated')
  event!: 'subscription.updated';

  @IsISO8601({ strict: true })
  timestamp!: string;

  @IsObject()
  @ValidateNested()
  @Type(() => SubscriptionUpdatedDataDto)
  data!: SubscriptionUpdatedDataDto;
}

class SubscriptionSuspendedDataDto extends SubscriptionRefDataDto {
  @IsOptional()
  @IsString()
  @MaxLength(200)
  reason?: string;
}

export class SubscriptionSuspendedDto {
  @Equals('subscription.suspended')
  event!: 'subscription.suspended';

  @IsISO8601({ strict: true })
  timestamp!: string;

  @IsObject()
  @ValidateNested()
  @Type(() => SubscriptionSuspendedDataDto)
  data!: SubscriptionSuspendedDataDto;
}

export class SubscriptionResumedDto {
  @Equals('subscription.resumed')
  event!: 'subscription.resumed';

  @IsISO8601({ strict: true })
  timestamp!: string;

  @IsObject()
  @ValidateNested()
  @Type(() => SubscriptionRefDataDto)
  data!: SubscriptionRefDataDto;
}

export class SubscriptionReactivatedDto {
  @Equals('subscription.reactivated')
  event!: 'subscription.reactivated';

  @IsISO8601({ strict: true })
  timestamp!: string;

  @IsObject()
  @ValidateNested()
  @Type(() => SubscriptionRefDataDto)
  data!: SubscriptionRefDataDto;
}

export function validateSubscriptionUpdated(payload: unknown): ValidationResult<SubscriptionUpdatedDto> {
  return validatePayload(SubscriptionUpdatedDto, payload);
}

export function validateSubscriptionSuspended(payload: unknown): ValidationResult<SubscriptionSuspendedDto> {
  return validatePayload(SubscriptionSuspendedDto, payload);
}

export function validateSubscriptionResumed(payload: unknown): ValidationResult<SubscriptionResumedDto> {
  return validatePayload(SubscriptionResumedDto, payload);
}

export function validateSubscriptionReactivated(
  payload: unknown,
): ValidationResult<SubscriptionReactivatedDto> {
  return validatePayload(SubscriptionReactivatedDto, payload);
}
