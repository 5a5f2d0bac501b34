import type { LifecycleEventData } from '@app/contracts';
import { cancelledBeforeActivation } from './cancellation';
import type { FailedRunState, StepState, TenantState } from './state';

/*
 * Re-provisioning: a tenant whose provisioning failed and was rolled back starts a fresh run of the same tenant
 * id and domain. The earlier run's events stay in the stream; the state keeps a summary of it and starts the
 * new run with no step, so every step runs again under command ids of its own (the run is part of them).
 */

/** The number of the tenant's current provisioning run: 1 until it is provisioned again. */
export function provisioningRun(state: TenantState): number {
  return state.run ?? 1;
}

/** Why a tenant cannot be provisioned again now; each kind becomes its own refusal code at the edges. */
export type ReprovisionBlock =
  | { kind: 'in-progress' | 'active' | 'cancelled'; message: string }
  /** `parked`: compensations an operator must retry first (the rest finish by themselves). */
  | { kind: 'rollback'; message: string; parked: string[] };

/**
 * Undefined when the tenant may be provisioned again: its last run failed and its rollback is complete (every
 * compensation succeeded, none to run again because of a late result, no command of the run still in flight).
 */
export function reprovisionBlock(state: TenantState): ReprovisionBlock | undefined {
  const tenantId = state.tenant?.tenantId ?? 'unknown';
  const run = provisioningRun(state);
  const status = state.status;
  switch (status) {
    case 'requested':
    case 'provisioning':
      return {
        kind: 'in-progress',
        message: `tenant ${tenantId} is ${status === 'requested' ? 'requested' : 'being provisioned'} (run ${run}): only a failed run can be provisioned again`,
      };
    case 'rolling_back':
      return {
        kind: 'rollback',
        message: `tenant ${tenantId} is rolling back run ${run}: it can be provisioned again once the rollback completed`,
        parked: [],
      };
    case 'active':
    case 'suspended':
      return {
        kind: 'active',
        message: `tenant ${tenantId} is ${status}: only a tenant whose provisioning failed can be provisioned again`,
      };
    case 'cancelled':
    case 'deprovisioning':
    case 'purging':
    case 'purged':
      return {
        kind: 'cancelled',
        message: `tenant ${tenantId} is ${status}: its subscription was cancelled, a new subscription creates a new tenant`,
      };
    case 'failed':
      // Billing cancelled it after it failed: it is about to end `cancelled` (the orchestrator decides so).
      if (cancelledBeforeActivation(state)) {
        return {
          kind: 'cancelled',
          message: `tenant ${tenantId}: its subscription was cancelled after run ${run} failed, a new subscription creates a new tenant`,
        };
      }
      return openRollbackWork(state, tenantId, run);
    default: {
      const unreachable: never = status;
      return unreachable;
    }
  }
}

function openRollbackWork(state: TenantState, tenantId: string, run: number): ReprovisionBlock | undefined {
  const open = Object.values(state.steps).filter(isOpen);
  if (open.length === 0) return undefined;
  const parked = open.filter((step) => step.status === 'parked').map((step) => step.step);
  const listed = open.map((step) => `${step.step} ${step.stale ? 'to run again' : step.status}`).join(', ');
  const hint =
    parked.length > 0
      ? `retry the parked compensation${parked.length > 1 ? 's' : ''} first (${parked.join(', ')})`
      : 'it finishes by itself';
  return {
    kind: 'rollback',
    message: `tenant ${tenantId}: the rollback of run ${run} is not complete (${listed}): ${hint}`,
    parked,
  };
}

/** Rollback work not done: a compensation not (or no longer) succeeded, or any command still in flight. */
function isOpen(step: StepState): boolean {
  if (step.kind === 'compensation') return step.status !== 'succeeded' || step.stale;
  return step.status === 'running';
}

/**
 * The fold of `ReprovisioningRequested`: run `run` starts from `requested` with no step, the failed run kept
 * as a summary. Ignored unless the tenant may be provisioned again and `run` is the next run (a repeat of an
 * earlier request, or one decided on an older state, changes nothing).
 */
export function startRun(
  state: TenantState,
  data: LifecycleEventData['ReprovisioningRequested'],
): TenantState {
  const run = provisioningRun(state);
  if (data.run !== run + 1 || reprovisionBlock(state) || !state.rollback) return state;
  const failed: FailedRunState = {
    run,
    failedStep: state.rollback.failedStep,
    reason: state.rollback.reason,
    failedAt: state.failedAt,
    compensatedSteps: state.compensatedSteps ?? [],
  };
  const { rollback: _rollback, failedAt: _failedAt, compensatedSteps: _compensated, ...rest } = state;
  return {
    ...rest,
    status: 'requested',
    run: data.run,
    steps: {},
    failedRuns: [...(state.failedRuns ?? []), failed],
  };
}
