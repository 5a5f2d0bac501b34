import { buildEvent, deterministicId, type ValidationResult } from '@app/contracts';
import type { EventData, EventStore, RecordedEvent } from '@app/event-store';
import { isRefusal, REFUSAL_CODES, type Admission, type TenantState } from '@app/lifecycle';
import {
  decideOnTenant,
  earlierEvent,
  invalidRequest,
  refusalError,
  UseCaseError,
  type Clock,
  type RefusalCodes,
} from '@app/tenancy';

/* What every intake handler shares: validation, the event envelope, the errors, one decision on a tenant. */

const ACTOR = 'provisioning-api';

/** Billing's payload as its DTO, or every violated rule as `VALIDATION_FAILED`. */
export function validated<T>(validation: ValidationResult<T>, what: string): T {
  if (!validation.ok) throw invalidRequest(`invalid ${what}`, validation.violations);
  return validation.value;
}

export function billingEvent<T>(
  id: string,
  type: string,
  data: T,
  tenantId: string,
  /** The business request this event stems from: a subscription id, or a tagged one for cancellations. */
  correlation: string | readonly string[],
  now: Date,
): EventData<T> {
  const parts = typeof correlation === 'string' ? [correlation] : correlation;
  return buildEvent(
    type,
    data,
    { tenantId, correlationId: deterministicId('correlation', ...parts), actor: ACTOR },
    id,
    now,
  );
}

export function isoOf(timestamp: string): string {
  return new Date(timestamp).toISOString();
}

export function intakeErrors(tenantId: string) {
  return {
    notFound: () => new UseCaseError('INTAKE.TENANT_NOT_FOUND', `tenant ${tenantId} does not exist`),
    /** Every attempt lost its append to another writer of the tenant's stream. */
    busy: () => new UseCaseError('INTAKE.CONCURRENCY_EXHAUSTED', `tenant ${tenantId} is too busy`),
  };
}

export const INTAKE_REFUSALS: RefusalCodes = {
  [REFUSAL_CODES.TENANT_NOT_FOUND]: 'INTAKE.TENANT_NOT_FOUND',
  [REFUSAL_CODES.SUBSCRIPTION_MISMATCH]: 'INTAKE.SUBSCRIPTION_MISMATCH',
  [REFUSAL_CODES.TENANT_PURGED]: 'INTAKE.TENANT_PURGED',
  [REFUSAL_CODES.TENANT_NOT_ACTIVE]: 'INTAKE.TENANT_NOT_ACTIVE',
  [REFUSAL_CODES.CHANGE_IN_PROGRESS]: 'INTAKE.CHANGE_IN_PROGRESS',
  [REFUSAL_CODES.NOT_IN_GRACE_PERIOD]: 'INTAKE.NOT_IN_GRACE_PERIOD',
  [REFUSAL_CODES.NOT_CANCELLABLE]: 'INTAKE.TENANT_NOT_ACTIVE',
  [REFUSAL_CODES.STEP_NOT_RETRYABLE]: 'INTAKE.TENANT_NOT_ACTIVE',
  [REFUSAL_CODES.PURGE_ALREADY_REQUESTED]: 'INTAKE.TENANT_NOT_ACTIVE',
};

export interface BillingChange<R> {
  tenantId: string;
  subscriptionId: string;
  /** Deterministic: a redelivery finds the event its first delivery appended. */
  eventId: string;
  /** The answer to a redelivery, from the event it already wrote. */
  duplicateOf: (earlier: RecordedEvent) => R;
  /** The lifecycle's admission of the request, and the answer when admitted. */
  decide: (state: TenantState) => { admission: Admission; result: R };
}

/**
 * A billing change to an existing tenant: read it, answer a redelivery from the event it already wrote, admit
 * the request with the lifecycle's decider, append at the revision read (on a conflict, read and decide again).
 */
export function changeTenant<R>(store: EventStore, clock: Clock, change: BillingChange<R>): Promise<R> {
  const { tenantId, subscriptionId, eventId } = change;
  return decideOnTenant(store, tenantId, intakeErrors(tenantId), (read) => {
    const earlier = earlierEvent(read, eventId);
    if (earlier) return { append: [], result: change.duplicateOf(earlier) };
    const { admission, result } = change.decide(read.state);
    if (isRefusal(admission)) throw refusalError(admission, INTAKE_REFUSALS);
    const append = admission.events.map((event) =>
      billingEvent(eventId, event.type, event.data, tenantId, [event.type, subscriptionId], clock()),
    );
    return { append, result };
  });
}
