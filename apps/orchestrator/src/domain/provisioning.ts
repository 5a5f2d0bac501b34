import type { FailureReason, ProvisioningStep, StepOutputs } from '@app/contracts';
import {
  COMPENSABLE_STEPS,
  GATING_STEPS,
  cancelledBeforeActivation,
  compensationKey,
  dependenciesMet,
  dependentsOf,
  type TenantState,
} from '@app/lifecycle';
import {
  UNKNOWN_FAILURE,
  hasFailed,
  isSucceeded,
  mayRetry,
  restartStep,
  startStep,
  websiteIdOf,
  type Decision,
  type DecisionContext,
} from './decision';

export const CANCELLED_DURING_PROVISIONING = 'ORCHESTRATOR.CANCELLED_DURING_PROVISIONING';

/** Status requested/provisioning: run the DAG, retry what may pass, roll back on a final failure, activate. */
export function decideProvisioning(ctx: DecisionContext): Decision[] {
  const { state, config } = ctx;
  const cancellation = state.cancellation;
  if (cancellation?.duringProvisioning) {
    const reason: FailureReason = {
      code: CANCELLED_DURING_PROVISIONING,
      message: `subscription ${cancellation.subscriptionId} cancelled before activation: ${cancellation.reason}`,
      retryable: false,
    };
    return [{ type: 'RollbackStarted', data: { failedStep: 'cancellation', reason } }];
  }

  const decisions: Decision[] = [];
  for (const step of GATING_STEPS) {
    const run = state.steps[step.name];
    if (!run || !hasFailed(run)) continue;
    if (!mayRetry(run, config.maxAttempts)) {
      return [
        { type: 'RollbackStarted', data: { failedStep: step.name, reason: run.error ?? UNKNOWN_FAILURE } },
      ];
    }
    decisions.push(restartStep(ctx, run));
  }

  const succeeded = (name: string) => isSucceeded(state, name);
  for (const step of GATING_STEPS) {
    if (!state.steps[step.name] && dependenciesMet(step, succeeded, false)) {
      decisions.push(startStep(ctx, step.name, step.command, {}));
    }
  }
  if (decisions.length === 0 && GATING_STEPS.every((step) => succeeded(step.name))) {
    return [{ type: 'TenantActivated', data: { activatedAt: ctx.now.toISOString() } }];
  }
  return decisions;
}

/**
 * Status rolling_back (and failed or cancelled, where a late result can still reopen a compensation): undo
 * every step that ever started, in-flight ones included, each only after the steps depending on it are undone.
 * A rollback ends as cancelled when billing cancelled the subscription before activation (before or during the
 * rollback), else as failed; a failed tenant cancelled afterwards ends as cancelled too.
 */
export function decideRollback(ctx: DecisionContext): Decision[] {
  const { state, config } = ctx;
  const decisions: Decision[] = [];
  for (const step of COMPENSABLE_STEPS) {
    if (!state.steps[step.name]) continue;
    const key = compensationKey(step.name);
    const run = state.steps[key];
    const ordered = dependentsOf(step.name).every((dependent) => isCompensated(state, dependent.name));
    const params = compensationParams(state, step);
    if (!run) {
      if (ordered) decisions.push(startStep(ctx, key, step.compensation, params));
      continue;
    }
    switch (run.status) {
      case 'running':
        break;
      case 'failed':
      case 'timed_out':
        if (run.stale || run.roundAttempt < config.compensationMaxAttempts) {
          decisions.push(restartStep(ctx, run, params));
        } else {
          const reason = run.error ?? UNKNOWN_FAILURE;
          decisions.push({
            type: 'CompensationParked',
            data: { step: key, commandId: run.commandId, reason },
          });
        }
        break;
      case 'succeeded':
        if (run.stale && ordered) decisions.push(restartStep(ctx, run, params));
        break;
      case 'parked':
        if ((run.stale || run.retryRequested) && ordered) decisions.push(restartStep(ctx, run, params));
        break;
      default: {
        const _exhaustive: never = run.status;
        return _exhaustive;
      }
    }
  }

  const rollback = state.rollback;
  // A failed tenant's rollback ended already: billing's cancellation of it ends it again, as cancelled.
  const ending =
    state.status === 'rolling_back' || (state.status === 'failed' && cancelledBeforeActivation(state));
  if (decisions.length > 0 || !ending || !rollback) return decisions;
  if (!COMPENSABLE_STEPS.every((step) => isCompensated(state, step.name))) return decisions;
  const compensatedSteps = COMPENSABLE_STEPS.filter(
    (step) => state.steps[compensationKey(step.name)]?.status === 'succeeded',
  ).map((step) => step.name);
  const cancellation = state.cancellation;
  if (cancellation?.duringProvisioning) {
    const { subscriptionId, reason } = cancellation;
    const cancelledAt = ctx.now.toISOString();
    return [
      { type: 'ProvisioningCancelled', data: { subscriptionId, reason, compensatedSteps, cancelledAt } },
    ];
  }
  return [
    {
      type: 'TenantProvisioningFailed',
      data: { failedStep: rollback.failedStep, reason: rollback.reason, compensatedSteps },
    },
  ];
}

/**
 * Whether nothing of a step remains to undo: it never started, has nothing to undo, or its compensation
 * finished (or was parked for an operator) after the step's own last result.
 */
export function isCompensated(state: TenantState, step: string): boolean {
  if (!state.steps[step]) return true;
  if (!COMPENSABLE_STEPS.some((candidate) => candidate.name === step)) return true;
  const run = state.steps[compensationKey(step)];
  return run !== undefined && !run.stale && (run.status === 'succeeded' || run.status === 'parked');
}

function compensationParams(state: TenantState, step: ProvisioningStep): StepOutputs {
  return step.compensation === 'DeleteWebsiteRecord' ? { websiteId: websiteIdOf(state) } : {};
}
