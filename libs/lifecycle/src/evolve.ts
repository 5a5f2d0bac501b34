import {
  commandForResult,
  type CommandFailedEvent,
  type CommandSucceededEvent,
  type FailureReason,
  type LifecycleEvent,
  type TenantEvent,
} from '@app/contracts';
import { backupKey, compensationKey, stepKind, tierChangeKey, workloadsOperationKey } from './dag';
import { cancel, cancelledBeforeActivation, reactivate } from './cancellation';
import { startRun } from './reprovisioning';
import { foldDrift } from './drift';
import {
  imageTagStepParked,
  imageTagStepReopened,
  imageTagStepSucceeded,
  requestImageTag,
} from './image-tag';
import type { StepState, TenantState } from './state';
import { markOperationFailed, requestWorkloads } from './workloads-operation';

type ResultEvent = CommandSucceededEvent | CommandFailedEvent;

export const TIMEOUT_CODE = 'ORCHESTRATOR.STEP_TIMED_OUT';

/**
 * Folds one event of a tenant stream. Events the state machine does not expect at this point (a duplicate or
 * late result, a type from a newer version, a request an older version recorded although this fold ignores
 * it) leave the state as it is. The admission deciders append only requests this fold takes. Every event
 * counts towards `revision`.
 */
export function evolve(state: TenantState, event: TenantEvent): TenantState {
  const next = isCommandResult(event) ? evolveResult(state, event) : evolveLifecycle(state, event);
  return { ...next, revision: state.revision + 1 };
}

function isCommandResult(event: TenantEvent): event is ResultEvent {
  return commandForResult(event.type) !== undefined;
}

function isSuccess(event: ResultEvent): event is CommandSucceededEvent {
  return commandForResult(event.type)?.outcome === 'succeeded';
}

function withStep(state: TenantState, step: StepState): TenantState {
  return { ...state, steps: { ...state.steps, [step.step]: step } };
}

function evolveResult(state: TenantState, event: ResultEvent): TenantState {
  const { step: key, commandId } = event.data;
  const run = state.steps[key];
  if (
    !run ||
    commandForResult(event.type)?.command !== run.commandType ||
    !run.commandIds.includes(commandId) ||
    run.settledCommandIds.includes(commandId)
  ) {
    return state;
  }
  const at = event.metadata.occurredAt;
  let updated: StepState = { ...run, settledCommandIds: [...run.settledCommandIds, commandId] };
  const current = commandId === run.commandId;
  if (isSuccess(event)) {
    // A success of any attempt means the resources exist, even if a later attempt is still in flight. Not so
    // for an undo: an earlier attempt may have run before the resources did, only the latest one counts.
    if (run.status !== 'succeeded' && (current || run.kind !== 'compensation')) {
      updated = {
        ...updated,
        status: 'succeeded',
        finishedAt: at,
        outputs: event.data.outputs,
        error: undefined,
      };
      updated = { ...updated, retryAt: undefined, retryRequested: false };
    }
  } else if (current && run.status === 'running') {
    updated = { ...updated, status: 'failed', finishedAt: at, error: event.data.error };
  }
  let next = withStep(state, updated);
  next = markCompensationStale(next, run);
  next = applyOperationOutcome(next, updated, isSuccess(event) ? undefined : event.data.error);
  return imageTagStepSucceeded(next, updated);
}

/** A forward result folded after its compensation began makes that compensation unreliable (see StepState.stale). */
function markCompensationStale(state: TenantState, run: StepState): TenantState {
  if (run.kind !== 'provision' && run.kind !== 'verify') return state;
  const compensation = state.steps[compensationKey(run.step)];
  if (!compensation) return state;
  return withStep(state, { ...compensation, stale: true });
}

/** Quota and suspension results change the tenant itself. */
function applyOperationOutcome(
  state: TenantState,
  run: StepState,
  error: FailureReason | undefined,
): TenantState {
  const tier = state.tierChange;
  if (tier && !tier.outcome && run.step === tierChangeKey(tier.seq) && error && !error.retryable) {
    return { ...state, tierChange: { ...tier, outcome: 'refused' } };
  }
  const op = state.workloadsOperation;
  if (
    op &&
    !op.outcome &&
    run.step === workloadsOperationKey(op.seq, op.kind) &&
    run.status === 'succeeded'
  ) {
    const target = op.kind === 'suspend' ? 'suspended' : 'active';
    // The next request in line starts now (the orchestrator runs it while the tenant operates).
    const queued = state.queuedWorkloads;
    const next: TenantState = {
      ...state,
      workloadsOperation: queued ? { seq: op.seq + 1, kind: queued } : { ...op, outcome: 'done' },
      queuedWorkloads: undefined,
    };
    if (state.status === 'active' || state.status === 'suspended') return { ...next, status: target };
    if (state.cancellation && state.status === 'deprovisioning') {
      return { ...next, cancellation: { ...state.cancellation, resumeStatus: target } };
    }
    return next;
  }
  return state;
}

function evolveLifecycle(state: TenantState, event: LifecycleEvent): TenantState {
  const at = event.metadata.occurredAt;
  switch (event.type) {
    case 'TenantRequested':
      if (state.tenant) return state;
      return { ...state, status: 'requested', tenant: event.data.tenant, requestedAt: at };

    case 'StepStarted': {
      const data = event.data;
      const existing = state.steps[data.step];
      if (existing?.commandIds.includes(data.commandId)) return state;
      // A parked or succeeded step starts a new round of attempts; a failed one continues its round.
      const reopened = !existing || existing.status === 'parked' || existing.status === 'succeeded';
      const kind = stepKind(data.step);
      const run: StepState = {
        step: data.step,
        kind,
        commandType: data.commandType,
        service: data.service,
        status: 'running',
        commandId: data.commandId,
        attempt: data.attempt,
        roundAttempt: reopened ? 1 : existing.roundAttempt + 1,
        commandIds: [...(existing?.commandIds ?? []), data.commandId],
        settledCommandIds: existing?.settledCommandIds ?? [],
        params: data.params,
        startedAt: at,
        deadline: data.deadline,
        retryRequested: false,
        stale: false,
      };
      const next = withStep(state, run);
      const starts = state.status === 'requested' && (kind === 'provision' || kind === 'verify');
      return starts ? { ...next, status: 'provisioning' } : next;
    }

    case 'StepTimedOut': {
      const run = state.steps[event.data.step];
      if (!run || run.commandId !== event.data.commandId || run.status !== 'running') return state;
      const error: FailureReason = {
        code: TIMEOUT_CODE,
        message: `no result for ${run.commandType} before ${event.data.deadline}`,
        retryable: true,
      };
      return withStep(state, { ...run, status: 'timed_out', finishedAt: at, error });
    }

    case 'RollbackStarted':
      if (state.status !== 'requested' && state.status !== 'provisioning') return state;
      return { ...state, status: 'rolling_back', rollback: { ...event.data, startedAt: at } };

    case 'CompensationParked':
    case 'StepParked': {
      const run = state.steps[event.data.step];
      if (!run || run.commandId !== event.data.commandId) return state;
      if (run.status !== 'failed' && run.status !== 'timed_out') return state;
      const retryAt = event.type === 'StepParked' ? event.data.retryAt : undefined;
      const parked: StepState = {
        ...run,
        status: 'parked',
        error: event.data.reason,
        retryAt,
        retryRequested: false,
      };
      return imageTagStepParked(
        markOperationFailed(withStep(state, parked), parked),
        parked,
        event.data.reason,
      );
    }

    case 'TenantProvisioningFailed':
      if (state.status !== 'rolling_back') return state;
      return { ...state, status: 'failed', failedAt: at, compensatedSteps: event.data.compensatedSteps };

    // A rollback caused by (or overtaken by) a cancellation before activation ends, or a failed tenant is cancelled.
    case 'ProvisioningCancelled':
      if (state.status !== 'rolling_back' && state.status !== 'failed') return state;
      if (!cancelledBeforeActivation(state)) return state;
      return {
        ...state,
        status: 'cancelled',
        cancelledAt: event.data.cancelledAt,
        compensatedSteps: event.data.compensatedSteps,
      };

    case 'TenantActivated':
      if (state.status !== 'provisioning') return state;
      return { ...state, status: 'active', activatedAt: event.data.activatedAt };

    case 'CancellationRequested':
      return cancel(state, event.data, at);

    case 'TenantReactivated':
      return reactivate(state, event.data);

    case 'BackupStarted': {
      const cancellation = state.cancellation;
      if (state.status !== 'deprovisioning' || !cancellation) return state;
      if (cancellation.backup.backupId === event.data.backupId) return state;
      const backup = {
        round: cancellation.backup.round + 1,
        backupId: event.data.backupId,
        startedAt: at,
        verified: false,
        manifests: [],
        retryRequested: false,
      };
      return { ...state, cancellation: { ...cancellation, backup } };
    }

    case 'BackupCompleted': {
      const cancellation = state.cancellation;
      if (!cancellation || cancellation.backup.backupId !== event.data.backupId) return state;
      const backup = { ...cancellation.backup, verified: true, manifests: event.data.manifests };
      return { ...state, cancellation: { ...cancellation, backup } };
    }

    case 'PurgeBlocked': {
      const cancellation = state.cancellation;
      if (state.status !== 'deprovisioning' || !cancellation) return state;
      const backup = {
        ...cancellation.backup,
        blockedUntil: event.data.retryAt,
        blockedReason: event.data.reason,
        retryRequested: false,
      };
      return { ...state, cancellation: { ...cancellation, backup } };
    }

    case 'PurgeStarted':
      if (state.status !== 'deprovisioning') return state;
      return {
        ...state,
        status: 'purging',
        purge: { backupId: event.data.backupId, startedAt: event.data.startedAt },
      };

    case 'TenantPurged':
      if (state.status !== 'purging' || !state.purge) return state;
      return { ...state, status: 'purged', purge: { ...state.purge, purgedAt: event.data.purgedAt } };

    case 'OperatorRetryRequested':
      return requestRetry(state, event.data.step);

    case 'OperatorPurgeRequested': {
      const cancellation = state.cancellation;
      const { operator, reason, requestedAt } = event.data;
      // Only a named operator with a reason, during a grace period, once per cancellation.
      if (state.status !== 'deprovisioning' || !cancellation || cancellation.purgeRequested) return state;
      if (operator.trim().length === 0 || reason.trim().length === 0) return state;
      const asked = Number.isNaN(Date.parse(requestedAt)) ? at : requestedAt;
      return {
        ...state,
        cancellation: { ...cancellation, purgeRequested: { operator, reason, requestedAt: asked } },
      };
    }

    case 'TierChangeRequested': {
      const previous = state.tierChange;
      if (state.status !== 'active' || (previous && !previous.outcome)) return state;
      const { fromTier, toTier, requestedBy } = event.data;
      return { ...state, tierChange: { seq: (previous?.seq ?? 0) + 1, fromTier, toTier, requestedBy } };
    }

    case 'TierChanged': {
      if (!state.tenant || !state.tierChange) return state;
      return {
        ...state,
        tenant: { ...state.tenant, tier: event.data.toTier },
        tierChange: { ...state.tierChange, outcome: 'changed' },
      };
    }

    case 'SuspensionRequested':
      return requestWorkloads(state, 'active', 'suspend');

    case 'ResumptionRequested':
      return requestWorkloads(state, 'suspended', 'resume');

    // A security record of a forged command that no service ran: nothing for the saga to act on.
    case 'UndecidedCommandRefused':
      return state;

    case 'ReprovisioningRequested':
      return startRun(state, event.data);

    case 'DriftCheckRequested':
    case 'DriftDetected':
    case 'DriftRepairApproved':
    case 'DriftRepaired':
    case 'DriftRepairFailed':
    case 'DriftCheckCompleted':
    case 'DriftCheckDropped':
      return foldDrift(state, event);

    case 'ImageTagChangeRequested':
      return requestImageTag(state, event.data, event.metadata.messageId);

    default:
      return ignoreUnknown(event, state);
  }
}

/** Compile-time exhaustiveness; at run time an event type from a newer version is ignored. */
function ignoreUnknown(_event: never, state: TenantState): TenantState {
  return state;
}

/** `backup` (or any step of the blocked backup round) retries a blocked backup; otherwise the step must be parked. */
function requestRetry(state: TenantState, key: string): TenantState {
  const cancellation = state.cancellation;
  if (cancellation && state.status === 'deprovisioning' && cancellation.backup.blockedUntil) {
    const { round } = cancellation.backup;
    const roundKeys = (['databases', 'storage', 'verify-databases', 'verify-storage'] as const).map((work) =>
      backupKey(cancellation.cycle, round, work),
    );
    if (key === 'backup' || roundKeys.includes(key)) {
      return {
        ...state,
        cancellation: { ...cancellation, backup: { ...cancellation.backup, retryRequested: true } },
      };
    }
  }
  const run = state.steps[key];
  if (!run || run.status !== 'parked') return state;
  const next = imageTagStepReopened(withStep(state, { ...run, retryRequested: true }), key);
  // The suspension or resumption it parked is pending again: its success applies it.
  const op = state.workloadsOperation;
  if (op?.outcome !== 'failed' || key !== workloadsOperationKey(op.seq, op.kind)) return next;
  return { ...next, workloadsOperation: { seq: op.seq, kind: op.kind } };
}
