import { validateSubscriptionResumed } from '@app/contracts';
import { EVENT_STORE, type EventStore } from '@app/event-store';
import { admitSubscriptionResumed } from '@app/lifecycle';
import { CLOCK, type Clock } from '@app/tenancy';
import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { AcceptSubscriptionResumed } from './intake.commands';
import { validated } from './intake-events';
import type { SuspensionAccepted } from './intake.types';
import { changeWorkloads } from './workloads-change';

/** subscription.resumed: workloads and ingress restored. */
@CommandHandler(AcceptSubscriptionResumed)
export class AcceptSubscriptionResumedHandler implements ICommandHandler<AcceptSubscriptionResumed> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async execute({ payload }: AcceptSubscriptionResumed): Promise<SuspensionAccepted> {
    const { data, timestamp } = validated(validateSubscriptionResumed(payload), 'subscription.resumed');
    const subscriptionId = data.subscription_id;
    return changeWorkloads(this.store, this.clock, {
      tenantId: data.tenant_id,
      subscriptionId,
      timestamp,
      kind: 'resumption',
      admit: (state) => admitSubscriptionResumed(state, { subscriptionId, data: { requestedBy: 'billing' } }),
    });
  }
}
