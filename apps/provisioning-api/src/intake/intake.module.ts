import { randomBytes } from 'node:crypto';
import { Module, type DynamicModule } from '@nestjs/common';
import { AcceptSubscriptionCancelledHandler } from './accept-subscription-cancelled.handler';
import { AcceptSubscriptionCreatedHandler } from './accept-subscription-created.handler';
import { AcceptSubscriptionReactivatedHandler } from './accept-subscription-reactivated.handler';
import { AcceptSubscriptionResumedHandler } from './accept-subscription-resumed.handler';
import { AcceptSubscriptionSuspendedHandler } from './accept-subscription-suspended.handler';
import { AcceptSubscriptionUpdatedHandler } from './accept-subscription-updated.handler';
import type { IntakeOptions } from './intake.types';
import { INTAKE_OPTIONS, SubscriptionReservations } from './subscription-reservations';

/**
 * Billing intake: one command handler per subscription event, on the event store, clock and grace period of
 * the (global) TenancyModule. The webhooks and the `billing.events` consumer reach them through the CommandBus.
 */
@Module({})
export class IntakeModule {
  static register(options: Partial<IntakeOptions> = {}): DynamicModule {
    const intake: IntakeOptions = {
      randomSuffix: options.randomSuffix ?? (() => randomBytes(3).toString('hex')),
    };
    return {
      module: IntakeModule,
      providers: [
        { provide: INTAKE_OPTIONS, useValue: intake },
        SubscriptionReservations,
        AcceptSubscriptionCreatedHandler,
        AcceptSubscriptionCancelledHandler,
        AcceptSubscriptionUpdatedHandler,
        AcceptSubscriptionSuspendedHandler,
        AcceptSubscriptionResumedHandler,
        AcceptSubscriptionReactivatedHandler,
      ],
    };
  }
}
