import {
  commandForResult,
  type CommandFailedData,
  type CommandSucceededData,
  type FailureReason,
  type LifecycleEventData,
  type LifecycleEventType,
} from '@app/contracts';
import { isDriftStep, stepKind, workloadsOperationKind, type WorkloadsKind } from '@app/lifecycle';
import { DRIFT_EVENT_TYPES, evolveDriftSummary } from '../drift/drift.projection';
import { startRun } from './provisioning-runs.projection';
import type {
  StepState,
  StepSummary,
  SummaryEvent,
  TenantStatus,
  TenantSummary,
  WorkloadsSummary,
} from './tenant-summary.types';

/**
 * The tenant summary behind the query API: a pure fold over one tenant stream (lifecycle events and command
 * results). The PostgreSQL and in-memory read models and the stream fallback all use this one function.
 */

export {
  TENANT_STATUSES,
  type StepState,
  type StepSummary,
  type SummaryEvent,
  type TenantStatus,
  type TenantSummary,
  type WorkloadsSummary,
} from './tenant-summary.types';

function durationBetween(from: string, to: string): number | null {
  const ms = Date.parse(to) - Date.parse(from);
  return Number.isFinite(ms) && ms >= 0 ? ms : null;
}

/** The step shown as "current": the latest one still running, else the latest one started. */
function currentStepOf(steps: Record<string, StepSummary>): string | null {
  const all = Object.values(steps);
  const byStart = (a: StepSummary, b: StepSummary): number => a.startedAt.localeCompare(b.startedAt);
  const running = all.filter((s) => s.status === 'running').sort(byStart);
  if (running.length > 0) return running[running.length - 1].step;
  const started = all.sort(byStart);
  return started.length > 0 ? started[started.length - 1].step : null;
}

function finishStep(
  state: TenantSummary,
  step: string,
  commandId: string,
  at: string,
  status: StepState,
  error: FailureReason | null,
): TenantSummary {
  const current = state.steps[step];
  if (!current) return state;
  if (current.commandId !== commandId) {
    // A late result of an older attempt changes nothing, but a success (not an undo's): the resources exist.
    const counts =
      status === 'succeeded' && current.status !== 'succeeded' && stepKind(step) !== 'compensation';
    return counts ? finishStep(state, step, current.commandId, at, status, error) : state;
  }
  // A failure or timeout counts only while the attempt runs (not redelivered, nor after a success counted).
  if ((status === 'failed' || status === 'timed_out') && current.status !== 'running') return state;
  const steps = {
    ...state.steps,
    [step]: { ...current, status, finishedAt: at, durationMs: durationBetween(current.startedAt, at), error },
  };
  const settled =
    current.status === 'running' || current.status === 'failed' || current.status === 'timed_out';
  const next = { ...state, steps, currentStep: currentStepOf(steps) };
  return settled ? settleWorkloads(next, step, status) : next;
}

const OPERATING: ReadonlySet<TenantStatus> = new Set(['active', 'suspended', 'suspending', 'resuming']);

function workloadsOf(state: TenantSummary): WorkloadsSummary {
  const applied = state.status === 'suspended' || state.status === 'resuming' ? 'suspended' : 'active';
  return state.workloads ?? { applied, pending: null, pendingStep: null, queued: null };
}

/** An operating tenant's status: what was applied, or `suspending`/`resuming` while a change is pending. */
function operatingStatus(workloads: WorkloadsSummary): TenantStatus {
  if (workloads.pending) return workloads.pending === 'suspend' ? 'suspending' : 'resuming';
  return workloads.applied;
}

function withWorkloads(state: TenantSummary, workloads: WorkloadsSummary): TenantSummary {
  const status = OPERATING.has(state.status) ? operatingStatus(workloads) : state.status;
  return { ...state, workloads, status };
}

/** A suspension or resumption starts when the workloads are the other way, or queues behind a pending one. */
function requestWorkloads(state: TenantSummary, kind: WorkloadsKind): TenantSummary {
  if (!OPERATING.has(state.status)) return state;
  const workloads = workloadsOf(state);
  if (workloads.pending) {
    if ((workloads.queued ?? workloads.pending) === kind) return state;
    return withWorkloads(state, { ...workloads, queued: workloads.queued ? null : kind });
  }
  if (workloads.applied === (kind === 'suspend' ? 'suspended' : 'active')) return state;
  return withWorkloads(state, { ...workloads, pending: kind, pendingStep: null });
}

/** The pending change's step settled: applied (the queued one is next) or parked (nothing changed). */
function settleWorkloads(state: TenantSummary, step: string, status: StepState): TenantSummary {
  const workloads = state.workloads;
  if (!workloads?.pending || workloads.pendingStep !== step) return state;
  if (status === 'succeeded') {
    const applied = workloads.pending === 'suspend' ? 'suspended' : 'active';
    return withWorkloads(state, { applied, pending: workloads.queued, pendingStep: null, queued: null });
  }
  if (status === 'parked') {
    return withWorkloads(state, { ...workloads, pending: null, pendingStep: null, queued: null });
  }
  return state;
}

/** An operator's retry of the last suspension or resumption (steps keep their first start's order), parked. */
function retryWorkloads(state: TenantSummary, step: string): TenantSummary {
  const kind = workloadsOperationKind(step);
  const workloads = state.workloads;
  if (!kind || !workloads || workloads.pending || state.steps[step]?.status !== 'parked') return state;
  const last = Object.keys(state.steps).findLast((key) => workloadsOperationKind(key) !== undefined);
  if (last !== step) return state;
  return withWorkloads(state, { ...workloads, pending: kind, pendingStep: step });
}

type LifecyclePayload = {
  [K in LifecycleEventType]: { type: K; data: LifecycleEventData[K] };
}[LifecycleEventType];

function evolveLifecycle(state: TenantSummary, event: LifecyclePayload, at: string): TenantSummary {
  switch (event.type) {
    case 'TenantRequested':
      return state;
    case 'StepStarted': {
      const d = event.data;
      // A drift check's work is shown by its drift summary, not among the provisioning steps.
      if (isDriftStep(d.step)) return state;
      const steps: Record<string, StepSummary> = {
        ...state.steps,
        [d.step]: {
          step: d.step,
          status: 'running',
          commandId: d.commandId,
          commandType: d.commandType,
          service: d.service,
          attempt: d.attempt,
          startedAt: at,
          finishedAt: null,
          durationMs: null,
          error: null,
        },
      };
      const status = state.status === 'requested' ? 'provisioning' : state.status;
      const next = { ...state, status, steps, currentStep: currentStepOf(steps) };
      const workloads = state.workloads;
      if (workloads?.pending && workloadsOperationKind(d.step) === workloads.pending) {
        return { ...next, workloads: { ...workloads, pendingStep: d.step } };
      }
      return next;
    }
    case 'StepTimedOut':
      return finishStep(state, event.data.step, event.data.commandId, at, 'timed_out', {
        code: 'STEP.TIMED_OUT',
        message: `deadline ${event.data.deadline} passed`,
        retryable: false,
      });
    case 'CompensationParked':
    case 'StepParked':
      return finishStep(state, event.data.step, event.data.commandId, at, 'parked', event.data.reason);
    case 'RollbackStarted':
      return {
        ...state,
        status: 'rolling_back',
        failureReason: { ...event.data.reason, step: event.data.failedStep },
      };
    case 'TenantProvisioningFailed':
      return {
        ...state,
        status: 'failed',
        failureReason: { ...event.data.reason, step: event.data.failedStep },
      };
    case 'ProvisioningCancelled':
      // What the customer asked for, not a failure: the rollback's cause is no failure reason.
      return { ...state, status: 'cancelled', failureReason: null };
    case 'TenantActivated':
      return { ...state, status: 'active', activatedAt: event.data.activatedAt };
    case 'CancellationRequested': {
      // Never activated: the status holds until the rollback ends cancelled, as in the orchestrator's fold.
      const operating = OPERATING.has(state.status);
      return {
        ...state,
        // Remembered for a reactivation, which returns the tenant to where its workloads are.
        workloads: operating ? workloadsOf(state) : state.workloads,
        status: operating ? 'deprovisioning' : state.status,
        deprovisioning: {
          requestedAt: event.data.requestedAt,
          deletionDate: event.data.deletionDate,
          reason: event.data.reason,
          purgeStartedAt: null,
        },
      };
    }
    case 'TenantReactivated': {
      // Back to where the workloads were: a suspended tenant comes back suspended.
      const status = state.workloads ? operatingStatus(state.workloads) : 'active';
      return { ...state, status, subscriptionId: event.data.subscriptionId, deprovisioning: null };
    }
    case 'PurgeStarted':
      return state.deprovisioning
        ? { ...state, deprovisioning: { ...state.deprovisioning, purgeStartedAt: event.data.startedAt } }
        : state;
    case 'TenantPurged':
      return { ...state, status: 'purged', purgedAt: event.data.purgedAt };
    case 'ReprovisioningRequested':
      return startRun(state, event.data, at);
    case 'TierChanged':
      return { ...state, tier: event.data.toTier };
    case 'SuspensionRequested':
      return requestWorkloads(state, 'suspend');
    case 'ResumptionRequested':
      return requestWorkloads(state, 'resume');
    case 'OperatorRetryRequested':
      return retryWorkloads(state, event.data.step);
    case 'BackupStarted':
    case 'BackupCompleted':
    case 'PurgeBlocked':
    case 'OperatorPurgeRequested':
    case 'TierChangeRequested':
    case 'UndecidedCommandRefused':
    case 'ImageTagChangeRequested':
      return state;
    case 'DriftCheckRequested':
    case 'DriftDetected':
    case 'DriftRepairApproved':
    case 'DriftRepaired':
    case 'DriftRepairFailed':
    case 'DriftCheckCompleted':
    case 'DriftCheckDropped':
      return { ...state, drift: evolveDriftSummary(state.drift, event, at) };
    default: {
      const unreachable: never = event;
      return unreachable;
    }
  }
}

const LIFECYCLE_TYPES: ReadonlySet<string> = new Set<LifecycleEventType>([
  'TenantRequested',
  'StepStarted',
  'StepTimedOut',
  'RollbackStarted',
  'CompensationParked',
  'StepParked',
  'TenantProvisioningFailed',
  'ProvisioningCancelled',
  'TenantActivated',
  'CancellationRequested',
  'TenantReactivated',
  'BackupStarted',
  'BackupCompleted',
  'PurgeBlocked',
  'PurgeStarted',
  'TenantPurged',
  'OperatorRetryRequested',
  'OperatorPurgeRequested',
  'TierChangeRequested',
  'TierChanged',
  'SuspensionRequested',
  'ResumptionRequested',
  'UndecidedCommandRefused',
  'ReprovisioningRequested',
  ...DRIFT_EVENT_TYPES,
]);

/**
 * Folds one event into the summary. The stream starts with `TenantRequested`; anything before it is ignored
 * (null stays null), and unknown event types only advance the revision (newer producers, older reader).
 */
export function evolveTenantSummary(state: TenantSummary | null, event: SummaryEvent): TenantSummary | null {
  if (state === null) {
    if (event.type !== 'TenantRequested') return null;
    const { tenant } = event.data as LifecycleEventData['TenantRequested'];
    return {
      tenantId: tenant.tenantId,
      subscriptionId: tenant.subscriptionId,
      companyName: tenant.companyName,
      tier: tenant.tier,
      region: tenant.region,
      domain: tenant.domain,
      status: 'requested',
      currentStep: null,
      steps: {},
      createdAt: event.occurredAt,
      updatedAt: event.occurredAt,
      activatedAt: null,
      failureReason: null,
      deprovisioning: null,
      purgedAt: null,
      revision: event.revision,
    };
  }
  const base = { ...state, updatedAt: event.occurredAt, revision: event.revision };
  const result = commandForResult(event.type);
  if (result) {
    if (result.outcome === 'succeeded') {
      const data = event.data as CommandSucceededData;
      return finishStep(base, data.step, data.commandId, event.occurredAt, 'succeeded', null);
    }
    const data = event.data as CommandFailedData;
    return finishStep(base, data.step, data.commandId, event.occurredAt, 'failed', data.error);
  }
  if (LIFECYCLE_TYPES.has(event.type)) {
    return evolveLifecycle(
      base,
      { type: event.type, data: event.data } as LifecyclePayload,
      event.occurredAt,
    );
  }
  return base;
}

export function foldTenantSummary(events: readonly SummaryEvent[]): TenantSummary | null {
  return events.reduce<TenantSummary | null>(evolveTenantSummary, null);
}

/** `occurredAt` from the event's metadata when it is a valid instant, else the store's record time. */
export function toSummaryEvent(event: {
  type: string;
  data: unknown;
  revision: number;
  metadata: Readonly<Record<string, unknown>>;
  recordedAt: Date;
}): SummaryEvent {
  const occurred = event.metadata['occurredAt'];
  const occurredAt =
    typeof occurred === 'string' && Number.isFinite(Date.parse(occurred))
      ? occurred
      : event.recordedAt.toISOString();
  return { type: event.type, data: event.data, revision: event.revision, occurredAt };
}
