import type {
  CommandType,
  FailureReason,
  ResourceService,
  StepOutputs,
  TenantProfile,
  Tier,
} from '@app/contracts';
import type { DriftState } from './drift-state';

export type TenantStatus =
  | 'requested'
  | 'provisioning'
  | 'rolling_back'
  | 'active'
  | 'failed'
  /** Cancelled before activation and rolled back: nothing is left to purge. */
  | 'cancelled'
  | 'deprovisioning'
  | 'purging'
  | 'purged'
  | 'suspended';

/** Status of one step's latest command. "Pending" is the absence of a record. */
export type RunStatus = 'running' | 'succeeded' | 'failed' | 'timed_out' | 'parked';

/** The per-step view the API and console show: the step's own command combined with its compensation. */
export type StepStatus =
  | 'pending'
  | 'running'
  | 'succeeded'
  | 'failed'
  | 'timed_out'
  | 'compensating'
  | 'compensated'
  | 'compensation_failed'
  | 'parked';

/**
 * What a step is for, which decides its failure policy: provision/verify failures roll the tenant back,
 * compensations are retried then parked, backups block the purge, purge steps park and retry later,
 * everything else (after-activation work, notices, quota and suspension changes) parks for an operator.
 */
export type StepKind =
  | 'provision'
  | 'verify'
  | 'after-activation'
  | 'compensation'
  | 'backup'
  | 'purge'
  | 'operation'
  /** A drift check's verification or repair of an active tenant (never changes its status). */
  | 'drift';

/** One step of the tenant's stream: its latest command and what is known of every earlier attempt. */
export interface StepState {
  /** Step key as carried by StepStarted and echoed by result events, e.g. `databases`, `purge:databases`. */
  step: string;
  kind: StepKind;
  commandType: CommandType;
  service: ResourceService;
  status: RunStatus;
  /** Command id of the latest attempt. */
  commandId: string;
  /** Number of the latest attempt, 1-based and never reused (it is part of the command id). */
  attempt: number;
  /** Attempts since the step was last reopened (after a park, an operator retry or a stale compensation). */
  roundAttempt: number;
  /** Every attempt's command id, so a late result of an earlier attempt is still recognised. */
  commandIds: string[];
  /** Command ids whose result was folded; a redelivered result is ignored. */
  settledCommandIds: string[];
  params: StepOutputs;
  startedAt: string;
  deadline: string;
  finishedAt?: string;
  outputs?: StepOutputs;
  error?: FailureReason;
  /** When a parked step is tried again without an operator (purge steps). */
  retryAt?: string;
  /** An operator asked for another attempt of this parked step. */
  retryRequested: boolean;
  /**
   * Compensations only: the step's own command reported after this compensation began, so the compensation
   * may have run before the resources it removes existed and must run again.
   */
  stale: boolean;
}

export interface RollbackState {
  failedStep: string;
  reason: FailureReason;
  startedAt: string;
}

export interface BackupState {
  /** 0 until the first BackupStarted; each blocked round is followed by a new one with a fresh backup id. */
  round: number;
  backupId?: string;
  /** When this round began: a round begun before the deletion date is followed by a final one then. */
  startedAt?: string;
  verified: boolean;
  manifests: string[];
  blockedUntil?: string;
  blockedReason?: FailureReason;
  /** An operator asked to retry the blocked backup now instead of at `blockedUntil`. */
  retryRequested: boolean;
}

/** One cancellation (a tenant can be cancelled, reactivated and cancelled again: each is a cycle). */
export interface CancellationState {
  cycle: number;
  subscriptionId: string;
  reason: string;
  requestedAt: string;
  requestedBy: string;
  deletionDate: string;
  /** When the cancellation entered the stream; the grace period counts from it if `requestedAt` is unusable. */
  cancelledAt: string;
  /** Cancelled before activation: the provisioning is rolled back instead of deprovisioned. */
  duringProvisioning: boolean;
  /** Status a reactivation returns to (a suspended tenant stays suspended). */
  resumeStatus: 'active' | 'suspended';
  backup: BackupState;
  reactivatedAt?: string;
  /** An operator asked to purge now rather than at the deletion date (the backup and guardrails still apply). */
  purgeRequested?: { operator: string; reason: string; requestedAt: string };
}

export interface ReactivationState {
  count: number;
  /** The cancellation cycle this reactivation ended. */
  cycle: number;
  subscriptionId: string;
  reactivatedAt: string;
  requestedBy: string;
}

export interface PurgeState {
  backupId: string;
  startedAt: string;
  purgedAt?: string;
}

export interface TierChangeState {
  seq: number;
  fromTier: Tier;
  toTier: Tier;
  requestedBy: string;
  outcome?: 'changed' | 'refused' | 'failed';
}

export type WorkloadsKind = 'suspend' | 'resume';

export interface WorkloadsOperationState {
  seq: number;
  kind: WorkloadsKind;
  outcome?: 'done' | 'failed';
}

/** One change of the workloads' image tag (see image-tag.ts). */
export interface ImageTagChangeState {
  seq: number;
  imageTag: string;
  requestedBy: string;
  /** The rollout that asked for it, if any. */
  rolloutId?: string;
  /** Id of the `ImageTagChangeRequested` event: how a rollout finds the change it asked for. */
  requestEventId: string;
  /** `applied` once the workloads run the tag and the tenant verified healthy; `failed` once a step parked. */
  outcome?: 'applied' | 'failed';
  error?: FailureReason;
}

/** A provisioning run that failed and was rolled back before the tenant was provisioned again. */
export interface FailedRunState {
  run: number;
  failedStep: string;
  reason: FailureReason;
  failedAt?: string;
  compensatedSteps: string[];
}

export interface TenantState {
  status: TenantStatus;
  tenant?: TenantProfile;
  /** The current run's steps: a re-provisioning starts with none. */
  steps: Readonly<Record<string, StepState>>;
  /** Number of the current provisioning run; absent on the first (see `provisioningRun`). */
  run?: number;
  /** The runs that failed before the current one, oldest first (their events stay in the stream). */
  failedRuns?: FailedRunState[];
  requestedAt?: string;
  activatedAt?: string;
  failedAt?: string;
  /** When a rollback caused by a cancellation before activation finished (status `cancelled`). */
  cancelledAt?: string;
  rollback?: RollbackState;
  /** Steps whose compensation succeeded, as reported by TenantProvisioningFailed or ProvisioningCancelled. */
  compensatedSteps?: string[];
  cancellation?: CancellationState;
  reactivation?: ReactivationState;
  purge?: PurgeState;
  tierChange?: TierChangeState;
  workloadsOperation?: WorkloadsOperationState;
  /**
   * A suspension or resumption asked while the opposite one is still being applied: it starts once that one
   * is done (requests are applied in order). Dropped when the pending one fails, since the workloads then
   * stay where this one would have taken them.
   */
  queuedWorkloads?: WorkloadsKind;
  /** Drift checks and the drifts still open (absent until the first check). */
  drift?: DriftState;
  /** The image tag the workloads were last deployed with by an image tag change (absent: the service's default). */
  imageTag?: string;
  /** Every image tag change, oldest first (a handful per tenant: one per rollout that reached it). */
  imageTagChanges?: ImageTagChangeState[];
  /** Number of events folded; the runtime appends with the matching expected revision. */
  revision: number;
}

/**
 * The status as reported to people (API, read model, console): the applied status, except that a tenant
 * whose suspension or resumption is asked but not yet applied is `suspending` or `resuming` (its workloads
 * are still up, or still down).
 */
export type ReportedStatus = TenantStatus | 'suspending' | 'resuming';

export function reportedStatus(state: TenantState): ReportedStatus {
  const op = state.workloadsOperation;
  if (op && !op.outcome && (state.status === 'active' || state.status === 'suspended')) {
    return op.kind === 'suspend' ? 'suspending' : 'resuming';
  }
  return state.status;
}

export function initialState(): TenantState {
  return { status: 'requested', steps: {}, revision: 0 };
}
