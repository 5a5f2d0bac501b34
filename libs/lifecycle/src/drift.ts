import type { LifecycleEvent, LifecycleEventData } from '@app/contracts';
import { DRIFT_RESOURCES, isDriftKind } from './drift-kinds';
import type { DriftCheckState, DriftState, OpenDrift } from './drift-state';
import type { StepState, TenantState } from './state';

/*
 * Drift checks of an active tenant, folded from the tenant stream. A check runs each resource's verify command
 * under its own step keys; a failed one opens a drift, which a repair (the resource's provision command, then the
 * verify again) closes. Nothing here changes the tenant's status. Settled drift work leaves `steps`, so a
 * tenant checked every day for years keeps a small state.
 */

export const DRIFT_STEP_PREFIX = 'drift-';

export function driftVerifyKey(check: number, resource: string): string {
  return `${DRIFT_STEP_PREFIX}${check}:verify-${resource}`;
}
export function driftRepairKey(check: number, round: number, resource: string): string {
  return `${DRIFT_STEP_PREFIX}${check}:repair-${round}:${resource}`;
}
export function driftReverifyKey(check: number, round: number, resource: string): string {
  return `${DRIFT_STEP_PREFIX}${check}:reverify-${round}:${resource}`;
}
export function isDriftStep(key: string): boolean {
  return key.startsWith(DRIFT_STEP_PREFIX);
}

/** `<check>-<resource>`: a check finds at most one drift per resource. */
export function driftIdOf(check: number, resource: string): string {
  return `${check}-${resource}`;
}
export const DRIFT_ID_PATTERN = new RegExp(
  `^[1-9][0-9]{0,8}-(${DRIFT_RESOURCES.map((entry) => entry.resource).join('|')})$`,
);

export function driftOf(state: TenantState): DriftState {
  return state.drift ?? { checks: 0, open: {}, repaired: 0 };
}

export function checkInProgress(state: TenantState): DriftCheckState | undefined {
  const current = state.drift?.current;
  return current && !current.outcome ? current : undefined;
}

/** The repair round an open drift is at, and whether it may run (automatic first round, or approved). */
export function repairRound(drift: OpenDrift): { round: number; allowed: boolean } {
  const round = drift.failedRepairs + 1;
  return { round, allowed: drift.approvedRound >= round || (drift.automatic && round === 1) };
}

/** Whether the drift's current round started (its repair step exists). */
export function repairStarted(state: TenantState, drift: OpenDrift): boolean {
  const { round } = repairRound(drift);
  return state.steps[driftRepairKey(drift.check, round, drift.resource)] !== undefined;
}

/**
 * Why a drift check may not run now: other work on the tenant (a command in flight or about to be retried, a
 * tier change or suspension being applied) would make its verifications fail for reasons that are no drift.
 */
export function driftBlocker(state: TenantState): string | undefined {
  const busy = Object.values(state.steps).find(
    (run) =>
      !isDriftStep(run.step) &&
      (run.status === 'running' ||
        run.status === 'timed_out' ||
        (run.status === 'failed' && run.error?.retryable === true)),
  );
  if (busy) return `step ${busy.step} is in progress`;
  if (state.tierChange && !state.tierChange.outcome) return 'a tier change is being applied';
  if (state.workloadsOperation && !state.workloadsOperation.outcome) {
    return `a ${state.workloadsOperation.kind} is being applied`;
  }
  return undefined;
}

function withDrift(state: TenantState, drift: DriftState): TenantState {
  return { ...state, drift };
}

function withoutSteps(state: TenantState, keys: readonly string[]): TenantState {
  const steps: Record<string, StepState> = { ...state.steps };
  for (const key of keys) delete steps[key];
  return { ...state, steps };
}

function roundKeys(drift: OpenDrift): string[] {
  const { round } = repairRound(drift);
  return [
    driftRepairKey(drift.check, round, drift.resource),
    driftReverifyKey(drift.check, round, drift.resource),
  ];
}

export function foldDriftCheckRequested(
  state: TenantState,
  data: LifecycleEventData['DriftCheckRequested'],
): TenantState {
  const drift = driftOf(state);
  if (state.status !== 'active' || checkInProgress(state) || data.check !== drift.checks + 1) return state;
  if (data.window !== undefined && drift.lastWindow !== undefined && data.window <= drift.lastWindow) {
    return state;
  }
  const { check, requestedBy, requestedAt, window } = data;
  return withDrift(state, {
    ...drift,
    checks: check,
    lastWindow: window ?? drift.lastWindow,
    current: { check, requestedBy, requestedAt, ...(window === undefined ? {} : { window }), detected: [] },
  });
}

export function foldDriftDetected(
  state: TenantState,
  data: LifecycleEventData['DriftDetected'],
): TenantState {
  const drift = driftOf(state);
  const current = checkInProgress(state);
  if (!current || current.check !== data.check || current.detected.includes(data.resource)) return state;
  if (drift.open[data.driftId] || !isDriftKind(data.kind)) return state;
  const open: OpenDrift = {
    driftId: data.driftId,
    check: data.check,
    resource: data.resource,
    kind: data.kind,
    automatic: data.automatic,
    code: data.code,
    message: data.message,
    checks: data.checks,
    detectedAt: data.detectedAt,
    failedRepairs: 0,
    approvedRound: 0,
  };
  return withDrift(state, {
    ...drift,
    current: { ...current, detected: [...current.detected, data.resource] },
    open: { ...drift.open, [data.driftId]: open },
  });
}

export function foldDriftRepairApproved(
  state: TenantState,
  data: LifecycleEventData['DriftRepairApproved'],
): TenantState {
  const drift = driftOf(state);
  const open = drift.open[data.driftId];
  if (!open) return state;
  const { round, allowed } = repairRound(open);
  if (allowed) return state;
  return withDrift(state, {
    ...drift,
    open: { ...drift.open, [open.driftId]: { ...open, approvedRound: round } },
  });
}

export function foldDriftRepaired(
  state: TenantState,
  data: LifecycleEventData['DriftRepaired'],
): TenantState {
  const drift = driftOf(state);
  const open = drift.open[data.driftId];
  if (!open) return state;
  const { [data.driftId]: _closed, ...rest } = drift.open;
  return withoutSteps(
    withDrift(state, { ...drift, open: rest, repaired: drift.repaired + 1 }),
    roundKeys(open),
  );
}

export function foldDriftRepairFailed(
  state: TenantState,
  data: LifecycleEventData['DriftRepairFailed'],
): TenantState {
  const drift = driftOf(state);
  const open = drift.open[data.driftId];
  if (!open) return state;
  const failed: OpenDrift = { ...open, failedRepairs: open.failedRepairs + 1, lastError: data.error };
  return withoutSteps(
    withDrift(state, { ...drift, open: { ...drift.open, [open.driftId]: failed } }),
    roundKeys(open),
  );
}

function endCheck(state: TenantState, check: number, outcome: 'completed' | 'dropped'): TenantState {
  const current = checkInProgress(state);
  if (!current || current.check !== check) return state;
  const drift = driftOf(state);
  const verifyKeys = DRIFT_RESOURCES.map((entry) => driftVerifyKey(check, entry.resource));
  return withoutSteps(withDrift(state, { ...drift, current: { ...current, outcome } }), verifyKeys);
}

export function foldDriftCheckCompleted(
  state: TenantState,
  data: LifecycleEventData['DriftCheckCompleted'],
): TenantState {
  return endCheck(state, data.check, 'completed');
}

export function foldDriftCheckDropped(
  state: TenantState,
  data: LifecycleEventData['DriftCheckDropped'],
): TenantState {
  return endCheck(state, data.check, 'dropped');
}

type DriftEventType =
  | 'DriftCheckRequested'
  | 'DriftDetected'
  | 'DriftRepairApproved'
  | 'DriftRepaired'
  | 'DriftRepairFailed'
  | 'DriftCheckCompleted'
  | 'DriftCheckDropped';

/** A drift event of the tenant stream, as evolve receives it. */
export type DriftEvent = Extract<LifecycleEvent, { type: DriftEventType }>;

/** Folds one drift event (evolve's single entry into this file). */
export function foldDrift(state: TenantState, event: DriftEvent): TenantState {
  switch (event.type) {
    case 'DriftCheckRequested':
      return foldDriftCheckRequested(state, event.data);
    case 'DriftDetected':
      return foldDriftDetected(state, event.data);
    case 'DriftRepairApproved':
      return foldDriftRepairApproved(state, event.data);
    case 'DriftRepaired':
      return foldDriftRepaired(state, event.data);
    case 'DriftRepairFailed':
      return foldDriftRepairFailed(state, event.data);
    case 'DriftCheckCompleted':
      return foldDriftCheckCompleted(state, event.data);
    case 'DriftCheckDropped':
      return foldDriftCheckDropped(state, event.data);
  }
}
