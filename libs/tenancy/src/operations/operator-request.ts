import { buildEvent, deterministicId, isTenantId, type Violation } from '@app/contracts';
import type { EventData, RecordedEvent } from '@app/event-store';
import { isRefusal, REFUSAL_CODES, type Admission, type AdmittedEvent } from '@app/lifecycle';
import { invalidRequest, refusalError, UseCaseError, type RefusalCodes } from '../errors';

/**
 * Who acts: the operator token's name (HTTP; `oidc:<claim>` for OpenID Connect callers, the claim may be an
 * e-mail address) or `$USER` / `--as` (tenantctl). Shown as `operator:<name>`.
 */
export const OPERATOR_NAME_PATTERN = /^(?:oidc:)?[a-zA-Z0-9_.@-]{1,64}$/;
/** Step keys of the orchestrator: `databases`, `compensate:namespace`, `purge:storage`, `cancel-1:backup-2:storage`. */
export const STEP_KEY_PATTERN = /^[a-z0-9][a-z0-9:-]{0,99}$/;
export const IDEMPOTENCY_KEY_PATTERN = /^[A-Za-z0-9_.:-]{1,128}$/;
/** How an Idempotency-Key is written, the start of every route's published policy. */
export const IDEMPOTENCY_KEY_FORMAT =
  'Optional. An RFC 8941 string, e.g. "8e03978e-40d5-43e8-bc93-6894a57f9324" (1-128 letters, digits, _ . : -; ' +
  'the bare key is accepted too)';
/** The Idempotency-Key policy the API publishes (draft-ietf-httpapi-idempotency-key-header). */
export const IDEMPOTENCY_KEY_POLICY =
  `${IDEMPOTENCY_KEY_FORMAT}, scoped to the operator, the tenant and the action. A retry once the first ` +
  'request answered gets its result again (duplicate: true) and appends nothing; the same key with another ' +
  'payload is refused with 422, a retry while the first is still being processed with 409. Keys never expire: ' +
  "each lives as the id of the event it appended, as long as the tenant's stream.";
/** The key as the Idempotency-Key draft writes it: an RFC 8941 sf-string, the key quoted. */
const QUOTED_IDEMPOTENCY_KEY = /^"([A-Za-z0-9_.:-]{1,128})"$/;
export const REASON_MAX_LENGTH = 500;
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

/** Fields come straight from a request body or the command line: the use case validates them. */
export interface CancelRequest {
  tenantId: string;
  reason: unknown;
  operator: string;
  idempotencyKey?: unknown;
}

export interface RetryRequest extends CancelRequest {
  step: unknown;
}

/** An operator's purge request has the cancellation's shape: a tenant, a reason, an optional idempotency key. */
export type PurgeRequest = CancelRequest;

export interface RetryAccepted {
  tenantId: string;
  step: string;
  eventId: string;
  /** True when this Idempotency-Key was already used for the same request: nothing new was appended. */
  duplicate: boolean;
}

export interface OperatorCancellationAccepted {
  tenantId: string;
  eventId: string;
  deletionDate: string;
  duplicate: boolean;
}

export interface PurgeAccepted {
  tenantId: string;
  eventId: string;
  requestedAt: string;
  /** The deletion date the purge no longer waits for. */
  deletionDate: string;
  duplicate: boolean;
}

export const operatorActor = (operator: string): string => `operator:${operator}`;

/** An operator request once its fields passed: the reason trimmed, the event id chosen. */
export interface ValidOperatorRequest {
  tenantId: string;
  operator: string;
  reason: string;
  eventId: string;
  /** The Idempotency-Key, unquoted, when the request has one. */
  idempotencyKey?: string;
}

/**
 * The checks every operator request shares (plus `extra`, the action's own), and its event id: derived from
 * the idempotency key when one is given (a repeat finds the first event), else new.
 */
export function validOperatorRequest(
  request: CancelRequest,
  kind: 'operator-retry' | 'operator-cancel' | 'operator-purge' | 'drift-check' | 'drift-repair',
  newId: () => string,
  extra: Violation[] = [],
): ValidOperatorRequest {
  const violations = [
    ...tenantViolations(request.tenantId),
    ...extra,
    ...reasonViolations(request.reason),
    ...operatorViolations(request.operator),
    ...idempotencyViolations(request.idempotencyKey),
  ];
  if (violations.length > 0) throw invalidRequest('invalid request', violations);
  const key = idempotencyKeyOf(request.idempotencyKey);
  return {
    tenantId: request.tenantId,
    operator: request.operator,
    reason: (request.reason as string).trim(),
    eventId: keyedEventId(kind, request.tenantId, request.operator, key, newId),
    ...(key ? { idempotencyKey: key } : {}),
  };
}

/**
 * The key of an Idempotency-Key header: the draft's sf-string (`"8e03978e-…"`) or, as clients sent it before,
 * the bare key; undefined when it is neither.
 */
export function idempotencyKeyOf(raw: unknown): string | undefined {
  if (typeof raw !== 'string') return undefined;
  const quoted = QUOTED_IDEMPOTENCY_KEY.exec(raw);
  if (quoted) return quoted[1];
  return IDEMPOTENCY_KEY_PATTERN.test(raw) ? raw : undefined;
}

/**
 * The event id of an operator request: derived from its Idempotency-Key within the scope of the operator, the
 * tenant and the action (a repeat finds the first event; another operator's same key is a request of its own),
 * else new.
 */
export function keyedEventId(
  kind: string,
  tenantId: string,
  operator: string,
  key: string | undefined,
  newId: () => string,
): string {
  return key ? deterministicId(kind, tenantId, operator, key) : newId();
}

export function stepViolations(step: unknown): Violation[] {
  return typeof step === 'string' && STEP_KEY_PATTERN.test(step)
    ? []
    : violation('step', 'matches', `step must match ${STEP_KEY_PATTERN}`);
}

export function operatorViolations(operator: unknown): Violation[] {
  return typeof operator === 'string' && OPERATOR_NAME_PATTERN.test(operator)
    ? []
    : violation('operator', 'matches', `operator name must match ${OPERATOR_NAME_PATTERN}`);
}

/** Errors of an operator request on a tenant that is missing or whose stream stays too busy. */
export function operatorErrors(tenantId: string) {
  return {
    notFound: () => new UseCaseError('OPERATION.TENANT_NOT_FOUND', `tenant ${tenantId} not found`),
    busy: () => new UseCaseError('OPERATION.CONCURRENCY_EXHAUSTED', `tenant ${tenantId} is too busy`),
  };
}

const OPERATOR_REFUSALS: RefusalCodes = {
  [REFUSAL_CODES.TENANT_NOT_FOUND]: 'OPERATION.TENANT_NOT_FOUND',
  [REFUSAL_CODES.STEP_NOT_RETRYABLE]: 'OPERATION.STEP_NOT_RETRYABLE',
  [REFUSAL_CODES.NOT_CANCELLABLE]: 'OPERATION.NOT_CANCELLABLE',
  [REFUSAL_CODES.NOT_IN_GRACE_PERIOD]: 'OPERATION.NOT_IN_GRACE_PERIOD',
  [REFUSAL_CODES.PURGE_ALREADY_REQUESTED]: 'OPERATION.PURGE_ALREADY_REQUESTED',
};

/**
 * The one event an admitted operator request appends, with its id and metadata (a new business request: it
 * starts its own correlation), or the lifecycle's refusal as an `OPERATION.*` error.
 */
export function operatorEvent(request: ValidOperatorRequest, admission: Admission, now: Date): EventData {
  if (isRefusal(admission)) throw refusalError(admission, OPERATOR_REFUSALS);
  const [event]: AdmittedEvent[] = admission.events;
  const { tenantId, eventId, operator } = request;
  return buildEvent(
    event.type,
    event.data,
    {
      tenantId,
      correlationId: deterministicId('operator-action', eventId),
      actor: operatorActor(operator),
    },
    eventId,
    now,
  );
}

/** A repeated Idempotency-Key must repeat the same request: another one under it is refused. */
export function assertSameRequest(
  earlier: RecordedEvent,
  type: string,
  expected: Record<string, unknown>,
): void {
  const recorded = earlier.data as Record<string, unknown>;
  const same =
    earlier.type === type && Object.entries(expected).every(([key, value]) => recorded[key] === value);
  if (!same) {
    throw new UseCaseError(
      'OPERATION.IDEMPOTENCY_KEY_REUSED',
      'this Idempotency-Key was already used for a different request',
    );
  }
}

function violation(field: string, rule: string, message: string): Violation[] {
  return [{ field, rules: [rule], messages: [message] }];
}

function tenantViolations(tenantId: unknown): Violation[] {
  return isTenantId(tenantId)
    ? []
    : violation('tenant_id', 'matches', 'tenant id must look like abc-corporation-7f3a9c');
}

function reasonViolations(reason: unknown): Violation[] {
  if (typeof reason !== 'string' || reason.trim().length === 0) {
    return violation('reason', 'isNotEmpty', 'reason is required');
  }
  if (reason.length > REASON_MAX_LENGTH) {
    return violation('reason', 'maxLength', `reason must be at most ${REASON_MAX_LENGTH} characters`);
  }
  return CONTROL_CHARACTERS.test(reason)
    ? violation('reason', 'noControlCharacters', 'reason must be a single line of text')
    : [];
}

export function idempotencyViolations(key: unknown): Violation[] {
  return key === undefined || idempotencyKeyOf(key) !== undefined
    ? []
    : violation(
        'idempotency_key',
        'matches',
        'Idempotency-Key must be a quoted string (RFC 8941) of 1-128 letters, digits, _ . : or -',
      );
}
