import type { Tier } from '@app/contracts';

export type IntakeSource = 'webhook' | 'bus';

export interface SubscriptionAccepted {
  tenantId: string;
  domain: string;
  /** `provisioning` for a new tenant, `reactivating` when the subscription revived a tenant in its grace period. */
  status: 'provisioning' | 'reactivating';
  /** Whether this delivery changed nothing because an earlier one of the same subscription already had. */
  duplicate: boolean;
}

export interface CancellationAccepted {
  tenantId: string;
  /**
   * Where the cancellation leads: `deprovisioning` (an active or suspended tenant enters its grace period, or is
   * already being deleted), `cancelling` (provisioning stops and rolls back, then the tenant is `cancelled`), or
   * `cancelled` (done: nothing was left to delete).
   */
  status: 'deprovisioning' | 'cancelling' | 'cancelled';
  deletionDate: string;
  /** Billing's `effective_date` as sent, when it sent one. */
  requestedEffectiveDate?: string;
  /** Why `deletionDate` is later than billing's `effective_date` (never before the end of the grace period). */
  clampedReason?: string;
  duplicate: boolean;
}

export interface TierChangeAccepted {
  tenantId: string;
  fromTier: Tier;
  toTier: Tier;
  /** `changing` when a TierChangeRequested was appended (or had been, for a duplicate); `unchanged` otherwise. */
  status: 'changing' | 'unchanged';
  duplicate: boolean;
}

export interface SuspensionAccepted {
  tenantId: string;
  /** The status the tenant is heading for. */
  status: 'suspended' | 'active';
  /** False when the tenant already was (or was already heading) there: nothing was appended. */
  changed: boolean;
  /**
   * Present (true) when the request was recorded behind an earlier suspension or resumption still being
   * applied: the orchestrator applies it once that one is done, in order.
   */
  queued?: true;
  duplicate: boolean;
}

export interface ReactivationAccepted {
  tenantId: string;
  status: 'reactivating';
  duplicate: boolean;
}

export interface IntakeOptions {
  /** 6 lowercase hex digits of a new tenant id; injectable so tests can force collisions. */
  randomSuffix: () => string;
}
