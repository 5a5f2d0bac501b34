import {
  deterministicId,
  resolveDeletionDate,
  tenantStream,
  validateSubscriptionCancelled,
  validateSubscriptionReactivated,
  validateSubscriptionResumed,
  validateSubscriptionSuspended,
  validateSubscriptionUpdated,
  type LifecycleEventData,
} from '@app/contracts';
import { decideAndAppend, type RecordedEvent, type StreamDecision } from '@app/event-store';
import {
  REFUSAL_CODES,
  admitSubscriptionCancelled,
  admitSubscriptionReactivated,
  admitSubscriptionResumed,
  admitSubscriptionSuspended,
  workloadsChangeQueued,
  admitSubscriptionUpdated,
  foldTenant,
  isRefusal,
  type Admission,
  type LifecycleRefusal,
  type TenantState,
} from '@app/lifecycle';
import { IntakeError, INTAKE_ERROR_CODES, type IntakeErrorCode } from './intake.errors';
import type {
  CancellationAccepted,
  IntakeSource,
  ReactivationAccepted,
  SuspensionAccepted,
  TierChangeAccepted,
} from './intake.types';
import { IntakeUseCase, isoOf, tooBusy } from './intake.use-case';

/**
 * Billing's changes to an existing tenant (spec 1.2 and "Annulation Abonnement"): each is admitted by the
 * tenant lifecycle's deciders on the state the orchestrator folds, and recorded with a deterministic event id
 * so a redelivery gets the answer of the first delivery.
 */
export class SubscriptionChanges extends IntakeUseCase {
  /** `_source` is accepted for symmetry with creation; a cancellation records `requestedBy: 'billing'` either way. */
  async acceptSubscriptionCancelled(payload: unknown, _source: IntakeSource): Promise<CancellationAccepted> {
    const validation = validateSubscriptionCancelled(payload);
    if (!validation.ok) {
      throw new IntakeError(
        INTAKE_ERROR_CODES.VALIDATION_FAILED,
        'invalid subscription.cancelled',
        validation.violations,
      );
    }
    const { data, timestamp } = validation.value;
    const stream = tenantStream(data.tenant_id);
    const requestedAt = new Date(timestamp).toISOString();
    // The billing timestamp tells a redelivery (same id) from a new cancellation of the same subscription
    // after a subscription.reactivated, which starts a new grace period.
    const eventId = deterministicId(
      'cancellation-requested',
      data.subscription_id,
      data.tenant_id,
      requestedAt,
    );
    return decideAndAppend(
      this.store,
      stream,
      async (): Promise<StreamDecision<CancellationAccepted>> => {
        const events = await this.readTenant(data.tenant_id);
        const state = events ? foldTenant(events) : undefined;
        if (!events || !state?.tenant) {
          throw new IntakeError(
            INTAKE_ERROR_CODES.TENANT_NOT_FOUND,
            `tenant ${data.tenant_id} does not exist`,
          );
        }
        const revision = events[events.length - 1].revision;
        const answer = (result: CancellationAccepted) => ({ append: [], expectedRevision: revision, result });
        const earlier = events.find((event) => event.id === eventId);
        if (earlier) {
          const cancelled = earlier.data as LifecycleEventData['CancellationRequested'];
          return answer(cancellationAnswer(data.tenant_id, cancelled, true));
        }
        // A past or too-near effective_date (a billing bug, a replayed message) never shortens the grace period.
        const deletion = resolveDeletionDate({
          receivedAt: this.now(),
          requestedAt,
          ...(data.effective_date === undefined ? {} : { effectiveDate: data.effective_date }),
          gracePeriodDays: this.options.gracePeriodDays,
        });
        const cancellation: LifecycleEventData['CancellationRequested'] = {
          subscriptionId: data.subscription_id,
          reason: data.cancellation_reason ?? 'unspecified',
          requestedAt,
          requestedBy: 'billing',
          ...deletion,
        };
        // Already cancelled (grace period, purge under way or done), or a cancellation no newer than the last
        // change billing made (delivered out of order, after the reactivation that undid it): nothing new to
        // record, and billing's retry gets the same answer.
        const admission = admitSubscriptionCancelled(state, {
          cancellation,
          newerThanLastChange: Date.parse(requestedAt) > lastBillingChange(events, data.subscription_id),
        });
        if (isRefusal(admission)) throw refusedBy(admission);
        if (admission.events.length === 0) {
          const latest = events.findLast((event) => event.type === 'CancellationRequested')
            ?.data as LifecycleEventData['CancellationRequested'];
          return answer(cancellationAnswer(data.tenant_id, latest, true));
        }
        return {
          append: [
            this.event(eventId, 'CancellationRequested', cancellation, data.tenant_id, [
              'cancellation',
              data.subscription_id,
            ]),
          ],
          expectedRevision: revision,
          result: cancellationAnswer(data.tenant_id, cancellation, false),
        };
      },
      { exhausted: () => tooBusy(data.tenant_id) },
    );
  }

  /** subscription.updated with a tier: TierChangeRequested (quota recomputed and applied by the orchestrator). */
  async acceptSubscriptionUpdated(payload: unknown, _source: IntakeSource): Promise<TierChangeAccepted> {
    const validation = validateSubscriptionUpdated(payload);
    if (!validation.ok) {
      throw new IntakeError(
        INTAKE_ERROR_CODES.VALIDATION_FAILED,
        'invalid subscription.updated',
        validation.violations,
      );
    }
    const { data, timestamp } = validation.value;
    const toTier = data.plan.tier;
    const eventId = deterministicId(
      'tier-change-requested',
      data.subscription_id,
      data.tenant_id,
      isoOf(timestamp),
    );
    return this.changeTenant<TierChangeAccepted>(
      data.tenant_id,
      data.subscription_id,
      eventId,
      (earlier) => {
        const { fromTier, toTier: recordedTier } = earlier.data as LifecycleEventData['TierChangeRequested'];
        return {
          tenantId: data.tenant_id,
          fromTier,
          toTier: recordedTier,
          status: 'changing',
          duplicate: true,
        };
      },
      (state) => {
        const admission = admitSubscriptionUpdated(state, { subscriptionId: data.subscription_id, toTier });
        const fromTier = state.tenant?.tier ?? toTier;
        return {
          admission,
          result: {
            tenantId: data.tenant_id,
            fromTier,
            toTier,
            status: fromTier === toTier ? 'unchanged' : 'changing',
            duplicate: false,
          },
        };
      },
    );
  }

  /** subscription.suspended (non-payment): workloads to zero and ingress off, data kept. */
  async acceptSubscriptionSuspended(payload: unknown, _source: IntakeSource): Promise<SuspensionAccepted> {
    const validation = validateSubscriptionSuspended(payload);
    if (!validation.ok) {
      throw new IntakeError(
        INTAKE_ERROR_CODES.VALIDATION_FAILED,
        'invalid subscription.suspended',
        validation.violations,
      );
    }
    const { data, timestamp } = validation.value;
    const requested: LifecycleEventData['SuspensionRequested'] = {
      reason: data.reason ?? 'non-payment',
      requestedBy: 'billing',
    };
    const subscriptionId = data.subscription_id;
    return this.changeWorkloads(
      data.tenant_id,
      subscriptionId,
      timestamp,
      (state) => admitSubscriptionSuspended(state, { subscriptionId, data: requested }),
      'suspension',
    );
  }

  /** subscription.resumed: workloads and ingress restored. */
  async acceptSubscriptionResumed(payload: unknown, _source: IntakeSource): Promise<SuspensionAccepted> {
    const validation = validateSubscriptionResumed(payload);
    if (!validation.ok) {
      throw new IntakeError(
        INTAKE_ERROR_CODES.VALIDATION_FAILED,
        'invalid subscription.resumed',
        validation.violations,
      );
    }
    const { data, timestamp } = validation.value;
    const requested: LifecycleEventData['ResumptionRequested'] = { requestedBy: 'billing' };
    const subscriptionId = data.subscription_id;
    return this.changeWorkloads(
      data.tenant_id,
      subscriptionId,
      timestamp,
      (state) => admitSubscriptionResumed(state, { subscriptionId, data: requested }),
      'resumption',
    );
  }

  /** subscription.reactivated: the cancelled subscription continues; allowed only during the grace period. */
  async acceptSubscriptionReactivated(
    payload: unknown,
    _source: IntakeSource,
  ): Promise<ReactivationAccepted> {
    const validation = validateSubscriptionReactivated(payload);
    if (!validation.ok) {
      throw new IntakeError(
        INTAKE_ERROR_CODES.VALIDATION_FAILED,
        'invalid subscription.reactivated',
        validation.violations,
      );
    }
    const { data, timestamp } = validation.value;
    const tenantId = data.tenant_id;
    const eventId = deterministicId('tenant-reactivated', data.subscription_id, tenantId, isoOf(timestamp));
    return this.changeTenant<ReactivationAccepted>(
      tenantId,
      data.subscription_id,
      eventId,
      () => ({ tenantId, status: 'reactivating', duplicate: true }),
      (state) => {
        const reactivated: LifecycleEventData['TenantReactivated'] = {
          subscriptionId: data.subscription_id,
          reactivatedAt: this.now().toISOString(),
          requestedAt: isoOf(timestamp),
          requestedBy: 'billing',
        };
        return {
          admission: admitSubscriptionReactivated(state, { data: reactivated, checkSubscription: true }),
          result: { tenantId, status: 'reactivating', duplicate: false },
        };
      },
    );
  }

  // -------------------------------------------------------------------------------------------------------

  private changeWorkloads(
    tenantId: string,
    subscriptionId: string,
    timestamp: string,
    admit: (state: TenantState) => Admission,
    kind: 'suspension' | 'resumption',
  ): Promise<SuspensionAccepted> {
    const target = kind === 'suspension' ? 'suspended' : 'active';
    const eventId = deterministicId(`${kind}-requested`, subscriptionId, tenantId, isoOf(timestamp));
    return this.changeTenant<SuspensionAccepted>(
      tenantId,
      subscriptionId,
      eventId,
      () => ({ tenantId, status: target, changed: true, duplicate: true }),
      (state) => {
        const admission = admit(state);
        const changed = !isRefusal(admission) && admission.events.length > 0;
        const queued = changed && workloadsChangeQueued(state) ? { queued: true as const } : {};
        return { admission, result: { tenantId, status: target, changed, ...queued, duplicate: false } };
      },
    );
  }

  /**
   * Read the tenant, answer a redelivery from the event it already wrote, admit the request with the
   * lifecycle's decider, append at the revision read; on a conflict read and decide again (CONVENTIONS.md 4).
   */
  private async changeTenant<R>(
    tenantId: string,
    subscriptionId: string,
    eventId: string,
    duplicateOf: (earlier: RecordedEvent) => R,
    decideOn: (state: TenantState) => { admission: Admission; result: R },
  ): Promise<R> {
    return decideAndAppend(
      this.store,
      tenantStream(tenantId),
      async () => {
        const events = await this.readTenant(tenantId);
        const state = events ? foldTenant(events) : undefined;
        if (!events || !state?.tenant) {
          throw new IntakeError(INTAKE_ERROR_CODES.TENANT_NOT_FOUND, `tenant ${tenantId} does not exist`);
        }
        const revision = events[events.length - 1].revision;
        const earlier = events.find((event) => event.id === eventId);
        if (earlier) return { append: [], expectedRevision: revision, result: duplicateOf(earlier) };
        const { admission, result } = decideOn(state);
        if (isRefusal(admission)) throw refusedBy(admission);
        const append = admission.events.map((event) =>
          this.event(eventId, event.type, event.data, tenantId, [event.type, subscriptionId]),
        );
        return { append, expectedRevision: revision, result };
      },
      { exhausted: () => tooBusy(tenantId) },
    );
  }
}

const REFUSAL_ERRORS: Record<LifecycleRefusal['code'], IntakeErrorCode> = {
  [REFUSAL_CODES.TENANT_NOT_FOUND]: INTAKE_ERROR_CODES.TENANT_NOT_FOUND,
  [REFUSAL_CODES.SUBSCRIPTION_MISMATCH]: INTAKE_ERROR_CODES.SUBSCRIPTION_MISMATCH,
  [REFUSAL_CODES.TENANT_PURGED]: INTAKE_ERROR_CODES.TENANT_PURGED,
  [REFUSAL_CODES.TENANT_NOT_ACTIVE]: INTAKE_ERROR_CODES.TENANT_NOT_ACTIVE,
  [REFUSAL_CODES.CHANGE_IN_PROGRESS]: INTAKE_ERROR_CODES.CHANGE_IN_PROGRESS,
  [REFUSAL_CODES.NOT_IN_GRACE_PERIOD]: INTAKE_ERROR_CODES.NOT_IN_GRACE_PERIOD,
  [REFUSAL_CODES.NOT_CANCELLABLE]: INTAKE_ERROR_CODES.TENANT_NOT_ACTIVE,
  [REFUSAL_CODES.STEP_NOT_RETRYABLE]: INTAKE_ERROR_CODES.TENANT_NOT_ACTIVE,
  [REFUSAL_CODES.PURGE_ALREADY_REQUESTED]: INTAKE_ERROR_CODES.TENANT_NOT_ACTIVE,
};

/** The lifecycle's refusal as intake's error (mapped to HTTP or a parked message at the edge). */
function refusedBy(refusal: LifecycleRefusal): IntakeError {
  return new IntakeError(REFUSAL_ERRORS[refusal.code], refusal.message);
}

/** Billing's timestamp of the latest cancellation or reactivation of a subscription (epoch ms, 0 if none). */
function lastBillingChange(events: RecordedEvent[], subscriptionId: string): number {
  let latest = 0;
  for (const event of events) {
    if (event.type !== 'CancellationRequested' && event.type !== 'TenantReactivated') continue;
    // Only billing's own: an operator's cancellation carries the server's clock, not billing's.
    const data = event.data as { subscriptionId?: string; requestedAt?: string; requestedBy?: string };
    if (data.requestedBy !== 'billing' || data.subscriptionId !== subscriptionId || !data.requestedAt)
      continue;
    latest = Math.max(latest, Date.parse(data.requestedAt));
  }
  return latest;
}

/** The answer to a cancellation, the same for its first delivery and every repeat: what the stream recorded. */
function cancellationAnswer(
  tenantId: string,
  recorded: LifecycleEventData['CancellationRequested'],
  duplicate: boolean,
): CancellationAccepted {
  return {
    tenantId,
    deletionDate: recorded.deletionDate,
    ...(recorded.requestedEffectiveDate === undefined
      ? {}
      : { requestedEffectiveDate: recorded.requestedEffectiveDate }),
    ...(recorded.clampedReason === undefined ? {} : { clampedReason: recorded.clampedReason }),
    duplicate,
  };
}
