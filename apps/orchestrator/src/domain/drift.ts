import {
  DRIFT_RESOURCES,
  checkInProgress,
  classifyDrift,
  driftBlocker,
  driftIdOf,
  driftOf,
  driftRepairKey,
  driftReverifyKey,
  driftVerifyKey,
  repairRound,
  type DriftCheckState,
  type OpenDrift,
  type StepState,
  type TenantState,
} from '@app/lifecycle';
import {
  UNKNOWN_FAILURE,
  hasFailed,
  mayRetry,
  restartStep,
  startStep,
  type Decision,
  type DecisionContext,
} from './decision';

type DriftResourceEntry = (typeof DRIFT_RESOURCES)[number];

/**
 * Drift checks and repairs of an active tenant. Asked only when nothing else is to be decided, so drift work never
 * runs beside the tenant's own changes: a check starts when the tenant is idle, and is dropped when it stops being
 * active or another change begins (its verifications would then fail for reasons that are no drift). A verify
 * that fails for good opens a drift; one that cannot reach its service after its attempts leaves the resource
 * unchecked (inconclusive). Repairs run the resource's provision command, then its verify, each under its own
 * step keys, automatically for safe kinds and after an operator's approval for the others.
 */
export function decideDrift(ctx: DecisionContext): Decision[] {
  return [...decideCheck(ctx), ...decideRepairs(ctx)];
}

function decideCheck(ctx: DecisionContext): Decision[] {
  const { state, now } = ctx;
  const current = checkInProgress(state);
  if (!current) return [];
  const started = DRIFT_RESOURCES.some((entry) => state.steps[driftVerifyKey(current.check, entry.resource)]);
  const dropped = dropReason(state, started);
  if (dropped) {
    return [
      {
        type: 'DriftCheckDropped',
        data: { check: current.check, reason: dropped, droppedAt: now.toISOString() },
      },
    ];
  }
  if (!started) {
    if (driftBlocker(state) || repairsRunning(state)) return [];
    return DRIFT_RESOURCES.map((entry) =>
      startStep(ctx, driftVerifyKey(current.check, entry.resource), entry.verify, {}),
    );
  }
  const decisions: Decision[] = [];
  const inconclusive: string[] = [];
  let settled = true;
  for (const entry of DRIFT_RESOURCES) {
    const run = state.steps[driftVerifyKey(current.check, entry.resource)];
    const outcome = verifyOutcome(ctx, current, entry, run);
    if (outcome === 'pending') settled = false;
    else if (outcome === 'inconclusive') inconclusive.push(entry.resource);
    else if (outcome !== 'done') {
      decisions.push(outcome);
      settled = false;
    }
  }
  if (decisions.length > 0 || !settled) return decisions;
  const drifts = current.detected.map((resource) => driftIdOf(current.check, resource));
  return [
    {
      type: 'DriftCheckCompleted',
      data: { check: current.check, drifts, inconclusive, completedAt: now.toISOString() },
    },
  ];
}

/** A check runs only on an active tenant with nothing else under way. */
function dropReason(state: TenantState, started: boolean): string | undefined {
  if (state.status !== 'active') return `the tenant is ${state.status}`;
  const blocker = driftBlocker(state);
  // Before its verifications start, a check waits for the tenant's other work to end.
  return started && blocker ? `another change began: ${blocker}` : undefined;
}

function repairsRunning(state: TenantState): boolean {
  return Object.values(driftOf(state).open).some((drift) => {
    const { round } = repairRound(drift);
    const steps = [
      state.steps[driftRepairKey(drift.check, round, drift.resource)],
      state.steps[driftReverifyKey(drift.check, round, drift.resource)],
    ];
    return steps.some((run) => run?.status === 'running');
  });
}

/** What a verify of the check says: still pending, a decision to make, inconclusive, or nothing more to do. */
function verifyOutcome(
  ctx: DecisionContext,
  current: DriftCheckState,
  entry: DriftResourceEntry,
  run: StepState | undefined,
): Decision | 'pending' | 'inconclusive' | 'done' {
  if (!run || run.status === 'running') return 'pending';
  const known = Object.values(driftOf(ctx.state).open).find((drift) => drift.resource === entry.resource);
  if (run.status === 'succeeded') {
    // A drift an earlier check found is gone (put back by hand): it is closed, unless its repair is running.
    if (known && !ctx.state.steps[driftRepairKey(known.check, repairRound(known).round, known.resource)]) {
      return repaired(ctx, known, run.step);
    }
    return 'done';
  }
  if (!hasFailed(run)) return 'done';
  if (mayRetry(run, ctx.config.maxAttempts)) return restartStep(ctx, run);
  const error = run.error ?? UNKNOWN_FAILURE;
  if (run.status === 'timed_out' || error.retryable) return 'inconclusive';
  if (known || current.detected.includes(entry.resource)) return 'done';
  const classification = classifyDrift(entry.resource, error);
  return {
    type: 'DriftDetected',
    data: {
      driftId: driftIdOf(current.check, entry.resource),
      check: current.check,
      resource: entry.resource,
      step: run.step,
      code: error.code,
      message: error.message,
      checks: classification.checks,
      kind: classification.kind,
      kinds: classification.kinds,
      automatic: classification.automatic,
      detectedAt: ctx.now.toISOString(),
    },
  };
}

function repaired(ctx: DecisionContext, drift: OpenDrift, verifiedBy: string): Decision {
  return {
    type: 'DriftRepaired',
    data: { driftId: drift.driftId, kind: drift.kind, verifiedBy, repairedAt: ctx.now.toISOString() },
  };
}

function repairFailed(ctx: DecisionContext, drift: OpenDrift, run: StepState): Decision {
  return {
    type: 'DriftRepairFailed',
    data: {
      driftId: drift.driftId,
      kind: drift.kind,
      error: run.error ?? UNKNOWN_FAILURE,
      failedAt: ctx.now.toISOString(),
    },
  };
}

/** Each open drift whose repair may run: the provision command, then the verify, retried while they may pass. */
function decideRepairs(ctx: DecisionContext): Decision[] {
  const { state } = ctx;
  const decisions: Decision[] = [];
  const mayStart = state.status === 'active' && driftBlocker(state) === undefined;
  for (const drift of Object.values(driftOf(state).open)) {
    const entry = DRIFT_RESOURCES.find((candidate) => candidate.resource === drift.resource);
    if (!entry) continue;
    const { round, allowed } = repairRound(drift);
    const repairKey = driftRepairKey(drift.check, round, drift.resource);
    const reverifyKey = driftReverifyKey(drift.check, round, drift.resource);
    const repair = state.steps[repairKey];
    const reverify = state.steps[reverifyKey];
    if (!repair) {
      if (allowed && mayStart) decisions.push(startStep(ctx, repairKey, entry.repair, {}));
    } else if (hasFailed(repair)) {
      decisions.push(
        mayRetry(repair, ctx.config.maxAttempts)
          ? restartStep(ctx, repair)
          : repairFailed(ctx, drift, repair),
      );
    } else if (repair.status === 'succeeded' && !reverify) {
      if (state.status === 'active') decisions.push(startStep(ctx, reverifyKey, entry.verify, {}));
    } else if (reverify && hasFailed(reverify)) {
      decisions.push(
        mayRetry(reverify, ctx.config.maxAttempts)
          ? restartStep(ctx, reverify)
          : repairFailed(ctx, drift, reverify),
      );
    } else if (reverify?.status === 'succeeded') {
      decisions.push(repaired(ctx, drift, reverify.step));
    }
  }
  return decisions;
}
