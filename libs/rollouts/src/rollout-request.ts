import {
  IMAGE_TAG_PATTERN,
  isImageTag,
  isTenantId,
  REGIONS,
  TIERS,
  type Region,
  type RolloutSelection,
  type Tier,
  type Violation,
} from '@app/contracts';
import { DEFAULT_BATCH_SIZE, DEFAULT_CANARY_SIZE, MAX_WAVE_SIZE, ROLLOUT_MAX_TENANTS } from '@app/lifecycle';
import {
  idempotencyKeyOf,
  idempotencyViolations,
  invalidRequest,
  operatorViolations,
  REASON_MAX_LENGTH,
} from '@app/tenancy';

/** A rollout as asked over HTTP or on tenantctl's command line: the fields are checked here, all at once. */
export interface StartRolloutRequest {
  imageTag: unknown;
  /** `{ tiers?, regions?, tenant_ids? }`; absent: every active tenant. */
  selection?: unknown;
  canarySize?: unknown;
  batchSize?: unknown;
  reason: unknown;
  operator: string;
  idempotencyKey?: unknown;
}

export interface ValidStartRollout {
  imageTag: string;
  selection: RolloutSelection;
  canarySize: number;
  batchSize: number;
  reason: string;
  operator: string;
  idempotencyKey?: string;
}

/** An operator's pause, resume or abort of a rollout. */
export interface RolloutActionRequest {
  rolloutId: unknown;
  action: 'pause' | 'resume' | 'abort';
  reason?: unknown;
  operator: string;
  idempotencyKey?: unknown;
}

function violation(field: string, rule: string, message: string): Violation[] {
  return [{ field, rules: [rule], messages: [message] }];
}

/** Optional; one line of at most REASON_MAX_LENGTH characters when given (`required` for a start). */
export function reasonViolations(reason: unknown, required: boolean): Violation[] {
  if (reason === undefined && !required) return [];
  const text = typeof reason === 'string' ? reason.trim() : '';
  // eslint-disable-next-line no-control-regex -- finding control characters is the point
  const oneLine = typeof reason === 'string' && !/[\u0000-\u001f\u007f]/.test(reason);
  if (text.length > 0 && oneLine && (reason as string).length <= REASON_MAX_LENGTH) return [];
  const message = `reason ${required ? 'is required: ' : 'must be '}one line of at most ${REASON_MAX_LENGTH} characters`;
  return violation('reason', 'isNotEmpty', message);
}

function sizeOf(field: string, value: unknown, fallback: number, problems: Violation[]): number {
  if (value === undefined) return fallback;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= MAX_WAVE_SIZE)
    return value;
  problems.push(...violation(field, 'isInt', `${field} must be an integer from 1 to ${MAX_WAVE_SIZE}`));
  return fallback;
}

function listOf<T extends string>(
  field: string,
  value: unknown,
  valid: (item: unknown) => item is T,
  expected: string,
  problems: Violation[],
): T[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length === 0 || value.length > ROLLOUT_MAX_TENANTS) {
    problems.push(
      ...violation(field, 'isArray', `${field} must be a non-empty list (at most ${ROLLOUT_MAX_TENANTS})`),
    );
    return undefined;
  }
  const wrong = value.filter((item) => !valid(item));
  if (wrong.length > 0) {
    const shown = wrong
      .slice(0, 3)
      .map((item) => JSON.stringify(item)?.slice(0, 40))
      .join(', ');
    problems.push(...violation(field, 'isIn', `${field} must hold ${expected} (got ${shown})`));
    return undefined;
  }
  return [...new Set(value as T[])];
}

const isTier = (value: unknown): value is Tier => (TIERS as readonly unknown[]).includes(value);
const isRegion = (value: unknown): value is Region => (REGIONS as readonly unknown[]).includes(value);

function selectionOf(value: unknown, problems: Violation[]): RolloutSelection {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    problems.push(
      ...violation('selection', 'isObject', 'selection must be an object: { tiers, regions, tenant_ids }'),
    );
    return {};
  }
  const raw = value as Record<string, unknown>;
  const unknownFields = Object.keys(raw).filter((key) => !['tiers', 'regions', 'tenant_ids'].includes(key));
  if (unknownFields.length > 0) {
    problems.push(
      ...violation(
        'selection',
        'whitelist',
        `selection has unknown fields: ${unknownFields.join(', ')} (tiers, regions, tenant_ids)`,
      ),
    );
  }
  const tiers = listOf('selection.tiers', raw['tiers'], isTier, TIERS.join(', '), problems);
  const regions = listOf('selection.regions', raw['regions'], isRegion, REGIONS.join(', '), problems);
  const tenantIds = listOf('selection.tenant_ids', raw['tenant_ids'], isTenantId, 'tenant ids', problems);
  return {
    ...(tiers ? { tiers } : {}),
    ...(regions ? { regions } : {}),
    ...(tenantIds ? { tenantIds } : {}),
  };
}

export function validStartRollout(request: StartRolloutRequest): ValidStartRollout {
  const problems: Violation[] = [];
  if (!isImageTag(request.imageTag)) {
    const shown = JSON.stringify(request.imageTag)?.slice(0, 140) ?? 'nothing';
    problems.push(
      ...violation(
        'image_tag',
        'matches',
        `image_tag must be an OCI tag matching ${IMAGE_TAG_PATTERN} (got ${shown})`,
      ),
    );
  }
  const selection = selectionOf(request.selection, problems);
  const canarySize = sizeOf('canary_size', request.canarySize, DEFAULT_CANARY_SIZE, problems);
  const batchSize = sizeOf('batch_size', request.batchSize, DEFAULT_BATCH_SIZE, problems);
  problems.push(
    ...reasonViolations(request.reason, true),
    ...operatorViolations(request.operator),
    ...idempotencyViolations(request.idempotencyKey),
  );
  if (problems.length > 0) throw invalidRequest('invalid rollout', problems);
  const key = idempotencyKeyOf(request.idempotencyKey);
  return {
    imageTag: request.imageTag as string,
    selection,
    canarySize,
    batchSize,
    reason: (request.reason as string).trim(),
    operator: request.operator,
    ...(key ? { idempotencyKey: key } : {}),
  };
}
