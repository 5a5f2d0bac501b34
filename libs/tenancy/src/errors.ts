import type { Violation } from '@app/contracts';
import type { LifecycleRefusal, RefusalCode } from '@app/lifecycle';

/**
 * Every code a use case of the API or tenantctl refuses a request with, and the HTTP status it answers. The
 * codes are the wire's (clients and the console match on them); the exception filter, the billing-bus consumer
 * and tenantctl each map them at their own edge.
 */
export const ERROR_STATUS = {
  /** Every violated rule of a request is in `violations`. */
  VALIDATION_FAILED: 400,

  'INTAKE.TENANT_NOT_FOUND': 404,
  'INTAKE.SUBSCRIPTION_MISMATCH': 409,
  'INTAKE.TENANT_PURGED': 409,
  'INTAKE.TENANT_ID_COLLISION': 409,
  'INTAKE.DOMAIN_EXHAUSTED': 409,
  /** The tenant's status does not allow the change (e.g. a tier change while in its grace period). */
  'INTAKE.TENANT_NOT_ACTIVE': 409,
  /** An earlier change of the same kind is still being applied; billing should retry later. */
  'INTAKE.CHANGE_IN_PROGRESS': 409,
  /** A reactivation for a tenant that is not in its grace period. */
  'INTAKE.NOT_IN_GRACE_PERIOD': 409,
  'INTAKE.CONCURRENCY_EXHAUSTED': 503,
  'INTAKE.TENANT_ID_EXHAUSTED': 503,

  'OPERATION.TENANT_NOT_FOUND': 404,
  'OPERATION.STEP_NOT_RETRYABLE': 409,
  'OPERATION.NOT_CANCELLABLE': 409,
  'OPERATION.NOT_IN_GRACE_PERIOD': 409,
  'OPERATION.PURGE_ALREADY_REQUESTED': 409,
  'OPERATION.IDEMPOTENCY_KEY_REUSED': 422,
  /** A request with the same Idempotency-Key is still being processed. */
  'OPERATION.IDEMPOTENCY_KEY_IN_FLIGHT': 409,
  'OPERATION.CONCURRENCY_EXHAUSTED': 503,

  'QUERY.INVALID_TENANT_ID': 400,
  'QUERY.TENANT_NOT_FOUND': 404,

  'GUARDRAIL.BREAKER_NOT_OPEN': 409,
  'GUARDRAIL.CONCURRENCY_EXHAUSTED': 503,

  /**
   * A signed webhook already accepted, sent again inside the tolerance window. 409, not 401: the credentials
   * are genuine, and a billing client that resends the same signed bytes after losing our answer learns that
   * the delivery arrived.
   */
  'WEBHOOK.REPLAYED': 409,

  'RECONCILIATION.NOT_FOUND': 404,
  'RECONCILIATION.ACTION_NOT_FOUND': 404,
  /** Another operator decided the action otherwise first. */
  'RECONCILIATION.ACTION_ALREADY_DECIDED': 409,
  /** The tenant's lifecycle refuses the action now, or the tenant no longer holds the subscription. */
  'RECONCILIATION.ACTION_REFUSED': 409,
  /** Billing's export URL answered an error or could not be reached. */
  'RECONCILIATION.SOURCE_UNAVAILABLE': 502,
  'RECONCILIATION.SOURCE_TOO_LARGE': 502,
  /** Billing's export is not JSON or CSV, or holds invalid records (each in `violations`). */
  'RECONCILIATION.SOURCE_INVALID': 502,
  'RECONCILIATION.SOURCE_TIMEOUT': 504,
  'RECONCILIATION.CONCURRENCY_EXHAUSTED': 503,

  /** Re-provisioning: only a tenant whose last run failed and whose rollback is complete. */
  'OPERATION.PROVISIONING_IN_PROGRESS': 409,
  'OPERATION.ROLLBACK_NOT_COMPLETE': 409,
  'OPERATION.TENANT_ACTIVE': 409,
  'OPERATION.TENANT_CANCELLED': 409,
  /** billing's repeated subscription.created while the failed run is still being rolled back: retry later. */
  'INTAKE.ROLLBACK_NOT_COMPLETE': 409,

  /** A what-if plan of a change the tenant's state does not admit now (the lifecycle's reason in the message). */
  'PLAN.NOT_ADMISSIBLE': 409,

  /** Drift: checks only on an active tenant, one at a time; approval of an open drift not already repairing. */
  'DRIFT.TENANT_NOT_ACTIVE': 409,
  'DRIFT.CHECK_IN_PROGRESS': 409,
  'DRIFT.NOT_FOUND': 404,
  'DRIFT.REPAIR_IN_PROGRESS': 409,

  /** Staged fleet rollouts. */
  'ROLLOUT.NOT_FOUND': 404,
  /** No active tenant matches the selection. */
  'ROLLOUT.NOTHING_SELECTED': 409,
  /** The rollout's status does not allow the action (pause a halted one, resume a running one...). */
  'ROLLOUT.ACTION_REFUSED': 409,
  'ROLLOUT.CONCURRENCY_EXHAUSTED': 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

/** A request a use case refuses: a stable code, the HTTP status of that code, and every violated rule. */
export class UseCaseError extends Error {
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly violations: Violation[] = [],
  ) {
    super(message);
    this.name = 'UseCaseError';
    this.status = ERROR_STATUS[code];
  }
}

/** A request whose fields break rules: every violation at once. */
export function invalidRequest(message: string, violations: Violation[]): UseCaseError {
  return new UseCaseError('VALIDATION_FAILED', message, violations);
}

/** Which code each of the lifecycle's refusals becomes on one side of the API (billing or operators). */
export type RefusalCodes = Readonly<Partial<Record<RefusalCode, ErrorCode>>>;

/** The lifecycle's refusal as a use-case error; a refusal the table does not expect is a bug, not a 4xx. */
export function refusalError(refusal: LifecycleRefusal, codes: RefusalCodes): UseCaseError {
  const code = codes[refusal.code];
  if (!code) throw new Error(`request refused with unexpected code ${refusal.code}: ${refusal.message}`);
  return new UseCaseError(code, refusal.message);
}
