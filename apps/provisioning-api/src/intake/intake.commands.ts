import { Command } from '@nestjs/cqrs';
import type {
  CancellationAccepted,
  IntakeSource,
  ReactivationAccepted,
  SubscriptionAccepted,
  SuspensionAccepted,
  TierChangeAccepted,
} from './intake.types';

/*
 * Billing's subscription events (spec 1.1, 1.2 and "Annulation Abonnement"), one command each, sent alike by
 * the webhooks and the `billing.events` consumer. The payload is billing's, as received: the handler validates.
 */

/** A billing event's payload as received, and the path it came by. */
export abstract class BillingCommand<R> extends Command<R> {
  constructor(
    readonly payload: unknown,
    readonly source: IntakeSource,
  ) {
    super();
  }
}

/** A new tenant, or the customer's tenant in its grace period reactivated. */
export class AcceptSubscriptionCreated extends BillingCommand<SubscriptionAccepted> {}

/** The grace period starts, then the deletion. */
export class AcceptSubscriptionCancelled extends BillingCommand<CancellationAccepted> {}

/** A new tier: quota and limits recomputed and applied. */
export class AcceptSubscriptionUpdated extends BillingCommand<TierChangeAccepted> {}

/** Non-payment: workloads to zero and ingress off, data kept. */
export class AcceptSubscriptionSuspended extends BillingCommand<SuspensionAccepted> {}

/** Workloads and ingress restored. */
export class AcceptSubscriptionResumed extends BillingCommand<SuspensionAccepted> {}

/** The cancelled subscription continues: allowed only during the grace period. */
export class AcceptSubscriptionReactivated extends BillingCommand<ReactivationAccepted> {}
