import type { LifecycleEventData, TenantEvent, Tier } from '@app/contracts';
import { takesCancellation } from './cancellation';
import { backupKey, workloadsOperationKey, workloadsOperationKind, type BackupWork } from './dag';
import { evolve } from './evolve';
import { provisioningRun, reprovisionBlock, type ReprovisionBlock } from './reprovisioning';
import { initialState, type TenantState, type TenantStatus } from './state';

/*
 * Admission of outside requests (billing events, operator actions): pure deciders over the tenant's state as
 * the orchestrator folds it, so the API accepts exactly what the orchestrator will act on. Each returns the
 * events to append (none when the request changes nothing) or a refusal with a stable code.
 */

export const REFUSAL_CODES = {
  TENANT_NOT_FOUND: 'TENANT_NOT_FOUND',
  SUBSCRIPTION_MISMATCH: 'SUBSCRIPTION_MISMATCH',
  TENANT_PURGED: 'TENANT_PURGED',
  /** The tenant's status does not allow the change (a tier change during the grace period...). */
  TENANT_NOT_ACTIVE: 'TENANT_NOT_ACTIVE',
  /** An earlier tier change is still being applied and the orchestrator would ignore this one. */
  CHANGE_IN_PROGRESS: 'CHANGE_IN_PROGRESS',
  NOT_IN_GRACE_PERIOD: 'NOT_IN_GRACE_PERIOD',
  NOT_CANCELLABLE: 'NOT_CANCELLABLE',
  STEP_NOT_RETRYABLE: 'STEP_NOT_RETRYABLE',
  PURGE_ALREADY_REQUESTED: 'PURGE_ALREADY_REQUESTED',
  /** Re-provisioning: the run is still going, its rollback is not complete, the tenant is up, or cancelled. */
  PROVISIONING_IN_PROGRESS: 'PROVISIONING_IN_PROGRESS',
  ROLLBACK_NOT_COMPLETE: 'ROLLBACK_NOT_COMPLETE',
  TENANT_ACTIVE: 'TENANT_ACTIVE',
  TENANT_CANCELLED: 'TENANT_CANCELLED',
  /** Drift: a check is already running, the drift is unknown or closed, its repair already runs or may run. */
  DRIFT_CHECK_IN_PROGRESS: 'DRIFT_CHECK_IN_PROGRESS',
  DRIFT_NOT_FOUND: 'DRIFT_NOT_FOUND',
  DRIFT_REPAIR_IN_PROGRESS: 'DRIFT_REPAIR_IN_PROGRESS',
  /** An image tag that is not an OCI tag. */
  INVALID_IMAGE_TAG: 'INVALID_IMAGE_TAG',
} as const;
export type RefusalCode = (typeof REFUSAL_CODES)[keyof typeof REFUSAL_CODES];

/** A request the tenant's lifecycle refuses; the apps map the code to their own answer at their edge. */
export class LifecycleRefusal extends Error {
  constructor(
    readonly code: RefusalCode,
    message: string,
  ) {
    super(message);
    this.name = 'LifecycleRefusal';
  }
}

/** An event an admitted request appends (the caller adds its id and metadata). */
export type AdmittedEvent = {
  [K in keyof LifecycleEventData]: { type: K; data: LifecycleEventData[K] };
}[keyof LifecycleEventData];

export type Admission = { events: AdmittedEvent[] } | LifecycleRefusal;

export function isRefusal(admission: Admission): admission is LifecycleRefusal {
  return admission instanceof LifecycleRefusal;
}

/** The tenant state of a stream as read, with the orchestrator's own fold. */
export function foldTenant(
  events: readonly { type: string; data: unknown; metadata: Readonly<Record<string, unknown>> }[],
): TenantState {
  return events.reduce((state, event) => evolve(state, event as unknown as TenantEvent), initialState());
}

/** The subscription billing now speaks for: the one that created the tenant, or the last that revived it. */
export function currentSubscription(state: TenantState): string | undefined {
  return state.reactivation?.subscriptionId ?? state.tenant?.subscriptionId;
}

/**
 * Where the tenant's workloads are heading: the target of the last suspension or resumption in line (the
 * queued one, else the pending one), else its status.
 */
export function workloadsTarget(state: TenantState): TenantStatus {
  const op = state.workloadsOperation;
  if (op && !op.outcome && (state.status === 'active' || state.status === 'suspended')) {
    return (state.queuedWorkloads ?? op.kind) === 'suspend' ? 'suspended' : 'active';
  }
  return state.status;
}

/** Whether a suspension or resumption admitted now waits behind one still being applied. */
export function workloadsChangeQueued(state: TenantState): boolean {
  const op = state.workloadsOperation;
  return op !== undefined && !op.outcome && (state.status === 'active' || state.status === 'suspended');
}

function tenantIdOf(state: TenantState): string {
  return state.tenant?.tenantId ?? 'unknown';
}

function refuse(code: RefusalCode, message: string): LifecycleRefusal {
  return new LifecycleRefusal(code, message);
}

/** The checks every billing change shares: the tenant exists, the subscription is its own, it is not purged. */
function billingChange(state: TenantState, subscriptionId: string): LifecycleRefusal | undefined {
  const tenantId = tenantIdOf(state);
  if (!state.tenant) return refuse(REFUSAL_CODES.TENANT_NOT_FOUND, `tenant does not exist`);
  if (currentSubscription(state) !== subscriptionId) {
    return refuse(
      REFUSAL_CODES.SUBSCRIPTION_MISMATCH,
      `subscription ${subscriptionId} is not the current subscription of tenant ${tenantId}`,
    );
  }
  if (state.status === 'purged') return refuse(REFUSAL_CODES.TENANT_PURGED, `tenant ${tenantId} was deleted`);
  return undefined;
}

function requireStatus(
  state: TenantState,
  status: TenantStatus,
  allowed: readonly TenantStatus[],
  action: string,
): LifecycleRefusal | undefined {
  if (allowed.includes(status)) return undefined;
  return refuse(
    REFUSAL_CODES.TENANT_NOT_ACTIVE,
    `tenant ${tenantIdOf(state)} is ${status}: cannot ${action} (needs ${allowed.join(' or ')})`,
  );
}

// ---------------------------------------------------------------------------------------------------------
// Billing

/**
 * subscription.cancelled: none when the tenant takes no cancellation now (already cancelled, in its grace period,
 * purged; a redelivery gets the recorded answer), or when the cancellation is no newer than billing's last
 * change of a tenant cancelled before (it was delivered out of order, after the reactivation that undid it).
 * A tenant never activated takes it too, even once failed or rolling back: it ends `cancelled`.
 */
export function admitSubscriptionCancelled(
  state: TenantState,
  request: { cancellation: LifecycleEventData['CancellationRequested']; newerThanLastChange: boolean },
): Admission {
  if (!state.tenant) return refuse(REFUSAL_CODES.TENANT_NOT_FOUND, 'tenant does not exist');
  const { cancellation } = request;
  if (currentSubscription(state) !== cancellation.subscriptionId) {
    return refuse(
      REFUSAL_CODES.SUBSCRIPTION_MISMATCH,
      `subscription ${cancellation.subscriptionId} is not the current subscription of tenant ${tenantIdOf(state)}`,
    );
  }
  if (!takesCancellation(state) || (state.cancellation && !request.newerThanLastChange))
    return { events: [] };
  return { events: [{ type: 'CancellationRequested', data: cancellation }] };
}

/** subscription.updated with a tier: a TierChangeRequested, none when the tier is already the one asked. */
export function admitSubscriptionUpdated(
  state: TenantState,
  request: { subscriptionId: string; toTier: Tier },
): Admission {
  const refused =
    billingChange(state, request.subscriptionId) ??
    requireStatus(state, state.status, ['active'], 'change tier');
  if (refused) return refused;
  const tier = state.tierChange;
  if (tier && !tier.outcome) {
    return refuse(
      REFUSAL_CODES.CHANGE_IN_PROGRESS,
      `an earlier tier change of tenant ${tenantIdOf(state)} is still being applied`,
    );
  }
  const fromTier = state.tenant!.tier;
  if (fromTier === request.toTier) return { events: [] };
  return {
    events: [
      { type: 'TierChangeRequested', data: { fromTier, toTier: request.toTier, requestedBy: 'billing' } },
    ],
  };
}

function admitWorkloadsChange(
  state: TenantState,
  subscriptionId: string,
  kind: 'suspend' | 'resume',
  event: AdmittedEvent,
): Admission {
  const target = workloadsTarget(state);
  const refused =
    billingChange(state, subscriptionId) ??
    requireStatus(state, target, ['active', 'suspended'], kind === 'suspend' ? 'suspend' : 'resume');
  if (refused) return refused;
  // One still being applied does not refuse this one: it queues in the stream (see workloadsChangeQueued).
  if (target === (kind === 'suspend' ? 'suspended' : 'active')) return { events: [] };
  return { events: [event] };
}

/** subscription.suspended: workloads to zero and ingress off, data kept. */
export function admitSubscriptionSuspended(
  state: TenantState,
  request: { subscriptionId: string; data: LifecycleEventData['SuspensionRequested'] },
): Admission {
  return admitWorkloadsChange(state, request.subscriptionId, 'suspend', {
    type: 'SuspensionRequested',
    data: request.data,
  });
}

/** subscription.resumed: workloads and ingress restored. */
export function admitSubscriptionResumed(
  state: TenantState,
  request: { subscriptionId: string; data: LifecycleEventData['ResumptionRequested'] },
): Admission {
  return admitWorkloadsChange(state, request.subscriptionId, 'resume', {
    type: 'ResumptionRequested',
    data: request.data,
  });
}

/** subscription.reactivated (or a new subscription of the same customer): only during the grace period. */
export function admitSubscriptionReactivated(
  state: TenantState,
  request: { data: LifecycleEventData['TenantReactivated']; checkSubscription: boolean },
): Admission {
  const tenantId = tenantIdOf(state);
  if (!state.tenant) return refuse(REFUSAL_CODES.TENANT_NOT_FOUND, 'tenant does not exist');
  if (request.checkSubscription) {
    const refused = billingChange(state, request.data.subscriptionId);
    if (refused) return refused;
  }
  if (state.status !== 'deprovisioning') {
    const purging = state.status === 'purging' || state.status === 'purged';
    return refuse(
      purging ? REFUSAL_CODES.TENANT_PURGED : REFUSAL_CODES.NOT_IN_GRACE_PERIOD,
      `tenant ${tenantId} is ${purging ? 'being deleted' : state.status}: only a tenant in its grace period can be reactivated`,
    );
  }
  return { events: [{ type: 'TenantReactivated', data: request.data }] };
}

// ---------------------------------------------------------------------------------------------------------
// Operators

/** An operator's cancellation: the grace period starts now; only an active or suspended tenant. */
export function admitOperatorCancel(
  state: TenantState,
  request: Omit<LifecycleEventData['CancellationRequested'], 'subscriptionId'>,
): Admission {
  if (state.status !== 'active' && state.status !== 'suspended') {
    return refuse(
      REFUSAL_CODES.NOT_CANCELLABLE,
      `tenant ${tenantIdOf(state)} is ${state.status}: only an active or suspended tenant can be cancelled`,
    );
  }
  const subscriptionId = currentSubscription(state) ?? '';
  return { events: [{ type: 'CancellationRequested', data: { ...request, subscriptionId } }] };
}

/** An operator's early purge: during the grace period, once per cancellation. */
export function admitOperatorPurge(
  state: TenantState,
  request: LifecycleEventData['OperatorPurgeRequested'],
): Admission {
  const tenantId = tenantIdOf(state);
  const cancellation = state.cancellation;
  if (state.status !== 'deprovisioning' || !cancellation) {
    const shown = state.status === 'purging' ? 'being purged' : state.status;
    return refuse(
      REFUSAL_CODES.NOT_IN_GRACE_PERIOD,
      `tenant ${tenantId} is ${shown}: only a tenant in its grace period (cancelled, purge not started) can be purged early`,
    );
  }
  const pending = cancellation.purgeRequested;
  if (pending) {
    return refuse(
      REFUSAL_CODES.PURGE_ALREADY_REQUESTED,
      `operator ${pending.operator} already requested the purge of tenant ${tenantId} at ${pending.requestedAt}`,
    );
  }
  return { events: [{ type: 'OperatorPurgeRequested', data: request }] };
}

/** The orchestrator's name for "retry the blocked backup round" (any key of that round works too). */
export const BACKUP_RETRY_STEP = 'backup';
const BACKUP_WORK: readonly BackupWork[] = ['databases', 'storage', 'verify-databases', 'verify-storage'];

/** Keys of the backup round a `PurgeBlocked` holds back, or undefined when no backup is blocked now. */
export function blockedBackupKeys(state: TenantState): string[] | undefined {
  const cancellation = state.cancellation;
  if (state.status !== 'deprovisioning' || !cancellation?.backup.blockedUntil) return undefined;
  const { cycle } = cancellation;
  const { round } = cancellation.backup;
  const keys = BACKUP_WORK.map((work) => backupKey(cycle, round, work)).filter((key) => state.steps[key]);
  return [BACKUP_RETRY_STEP, ...keys];
}

/** Steps waiting for an operator's retry: parked steps, plus the blocked backup round's keys. */
export function retryableSteps(state: TenantState): string[] {
  const parked = Object.values(state.steps)
    .filter((step) => step.status === 'parked' && !supersededWorkloads(state, step.step))
    .map((step) => step.step);
  return [...parked, ...(blockedBackupKeys(state) ?? [])];
}

/** A suspension or resumption parked before a later one was asked: running it now would undo the later one. */
function supersededWorkloads(state: TenantState, step: string): boolean {
  const op = state.workloadsOperation;
  return (
    workloadsOperationKind(step) !== undefined && (!op || step !== workloadsOperationKey(op.seq, op.kind))
  );
}

/** Why a parked step's retry is not asked twice: the orchestrator has not started the one asked yet. */
function retryPending(state: TenantState, step: string): string | undefined {
  const run = state.steps[step];
  if (run?.status !== 'parked' || !run.retryRequested) return undefined;
  return `a retry of step ${step} is already requested; the orchestrator starts it as soon as it may`;
}

/**
 * An operator's retry: only a parked step or the blocked backup round (the orchestrator retries the rest); a parked
 * step once until the orchestrator starts it (like a purge, asked twice it is refused: it would change nothing).
 */
export function admitOperatorRetry(
  state: TenantState,
  request: LifecycleEventData['OperatorRetryRequested'],
): Admission {
  const tenantId = tenantIdOf(state);
  const { step } = request;
  if (state.status === 'purged') {
    return refuse(REFUSAL_CODES.STEP_NOT_RETRYABLE, `tenant ${tenantId} is purged: nothing left to retry`);
  }
  const pending = retryPending(state, step);
  if (pending) return refuse(REFUSAL_CODES.STEP_NOT_RETRYABLE, `tenant ${tenantId}: ${pending}`);
  const allowed = retryableSteps(state);
  if (allowed.includes(step)) return { events: [{ type: 'OperatorRetryRequested', data: request }] };
  const current = state.steps[step];
  const hint =
    allowed.length > 0 ? `retryable now: ${allowed.join(', ')}` : 'no step is waiting for an operator';
  if (!current && step !== BACKUP_RETRY_STEP) {
    return refuse(REFUSAL_CODES.STEP_NOT_RETRYABLE, `tenant ${tenantId} has no step ${step} (${hint})`);
  }
  const why = supersededWorkloads(state, step)
    ? `step ${step} was superseded by a later suspension or resumption`
    : current?.status === 'failed' || current?.status === 'timed_out'
      ? `step ${step} is ${current.status}: the orchestrator retries it itself or rolls the tenant back; only parked steps wait for an operator`
      : step === BACKUP_RETRY_STEP
        ? 'no backup is blocked'
        : `step ${step} is ${current?.status ?? 'unknown'}, not parked`;
  return refuse(REFUSAL_CODES.STEP_NOT_RETRYABLE, `tenant ${tenantId}: ${why} (${hint})`);
}

/** Each reason a re-provisioning is refused, as the lifecycle's refusal code. */
const REPROVISION_REFUSALS: Record<ReprovisionBlock['kind'], RefusalCode> = {
  'in-progress': REFUSAL_CODES.PROVISIONING_IN_PROGRESS,
  rollback: REFUSAL_CODES.ROLLBACK_NOT_COMPLETE,
  active: REFUSAL_CODES.TENANT_ACTIVE,
  cancelled: REFUSAL_CODES.TENANT_CANCELLED,
};

/**
 * A fresh provisioning run (an operator's, or billing's repeated subscription.created): only for a tenant whose
 * last run failed and whose rollback is complete. The event numbers the new run, so two requests decided on the
 * same state are the same request.
 */
export function admitReprovisioning(
  state: TenantState,
  request: Omit<LifecycleEventData['ReprovisioningRequested'], 'run'>,
): Admission {
  if (!state.tenant) return refuse(REFUSAL_CODES.TENANT_NOT_FOUND, 'tenant does not exist');
  const blocked = reprovisionBlock(state);
  if (blocked) return refuse(REPROVISION_REFUSALS[blocked.kind], blocked.message);
  const run = provisioningRun(state) + 1;
  return { events: [{ type: 'ReprovisioningRequested', data: { ...request, run } }] };
}
