import type { LifecycleEventData } from '@app/contracts';
import type { CancellationState, TenantState } from './state';

/*
 * Cancellation and reactivation: the one rule for which cancellation takes effect, shared by the fold and the
 * admission of billing's and operators' requests, so every cancellation recorded is one the tenant takes.
 */

/** Whether a cancellation takes effect now: an operating tenant, or one never activated and not yet cancelled. */
export function takesCancellation(state: TenantState): boolean {
  switch (state.status) {
    case 'active':
    case 'suspended':
      return true;
    case 'requested':
    case 'provisioning':
    case 'rolling_back':
    case 'failed':
      return !state.cancellation;
    default:
      return false;
  }
}

/**
 * The fold of `CancellationRequested`. An operating tenant enters its grace period (`deprovisioning`). One never
 * activated keeps its status: its provisioning is rolled back (or was: a failed tenant), and the rollback's end
 * makes it `cancelled` (see the orchestrator's `decideRollback`).
 */
export function cancel(
  state: TenantState,
  data: LifecycleEventData['CancellationRequested'],
  at: string,
): TenantState {
  if (!takesCancellation(state)) return state;
  const operating = state.status === 'active' || state.status === 'suspended';
  const cancellation: CancellationState = {
    cycle: (state.cancellation?.cycle ?? 0) + 1,
    subscriptionId: data.subscriptionId,
    reason: data.reason,
    requestedAt: data.requestedAt,
    requestedBy: data.requestedBy,
    deletionDate: data.deletionDate,
    cancelledAt: at,
    duringProvisioning: !operating,
    resumeStatus: state.status === 'suspended' ? 'suspended' : 'active',
    backup: { round: 0, verified: false, manifests: [], retryRequested: false },
  };
  return { ...state, cancellation, status: operating ? 'deprovisioning' : state.status };
}

/** The fold of `TenantReactivated`: only during a grace period, back to the status before the cancellation. */
export function reactivate(state: TenantState, data: LifecycleEventData['TenantReactivated']): TenantState {
  const cancellation = state.cancellation;
  if (state.status !== 'deprovisioning' || !cancellation) return state;
  return {
    ...state,
    status: cancellation.resumeStatus,
    cancellation: { ...cancellation, reactivatedAt: data.reactivatedAt },
    reactivation: {
      count: (state.reactivation?.count ?? 0) + 1,
      cycle: cancellation.cycle,
      subscriptionId: data.subscriptionId,
      reactivatedAt: data.reactivatedAt,
      requestedBy: data.requestedBy,
    },
  };
}

/** A tenant whose cancellation came before activation: its rollback ends `cancelled` (or made it so). */
export function cancelledBeforeActivation(state: TenantState): boolean {
  return state.cancellation?.duringProvisioning === true;
}
