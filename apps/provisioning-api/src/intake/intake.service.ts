import type { EventStore } from '@app/event-store';
import type {
  CancellationAccepted,
  IntakeOptions,
  IntakeSource,
  ReactivationAccepted,
  SubscriptionAccepted,
  SuspensionAccepted,
  TierChangeAccepted,
} from './intake.types';
import { SubscriptionChanges } from './subscription-changes';
import { SubscriptionCreation } from './subscription-creation';

export type * from './intake.types';

/**
 * Intake of billing's subscription events (spec 1.1, 1.2 and "Annulation Abonnement"), shared by the webhook and
 * the `billing.events` consumer: creation in `SubscriptionCreation`, changes to an existing tenant (admitted by
 * libs/lifecycle's deciders) in `SubscriptionChanges`.
 */
export class SubscriptionIntake {
  private readonly creation: SubscriptionCreation;
  private readonly changes: SubscriptionChanges;

  constructor(store: EventStore, options: IntakeOptions) {
    this.creation = new SubscriptionCreation(store, options);
    this.changes = new SubscriptionChanges(store, options);
  }

  acceptSubscriptionCreated(payload: unknown, source: IntakeSource): Promise<SubscriptionAccepted> {
    return this.creation.acceptSubscriptionCreated(payload, source);
  }

  acceptSubscriptionCancelled(payload: unknown, source: IntakeSource): Promise<CancellationAccepted> {
    return this.changes.acceptSubscriptionCancelled(payload, source);
  }

  acceptSubscriptionUpdated(payload: unknown, source: IntakeSource): Promise<TierChangeAccepted> {
    return this.changes.acceptSubscriptionUpdated(payload, source);
  }

  acceptSubscriptionSuspended(payload: unknown, source: IntakeSource): Promise<SuspensionAccepted> {
    return this.changes.acceptSubscriptionSuspended(payload, source);
  }

  acceptSubscriptionResumed(payload: unknown, source: IntakeSource): Promise<SuspensionAccepted> {
    return this.changes.acceptSubscriptionResumed(payload, source);
  }

  acceptSubscriptionReactivated(payload: unknown, source: IntakeSource): Promise<ReactivationAccepted> {
    return this.changes.acceptSubscriptionReactivated(payload, source);
  }
}
