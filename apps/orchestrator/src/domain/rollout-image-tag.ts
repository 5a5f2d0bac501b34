import {
  imageTagVerifyKey,
  imageTagWorkloadsKey,
  pendingImageTagChange,
  tierChangeKey,
  workloadsRenderingUnsettled,
} from '@app/lifecycle';
import { startStep, type Decision, type DecisionContext } from './decision';

/**
 * An image tag change (a rollout reaches each tenant through one): the workloads deployed with the tag, then the
 * tenant verified the way provisioning verifies it, so the change counts only once the new pods are healthy.
 * Changes to the workloads apply in order: the deployment waits for any other rendering of the workloads in
 * flight (a tier change's quota update, a suspension asked before) and for a tier change about to start; a
 * suspension asked after it waits for its outcome (operations.ts). A failure of either step is retried while it
 * may pass, then parked (operations.ts), which fails the change.
 */
export function decideImageTagChange(ctx: DecisionContext): Decision[] {
  const { state } = ctx;
  const change = pendingImageTagChange(state);
  if (!change || state.status !== 'active') return [];
  const deployKey = imageTagWorkloadsKey(change.seq);
  const deploy = state.steps[deployKey];
  if (!deploy) {
    const tier = state.tierChange;
    const tierStarting = tier !== undefined && !tier.outcome && !state.steps[tierChangeKey(tier.seq)];
    if (tierStarting || workloadsRenderingUnsettled(state)) return [];
    return [startStep(ctx, deployKey, 'DeployWorkloads', { imageTag: change.imageTag })];
  }
  const verifyKey = imageTagVerifyKey(change.seq);
  if (deploy.status === 'succeeded' && !state.steps[verifyKey]) {
    return [startStep(ctx, verifyKey, 'VerifyKubernetes', {})];
  }
  return [];
}
