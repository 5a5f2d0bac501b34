import type { FailureReason, RolloutEventData, RolloutEventType } from '@app/contracts';
import { ROLLOUT_EVENT_TYPES } from '@app/contracts';

/*
 * A rollout's stream folded (the events are in rollout-events.ts of the contracts). Pure, like the tenant's fold:
 * the API, tenantctl, the console and the driver in the orchestrator all read a rollout through it.
 */

export type RolloutStatus = 'running' | 'paused' | 'halted' | 'aborted' | 'completed';
export type RolloutTenantStatus = 'pending' | 'started' | 'succeeded' | 'skipped' | 'failed';

export interface RolloutTenantState {
  tenantId: string;
  wave: number;
  status: RolloutTenantStatus;
  /** 0 until started; a resumed halt starts the failed tenant again as the next attempt. */
  attempt: number;
  /** The tenant event of the latest attempt (`ImageTagChangeRequested`'s id). */
  requestEventId?: string;
  outcome?: 'applied' | 'already-applied';
  error?: FailureReason;
  skipReason?: string;
  startedAt?: string;
  finishedAt?: string;
}

export interface RolloutDecisionRecord {
  action: 'paused' | 'resumed' | 'aborted';
  by: string;
  reason: string;
  at: string;
}

/** The plan as RolloutStarted fixed it, and what happened since. */
export interface RolloutState extends Readonly<RolloutEventData['RolloutStarted']> {
  status: RolloutStatus;
  /** The wave started last; -1 before the first. */
  currentWave: number;
  tenants: Readonly<Record<string, RolloutTenantState>>;
  /** The failure that halted the rollout, until it is resumed. */
  halt?: RolloutEventData['RolloutHalted'];
  /** Operators' pauses, resumptions and abort, oldest first. */
  decisions: RolloutDecisionRecord[];
  completedAt?: string;
  /** Revision of the last event folded: the expected revision of the next append. */
  revision: number;
}

export type RolloutPayload = {
  [K in RolloutEventType]: { type: K; data: RolloutEventData[K] };
}[RolloutEventType];

const TYPES: ReadonlySet<string> = new Set<string>(ROLLOUT_EVENT_TYPES);

function withTenant(state: RolloutState, tenant: RolloutTenantState): RolloutState {
  return { ...state, tenants: { ...state.tenants, [tenant.tenantId]: tenant } };
}

/** The started attempt of a tenant, when `attempt` is it (a late or repeated checkpoint changes nothing). */
function startedAttempt(state: RolloutState, tenantId: string, attempt: number) {
  const tenant = state.tenants[tenantId];
  return tenant?.status === 'started' && tenant.attempt === attempt ? tenant : undefined;
}

function decided(state: RolloutState, record: RolloutDecisionRecord, status: RolloutStatus): RolloutState {
  return { ...state, status, decisions: [...state.decisions, record] };
}

/** One event of a rollout stream; an event the state does not expect at this point leaves it as it is. */
export function evolveRollout(
  state: RolloutState | undefined,
  event: RolloutPayload,
): RolloutState | undefined {
  if (event.type === 'RolloutStarted') {
    if (state) return state;
    const d = event.data;
    const tenants: Record<string, RolloutTenantState> = {};
    d.waves.forEach((wave, index) => {
      for (const tenantId of wave)
        tenants[tenantId] = { tenantId, wave: index, status: 'pending', attempt: 0 };
    });
    return {
      rolloutId: d.rolloutId,
      imageTag: d.imageTag,
      selection: d.selection,
      canarySize: d.canarySize,
      batchSize: d.batchSize,
      waves: d.waves,
      requestedBy: d.requestedBy,
      reason: d.reason,
      startedAt: d.startedAt,
      status: 'running',
      currentWave: -1,
      tenants,
      decisions: [],
      revision: 0,
    };
  }
  if (!state) return state;
  switch (event.type) {
    case 'RolloutWaveStarted':
      if (event.data.wave !== state.currentWave + 1 || event.data.wave >= state.waves.length) return state;
      return { ...state, currentWave: event.data.wave };
    case 'RolloutTenantStarted': {
      const { tenantId, attempt, requestEventId, startedAt } = event.data;
      const tenant = state.tenants[tenantId];
      if (!tenant || attempt !== tenant.attempt + 1) return state;
      if (tenant.status !== 'pending') return state;
      const { error: _error, ...rest } = tenant;
      return withTenant(state, { ...rest, status: 'started', attempt, requestEventId, startedAt });
    }
    case 'RolloutTenantSucceeded': {
      const tenant = startedAttempt(state, event.data.tenantId, event.data.attempt);
      if (!tenant) return state;
      const { outcome, succeededAt } = event.data;
      return withTenant(state, { ...tenant, status: 'succeeded', outcome, finishedAt: succeededAt });
    }
    case 'RolloutTenantSkipped': {
      const tenant = state.tenants[event.data.tenantId];
      if (!tenant || (tenant.status !== 'started' && tenant.status !== 'pending')) return state;
      const { reason, skippedAt } = event.data;
      return withTenant(state, { ...tenant, status: 'skipped', skipReason: reason, finishedAt: skippedAt });
    }
    case 'RolloutTenantFailed': {
      const tenant = startedAttempt(state, event.data.tenantId, event.data.attempt);
      if (!tenant) return state;
      const { error, failedAt } = event.data;
      return withTenant(state, { ...tenant, status: 'failed', error, finishedAt: failedAt });
    }
    case 'RolloutHalted':
      if (state.status !== 'running' && state.status !== 'paused') return state;
      return { ...state, status: 'halted', halt: event.data };
    case 'RolloutPaused': {
      if (state.status !== 'running') return state;
      const { requestedBy: by, reason, pausedAt: at } = event.data;
      return decided(state, { action: 'paused', by, reason, at }, 'paused');
    }
    case 'RolloutResumed': {
      if (state.status !== 'paused' && state.status !== 'halted') return state;
      const { requestedBy: by, reason, resumedAt: at } = event.data;
      // The tenants that failed are tried again (their next attempt), once the operator resumes.
      const tenants = Object.fromEntries(
        Object.entries(state.tenants).map(([id, tenant]) => [
          id,
          tenant.status === 'failed' ? { ...tenant, status: 'pending' as const } : tenant,
        ]),
      );
      const resumed = decided({ ...state, tenants }, { action: 'resumed', by, reason, at }, 'running');
      return { ...resumed, halt: undefined };
    }
    case 'RolloutAborted': {
      if (state.status === 'aborted' || state.status === 'completed') return state;
      const { requestedBy: by, reason, abortedAt: at } = event.data;
      return decided(state, { action: 'aborted', by, reason, at }, 'aborted');
    }
    case 'RolloutCompleted':
      if (state.status !== 'running') return state;
      return { ...state, status: 'completed', completedAt: event.data.completedAt };
    default: {
      const unreachable: never = event;
      return unreachable;
    }
  }
}

/** The part of a recorded event the fold reads. */
export interface RolloutStreamEvent {
  type: string;
  data: unknown;
  revision: number;
}

/** A rollout stream folded; undefined when it holds no `RolloutStarted`. Unknown event types are skipped. */
export function foldRollout(events: readonly RolloutStreamEvent[]): RolloutState | undefined {
  let state: RolloutState | undefined;
  for (const event of events) {
    if (TYPES.has(event.type)) state = evolveRollout(state, event as unknown as RolloutPayload);
    if (state) state = { ...state, revision: event.revision };
  }
  return state;
}

/** Whether the rollout will start no further tenant (completed or aborted). */
export function rolloutFinished(state: RolloutState): boolean {
  return state.status === 'completed' || state.status === 'aborted';
}

/** Tenants whose change was asked and whose outcome is not recorded yet. */
export function tenantsInFlight(state: RolloutState): RolloutTenantState[] {
  return Object.values(state.tenants).filter((tenant) => tenant.status === 'started');
}

/** Counts per tenant status (for views and the completion event). */
export function rolloutCounts(state: RolloutState): Record<RolloutTenantStatus, number> {
  const counts: Record<RolloutTenantStatus, number> = {
    pending: 0,
    started: 0,
    succeeded: 0,
    skipped: 0,
    failed: 0,
  };
  for (const tenant of Object.values(state.tenants)) counts[tenant.status]++;
  return counts;
}
