import { deterministicId, validateSubscriptionReactivated, type LifecycleEventData } from '@app/contracts';
import { EVENT_STORE, type EventStore } from '@app/event-store';
import { admitSubscriptionReactivated } from '@app/lifecycle';
import { CLOCK, type Clock } from '@app/tenancy';
import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { AcceptSubscriptionReactivated } from './intake.commands';
import { changeTenant, isoOf, validated } from './intake-events';
import type { ReactivationAccepted } from './intake.types';

/** subscription.reactivated: the cancelled subscription continues; allowed only during the grace period. */
@CommandHandler(AcceptSubscriptionReactivated)
export class AcceptSubscriptionReactivatedHandler implements ICommandHandler<AcceptSubscriptionReactivated> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async execute({ payload }: AcceptSubscriptionReactivated): Promise<ReactivationAccepted> {
    const { data, timestamp } = validated(
      validateSubscriptionReactivated(payload),
      'subscription.reactivated',
    );
    const { tenant_id: tenantId, subscription_id: subscriptionId } = data;
    return changeTenant<ReactivationAccepted>(this.store, this.clock, {
      tenantId,
      subscriptionId,
      eventId: deterministicId('tenant-reactivated', subscriptionId, tenantId, isoOf(timestamp)),
      duplicateOf: () => ({ tenantId, status: 'reactivating', duplicate: true }),
      decide: (state) => {
        const reactivated: LifecycleEventData['TenantReactivated'] = {
          subscriptionId,
          reactivatedAt: this.clock().toISOString(),
          requestedAt: isoOf(timestamp),
          requestedBy: 'billing',
        };
        return {
          admission: admitSubscriptionReactivated(state, { data: reactivated, checkSubscription: true }),
          result: { tenantId, status: 'reactivating', duplicate: false },
        };
      },
    });
  }
}
