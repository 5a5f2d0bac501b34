import type { FailureReason, LifecycleEventData } from '@app/contracts';

/*
 * The tenant summary's part of a re-provisioning (`ReprovisioningRequested`): the failed run moves to
 * `failedRuns` with its steps and failure, and the next run starts from `requested` with no step. Generic over
 * the summary's step shape so that the summary's own module imports this one, not the other way round.
 */

/** A provisioning run that failed and was rolled back, as it stood when the tenant was provisioned again. */
export interface FailedRun<Step> {
  run: number;
  failureReason: (FailureReason & { step: string }) | null;
  steps: Record<string, Step>;
  /** When, by whom (`billing` or `operator:<name>`) and why the next run was asked for. */
  reprovisionedAt: string;
  reprovisionedBy: string;
  reason: string;
}

/** The fields of a tenant summary a new run resets or extends. */
export interface RunFields<Step> {
  status: string;
  run?: number;
  steps: Record<string, Step>;
  currentStep: string | null;
  failureReason: (FailureReason & { step: string }) | null;
  failedRuns?: FailedRun<Step>[];
}

/**
 * A fresh run after a failed one. The orchestrator's fold decides whether the request is taken (its rollback must
 * be complete, which the API checks before appending); the summary follows the part of that rule it can see: the
 * tenant failed, and the event names the next run (a repeat of an earlier request changes nothing).
 */
export function startRun<Step, S extends RunFields<Step>>(
  state: S,
  data: LifecycleEventData['ReprovisioningRequested'],
  at: string,
): S {
  const run = state.run ?? 1;
  if (state.status !== 'failed' || data.run !== run + 1) return state;
  const failed: FailedRun<Step> = {
    run,
    failureReason: state.failureReason,
    steps: state.steps,
    reprovisionedAt: at,
    reprovisionedBy: data.requestedBy,
    reason: data.reason,
  };
  return {
    ...state,
    status: 'requested',
    run: data.run,
    steps: {},
    currentStep: null,
    failureReason: null,
    failedRuns: [...(state.failedRuns ?? []), failed],
  };
}
