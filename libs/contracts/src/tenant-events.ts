import type {
  CommandFailedEvent,
  CommandSucceededEvent,
  CommandType,
  FailureReason,
  ResourceService,
  StepOutputs,
  TenantProfile,
} from './catalog';
import type { Message } from './envelope';
import type { Tier } from './tiers';

/**
 * The events of a tenant's streams besides command outcomes: the lifecycle events appended by intake, the
 * orchestrator and operators, and the events of the reservation streams.
 */

export interface LifecycleEventData {
  TenantRequested: { tenant: TenantProfile; source: 'webhook' | 'bus' };
  /** The orchestrator's decision to run a command; appended before dispatch (the stream is the outbox). */
  StepStarted: {
    step: string;
    commandId: string;
    commandType: CommandType;
    service: ResourceService;
    attempt: number;
    deadline: string;
    params: StepOutputs;
  };
  StepTimedOut: { step: string; commandId: string; deadline: string };
  RollbackStarted: { failedStep: string; reason: FailureReason };
  /** A compensation that failed for good: an operator must act (alert). */
  CompensationParked: { step: string; commandId: string; reason: FailureReason };
  /**
   * Work outside the rollback path (after activation, notices, purge) that failed for good: alert, the tenant
   * keeps its status.
   */
  StepParked: {
    step: string;
    commandId: string;
    reason: FailureReason;
    /** Set when the orchestrator retries by itself at that instant (purge steps); absent: an operator retries. */
    retryAt?: string;
  };
  TenantProvisioningFailed: { failedStep: string; reason: FailureReason; compensatedSteps: string[] };
  /**
   * A provisioning rolled back because its subscription was cancelled before activation: the end the customer
   * asked for, not a failure (nothing is left to purge: the rollback removed it).
   */
  ProvisioningCancelled: {
    subscriptionId: string;
    reason: string;
    compensatedSteps: string[];
    cancelledAt: string;
  };
  TenantActivated: { activatedAt: string };
  CancellationRequested: {
    subscriptionId: string;
    reason: string;
    requestedAt: string;
    deletionDate: string;
    requestedBy: string;
    /** Billing's `effective_date` exactly as sent (absent when it sent none, and on operator cancellations). */
    requestedEffectiveDate?: string;
    /** Why `deletionDate` is later than billing asked: never before the end of the grace period. */
    clampedReason?: string;
  };
  TenantReactivated: {
    subscriptionId: string;
    reactivatedAt: string;
    /** Billing's timestamp of the reactivating request: later cancellations must be newer (absent on early events). */
    requestedAt?: string;
    requestedBy: string;
  };
  BackupStarted: { backupId: string };
  BackupCompleted: { backupId: string; manifests: string[] };
  PurgeBlocked: { reason: FailureReason; retryAt: string };
  PurgeStarted: { backupId: string; startedAt: string };
  TenantPurged: { purgedAt: string };
  OperatorRetryRequested: { step: string; reason: string; operator: string };
  /**
   * An operator's request to purge a tenant in its grace period now instead of at its deletion date. The purge
   * still takes and verifies a final backup first, and the purge guardrails (hourly cap, breaker) still apply.
   */
  OperatorPurgeRequested: { reason: string; operator: string; requestedAt: string };
  TierChangeRequested: { fromTier: Tier; toTier: Tier; requestedBy: string };
  TierChanged: { fromTier: Tier; toTier: Tier };
  SuspensionRequested: { reason: string; requestedBy: string };
  ResumptionRequested: { requestedBy: string };
  /**
   * A security event: a resource service refused a command the orchestrator never decided (no `StepStarted`
   * with its id, or one of another type, step or params). Nothing was changed and no outcome recorded.
   */
  UndecidedCommandRefused: {
    commandId: string;
    commandType: CommandType;
    step: string;
    service: ResourceService;
    reason: string;
    refusedAt: string;
  };
  /**
   * A fresh provisioning run of a tenant whose last run failed and was rolled back: same tenant id, subscription
   * and domain, every step started anew; the earlier runs stay in the stream. `run` numbers the new run (the
   * first run is 1); `requestedBy` is `billing` (a repeated subscription.created) or `operator:<name>`.
   */
  ReprovisioningRequested: { run: number; reason: string; requestedBy: string; requestedAt: string };
  /**
   * A drift check of an active tenant: its resources verified again by the services' verify commands, under
   * step keys of its own (`drift-<check>:verify-<resource>`). `check` numbers the tenant's checks from 1;
   * `requestedBy` is `schedule` (with the schedule's `window`) or `operator:<name>`. It never changes the status.
   */
  DriftCheckRequested: { check: number; requestedBy: string; requestedAt: string; window?: number };
  /**
   * A verify command of a drift check failed: the resource no longer is as provisioned. `driftId` is
   * `<check>-<resource>`; `kind` classifies the failure (`DRIFT_KINDS`); `automatic` when every failed check is
   * of a kind declared safe to repair without an operator. `checks` are the verify's failed check names.
   */
  DriftDetected: {
    driftId: string;
    check: number;
    resource: string;
    step: string;
    code: string;
    message: string;
    checks: string[];
    kind: string;
    kinds: string[];
    automatic: boolean;
    detectedAt: string;
  };
  /** An operator approved the repair of a drift not repaired automatically (or repeated a failed one). */
  DriftRepairApproved: { driftId: string; reason: string; approvedBy: string; approvedAt: string };
  /**
   * The drift is closed: the verify command passed (`verifiedBy`, its step key) after the resource's provision
   * command ran again, or in a later check when someone put the resource back by hand.
   */
  DriftRepaired: { driftId: string; kind: string; verifiedBy: string; repairedAt: string };
  /** The repair or the verification after it failed: the drift stays open for an operator. */
  DriftRepairFailed: { driftId: string; kind: string; error: FailureReason; failedAt: string };
  /** Every verify command of the check settled: the drifts it found, and the resources it could not check. */
  DriftCheckCompleted: { check: number; drifts: string[]; inconclusive: string[]; completedAt: string };
  /** The tenant stopped being active (or another change began) during the check: its results are not used. */
  DriftCheckDropped: { check: number; reason: string; droppedAt: string };
  /**
   * The tenant's workloads to run another image tag (an OCI tag), as an operator or a fleet rollout
   * (`rolloutId`) asked: the orchestrator deploys the workloads with it (`image-tag-<seq>:workloads`), then
   * verifies the tenant (`image-tag-<seq>:verify`). Only for an active tenant, one change at a time.
   */
  ImageTagChangeRequested: {
    imageTag: string;
    reason: string;
    requestedBy: string;
    requestedAt: string;
    rolloutId?: string;
  };
}
export type LifecycleEventType = keyof LifecycleEventData;
export type LifecycleEvent<T extends LifecycleEventType = LifecycleEventType> = T extends LifecycleEventType
  ? Message<T, LifecycleEventData[T]>
  : never;

/** Every event that can appear in a tenant stream. */
export type TenantEvent = LifecycleEvent | CommandSucceededEvent | CommandFailedEvent;

/** Events of the reservation streams (`subscription-*`, `domain-*`, `customer-*`). */
export interface ReservationEventData {
  SubscriptionReserved: { subscriptionId: string; tenantId: string };
  DomainReserved: { domain: string; tenantId: string };
  CustomerTenantLinked: { tenantId: string; subscriptionId: string };
}
