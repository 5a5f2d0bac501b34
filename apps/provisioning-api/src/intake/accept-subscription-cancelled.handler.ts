import {
  deterministicId,
  resolveDeletionDate,
  validateSubscriptionCancelled,
  type LifecycleEventData,
} from '@app/contracts';
import { EVENT_STORE, type EventStore, type RecordedEvent } from '@app/event-store';
import { admitSubscriptionCancelled, isRefusal, type TenantStatus } from '@app/lifecycle';
import {
  CLOCK,
  decideOnTenant,
  earlierEvent,
  refusalError,
  TENANCY_OPTIONS,
  type Clock,
  type TenancyOptions,
} from '@app/tenancy';
import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { AcceptSubscriptionCancelled } from './intake.commands';
import { billingEvent, INTAKE_REFUSALS, intakeErrors, validated } from './intake-events';
import type { CancellationAccepted } from './intake.types';

/**
 * subscription.cancelled: `CancellationRequested`, the deletion date never before the end of the grace period.
 * A redelivery (same billing timestamp) gets the answer of the first delivery; a cancellation no newer than
 * billing's last change, or of a tenant already cancelled, records nothing and gets the recorded answer.
 */
@CommandHandler(AcceptSubscriptionCancelled)
export class AcceptSubscriptionCancelledHandler implements ICommandHandler<AcceptSubscriptionCancelled> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(TENANCY_OPTIONS) private readonly options: TenancyOptions,
  ) {}

  async execute({ payload }: AcceptSubscriptionCancelled): Promise<CancellationAccepted> {
    const { data, timestamp } = validated(validateSubscriptionCancelled(payload), 'subscription.cancelled');
    const tenantId = data.tenant_id;
    const requestedAt = new Date(timestamp).toISOString();
    // The billing timestamp tells a redelivery (same id) from a new cancellation of the same subscription
    // after a subscription.reactivated, which starts a new grace period.
    const eventId = deterministicId('cancellation-requested', data.subscription_id, tenantId, requestedAt);
    return decideOnTenant(this.store, tenantId, intakeErrors(tenantId), (read) => {
      const earlier = earlierEvent(read, eventId);
      if (earlier) {
        const recorded = earlier.data as LifecycleEventData['CancellationRequested'];
        return { append: [], result: cancellationAnswer(tenantId, read.state.status, recorded, true) };
      }
      // A past or too-near effective_date (a billing bug, a replayed message) never shortens the grace period.
      const deletion = resolveDeletionDate({
        receivedAt: this.clock(),
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
      const admission = admitSubscriptionCancelled(read.state, {
        cancellation,
        newerThanLastChange: Date.parse(requestedAt) > lastBillingChange(read.events, data.subscription_id),
      });
      if (isRefusal(admission)) throw refusalError(admission, INTAKE_REFUSALS);
      if (admission.events.length === 0) {
        const latest = read.events.findLast((event) => event.type === 'CancellationRequested')
          ?.data as LifecycleEventData['CancellationRequested'];
        return { append: [], result: cancellationAnswer(tenantId, read.state.status, latest, true) };
      }
      const correlation = ['cancellation', data.subscription_id];
      return {
        append: [
          billingEvent(eventId, 'CancellationRequested', cancellation, tenantId, correlation, this.clock()),
        ],
        result: cancellationAnswer(tenantId, read.state.status, cancellation, false),
      };
    });
  }
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

/** Where a cancellation of a tenant in `status` leads (see `CancellationAccepted.status`). */
function cancellationStatus(status: TenantStatus): CancellationAccepted['status'] {
  if (status === 'cancelled') return 'cancelled';
  if (status === 'requested' || status === 'provisioning' || status === 'rolling_back' || status === 'failed')
    return 'cancelling';
  return 'deprovisioning';
}

/** The answer to a cancellation, the same for its first delivery and every repeat: what the stream recorded. */
function cancellationAnswer(
  tenantId: string,
  status: TenantStatus,
  recorded: LifecycleEventData['CancellationRequested'],
  duplicate: boolean,
): CancellationAccepted {
  return {
    tenantId,
    status: cancellationStatus(status),
    deletionDate: recorded.deletionDate,
    ...(recorded.requestedEffectiveDate === undefined
      ? {}
      : { requestedEffectiveDate: recorded.requestedEffectiveDate }),
    ...(recorded.clampedReason === undefined ? {} : { clampedReason: recorded.clampedReason }),
    duplicate,
  };
}
