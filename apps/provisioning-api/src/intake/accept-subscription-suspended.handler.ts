import { validateSubscriptionSuspended } from '@app/contracts';
import { EVENT_STORE, type EventStore } from '@app/event-store';
import { admitSubscriptionSuspended } from '@app/lifecycle';
import { CLOCK, type Clock } from '@app/tenancy';
import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { AcceptSubscriptionSuspended } from './intake.commands';
import { validated } from './intake-events';
import type { SuspensionAccepted } from './intake.types';
import { changeWorkloads } from './workloads-change';

/** subscription.suspended (non-payment): workloads to zero and ingress off, data kept. */
@CommandHandler(AcceptSubscriptionSuspended)
export class AcceptSubscriptionSuspendedHandler implements ICommandHandler<AcceptSubscriptionSuspended> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async execute({ payload }: AcceptSubscriptionSuspended): Promise<SuspensionAccepted> {
    const { data, timestamp } = validated(validateSubscriptionSuspended(payload), 'subscription.suspended');
    const subscriptionId = data.subscription_id;
    const requested = { reason: data.reason ?? 'non-payment', requestedBy: 'billing' };
    return changeWorkloads(this.store, this.clock, {
      tenantId: data.tenant_id,
      subscriptionId,
      timestamp,
      kind: 'suspension',
      admit: (state) => admitSubscriptionSuspended(state, { subscriptionId, data: requested }),
    });
  }
}
