import { deterministicId, validateSubscriptionUpdated, type LifecycleEventData } from '@app/contracts';
import { EVENT_STORE, type EventStore } from '@app/event-store';
import { admitSubscriptionUpdated } from '@app/lifecycle';
import { CLOCK, type Clock } from '@app/tenancy';
import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { AcceptSubscriptionUpdated } from './intake.commands';
import { changeTenant, isoOf, validated } from './intake-events';
import type { TierChangeAccepted } from './intake.types';

/** subscription.updated with a tier: TierChangeRequested (quota recomputed and applied by the orchestrator). */
@CommandHandler(AcceptSubscriptionUpdated)
export class AcceptSubscriptionUpdatedHandler implements ICommandHandler<AcceptSubscriptionUpdated> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async execute({ payload }: AcceptSubscriptionUpdated): Promise<TierChangeAccepted> {
    const { data, timestamp } = validated(validateSubscriptionUpdated(payload), 'subscription.updated');
    const { tenant_id: tenantId, subscription_id: subscriptionId } = data;
    const toTier = data.plan.tier;
    return changeTenant<TierChangeAccepted>(this.store, this.clock, {
      tenantId,
      subscriptionId,
      eventId: deterministicId('tier-change-requested', subscriptionId, tenantId, isoOf(timestamp)),
      duplicateOf: (earlier) => {
        const recorded = earlier.data as LifecycleEventData['TierChangeRequested'];
        return {
          tenantId,
          fromTier: recorded.fromTier,
          toTier: recorded.toTier,
          status: 'changing',
          duplicate: true,
        };
      },
      decide: (state) => {
        const fromTier = state.tenant?.tier ?? toTier;
        return {
          admission: admitSubscriptionUpdated(state, { subscriptionId, toTier }),
          result: {
            tenantId,
            fromTier,
            toTier,
            status: fromTier === toTier ? 'unchanged' : 'changing',
            duplicate: false,
          },
        };
      },
    });
  }
}
