import { tierChangeKey, workloadsOperationKey } from './dag';
import type { StepState, TenantState, WorkloadsKind } from './state';

/*
 * The workloads operations the fold queues and settles (suspension, resumption, a tier change's re-apply),
 * apart from evolve.ts so that the fold's switch stays readable.
 */

/**
 * A suspension or resumption starts when the tenant operates in the opposite status; asked while another one
 * is pending, it queues behind it, or, asked against the one already queued, cancels that one (the workloads
 * end where the last request wants them either way).
 */
export function requestWorkloads(
  state: TenantState,
  requiredStatus: 'active' | 'suspended',
  kind: WorkloadsKind,
): TenantState {
  const previous = state.workloadsOperation;
  if (previous && !previous.outcome) {
    if (state.status !== 'active' && state.status !== 'suspended') return state;
    const last = state.queuedWorkloads ?? previous.kind;
    if (last === kind) return state;
    return { ...state, queuedWorkloads: state.queuedWorkloads ? undefined : kind };
  }
  if (state.status !== requiredStatus) return state;
  return { ...state, workloadsOperation: { seq: (previous?.seq ?? 0) + 1, kind } };
}

export function markOperationFailed(state: TenantState, run: StepState): TenantState {
  const tier = state.tierChange;
  if (tier && !tier.outcome && run.step === tierChangeKey(tier.seq)) {
    return { ...state, tierChange: { ...tier, outcome: 'failed' } };
  }
  const op = state.workloadsOperation;
  if (op && !op.outcome && run.step === workloadsOperationKey(op.seq, op.kind)) {
    // A queued request goes back to where the workloads still are: nothing left to do for it.
    return { ...state, workloadsOperation: { ...op, outcome: 'failed' }, queuedWorkloads: undefined };
  }
  return state;
}
