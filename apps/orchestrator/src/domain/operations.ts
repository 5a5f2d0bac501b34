import type { CommandType, LifecycleEventData, ProvisioningStep, StepOutputs } from '@app/contracts';
import {
  AFTER_ACTIVATION_STEPS,
  cancellationKey,
  dependenciesMet,
  imageTagDeploymentUnsettled,
  pendingImageTagChange,
  reactivationKey,
  TIER_LIMITS_WORK,
  tierChangeKey,
  tierLimitsKey,
  workloadsOperationKey,
  type StepState,
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
  websiteRecordBusy,
  type Decision,
  type DecisionContext,
} from './decision';
import { decideImageTagChange } from './rollout-image-tag';

/**
 * Work that never rolls a tenant back: after-activation steps, notices, namespace (un)marking, quota and
 * suspension changes. A failure is retried while it may pass, then parked as an alert for an operator.
 */
export function decideOperations(ctx: DecisionContext): Decision[] {
  return [
    ...settleOperationRuns(ctx),
    ...startAfterActivation(ctx),
    ...decideReactivation(ctx),
    ...decideChanges(ctx),
    ...decideImageTagChange(ctx),
  ];
}

function settleOperationRuns(ctx: DecisionContext): Decision[] {
  const decisions: Decision[] = [];
  for (const run of Object.values(ctx.state.steps)) {
    if (run.kind !== 'after-activation' && run.kind !== 'operation') continue;
    if (hasFailed(run)) {
      if (mayRetry(run, ctx.config.maxAttempts) && mayRunNow(ctx.state, run.commandType, run.step)) {
        decisions.push(restartStep(ctx, run));
      } else if (!isRefusal(run)) {
        const reason = run.error ?? UNKNOWN_FAILURE;
        decisions.push({ type: 'StepParked', data: { step: run.step, commandId: run.commandId, reason } });
      }
    } else if (
      run.status === 'parked' &&
      run.retryRequested &&
      mayRunNow(ctx.state, run.commandType, run.step)
    ) {
      decisions.push(restartStep(ctx, run));
    }
  }
  return decisions;
}

/**
 * Activating the website record is right only while the tenant operates: once cancelled, a retry would mark
 * a soft-deleted record active again. Such a run is parked instead (the soft delete waits for it to settle,
 * see websiteRecordBusy), and an operator's retry of it, like the first run for a tenant activated before
 * the step existed, waits for a reactivation's restore to settle.
 */
function mayRunNow(state: TenantState, command: CommandType, step: string): boolean {
  if (command !== 'ActivateWebsiteRecord') return true;
  const operating = state.status === 'active' || state.status === 'suspended';
  const reactivation = state.reactivation;
  const restoreDecided =
    !reactivation || state.steps[reactivationKey(reactivation.count, 'restore-website')] !== undefined;
  return operating && restoreDecided && !websiteRecordBusy(state, step);
}

/** A refused quota change is an answer, not an incident: the refusal event is the record. */
function isRefusal(run: StepState): boolean {
  return run.commandType === 'UpdateQuota' && run.status === 'failed' && run.error?.retryable !== true;
}

function startAfterActivation(ctx: DecisionContext): Decision[] {
  const { state } = ctx;
  const activatedAt = state.activatedAt;
  if (state.status !== 'active' || !activatedAt) return [];
  const succeeded = (name: string) => isSucceeded(state, name);
  return AFTER_ACTIVATION_STEPS.filter(
    (step) =>
      !state.steps[step.name] &&
      dependenciesMet(step, succeeded, true) &&
      mayRunNow(state, step.command, step.name),
  ).map((step) => startStep(ctx, step.name, step.command, afterActivationParams(state, step, activatedAt)));
}

/** The record is activated by the id `website` reported, at the tenant's own activation instant (spec 11.1). */
function afterActivationParams(state: TenantState, step: ProvisioningStep, activatedAt: string): StepOutputs {
  return step.command === 'ActivateWebsiteRecord' ? { websiteId: websiteIdOf(state), activatedAt } : {};
}

/**
 * After a reactivation: remove the namespace's deprovisioning marks (once the marking settled), restore the
 * website record (once every soft delete settled, retries included, so none lands after the restore) and
 * tell the customer.
 */
function decideReactivation(ctx: DecisionContext): Decision[] {
  const { state } = ctx;
  const reactivation = state.reactivation;
  if (!reactivation || (state.status !== 'active' && state.status !== 'suspended')) return [];
  const decisions: Decision[] = [];
  const unmarkKey = reactivationKey(reactivation.count, 'unmark-namespace');
  const marking = state.steps[cancellationKey(reactivation.cycle, 'mark-namespace')];
  if (!state.steps[unmarkKey] && marking?.status !== 'running') {
    decisions.push(startStep(ctx, unmarkKey, 'UnmarkNamespaceDeprovisioning', {}));
  }
  const restoreKey = reactivationKey(reactivation.count, 'restore-website');
  if (!state.steps[restoreKey] && !websiteRecordBusy(state)) {
    decisions.push(startStep(ctx, restoreKey, 'RestoreWebsiteRecord', { websiteId: websiteIdOf(state) }));
  }
  const noticeKey = reactivationKey(reactivation.count, 'reactivation-notice');
  if (!state.steps[noticeKey]) {
    decisions.push(
      startStep(ctx, noticeKey, 'SendReactivationNotice', { reactivatedAt: reactivation.reactivatedAt }),
    );
  }
  return decisions;
}

/**
 * After the quota, the only part of a tier change that may refuse (a downgrade below current usage), the new
 * tier's limits go to MySQL, RabbitMQ and the object store side by side. None of them refuses: a lower limit
 * only stops new connections, queues or writes beyond it. The tier is recorded once every limit step has
 * settled; one that failed for good is parked as an alert (the servers keep the old tier's limit until an
 * operator retries it) rather than holding the tenant between two tiers, with the quota already changed.
 * While the tenant is being purged its resources are going away, so no limit is set.
 */
function decideTierLimits(
  ctx: DecisionContext,
  seq: number,
  change: LifecycleEventData['TierChanged'],
): Decision[] {
  const { state } = ctx;
  const purging = state.status === 'purging' || state.status === 'purged';
  const decisions: Decision[] = [];
  let settled = true;
  for (const { work, command } of TIER_LIMITS_WORK) {
    const key = tierLimitsKey(seq, work);
    const run = state.steps[key];
    if (!run && !purging) {
      decisions.push(startStep(ctx, key, command, change));
      settled = false;
    } else if (run && run.status !== 'succeeded' && run.status !== 'parked') {
      settled = false;
    }
  }
  if (settled) decisions.push({ type: 'TierChanged', data: change });
  return decisions;
}

function decideChanges(ctx: DecisionContext): Decision[] {
  const { state } = ctx;
  const operating = state.status === 'active' || state.status === 'suspended';
  const decisions: Decision[] = [];

  const tier = state.tierChange;
  if (tier && !tier.outcome) {
    const key = tierChangeKey(tier.seq);
    const run = state.steps[key];
    // The quota update renders the workloads too: it waits for an image tag deployment in flight.
    if (!run && operating && !imageTagDeploymentUnsettled(state)) {
      const params = { fromTier: tier.fromTier, toTier: tier.toTier };
      decisions.push(startStep(ctx, key, 'UpdateQuota', params));
    } else if (run?.status === 'succeeded') {
      decisions.push(...decideTierLimits(ctx, tier.seq, { fromTier: tier.fromTier, toTier: tier.toTier }));
    }
  }

  const op = state.workloadsOperation;
  if (op && !op.outcome && operating) {
    const key = workloadsOperationKey(op.seq, op.kind);
    // Asked after an image tag change (admission refuses the opposite order), it waits for that change.
    if (!state.steps[key] && !pendingImageTagChange(state)) {
      const command = op.kind === 'suspend' ? 'SuspendWorkloads' : 'ResumeWorkloads';
      decisions.push(startStep(ctx, key, command, {}));
    }
  }
  return decisions;
}
