import type { CommandType, FailureReason, LifecycleEventData, StepOutputs } from '@app/contracts';
import type { ImageTagChangeState, StepState, TenantState } from './state';

/*
 * A change of the workloads' image tag: `ImageTagChangeRequested` in the tenant's stream, then the workloads
 * deployed with the tag (`image-tag-<seq>:workloads`, DeployWorkloads) and the tenant verified
 * (`image-tag-<seq>:verify`, VerifyKubernetes: the Deployments rolled out and the tenant's /health). The change
 * is `applied` once the verification passed, `failed` once either step is parked. The tag the workloads were
 * deployed with is remembered from the deployment on, so later renderings (tier change, suspension,
 * resumption) keep it.
 */

export function imageTagWorkloadsKey(seq: number): string {
  return `image-tag-${seq}:workloads`;
}

export function imageTagVerifyKey(seq: number): string {
  return `image-tag-${seq}:verify`;
}

const IMAGE_TAG_KEY = /^image-tag-(\d+):(workloads|verify)$/;

/** Commands that render the tenant's workloads: two of them in flight could land in either order. */
export const WORKLOADS_RENDERING_COMMANDS: ReadonlySet<CommandType> = new Set<CommandType>([
  'DeployWorkloads',
  'UpdateQuota',
  'SuspendWorkloads',
  'ResumeWorkloads',
]);

/** The latest image tag change, if any. */
export function latestImageTagChange(state: TenantState): ImageTagChangeState | undefined {
  return state.imageTagChanges?.at(-1);
}

/** The change still being applied (requested, no outcome yet). */
export function pendingImageTagChange(state: TenantState): ImageTagChangeState | undefined {
  const change = latestImageTagChange(state);
  return change && !change.outcome ? change : undefined;
}

/** The change a request event appended, found by the event's id (a rollout's checkpoint names it). */
export function imageTagChangeOf(
  state: TenantState,
  requestEventId: string,
): ImageTagChangeState | undefined {
  return state.imageTagChanges?.find((change) => change.requestEventId === requestEventId);
}

/** Parameters of a workloads rendering: the tenant's own tag once it has one. */
export function imageTagParams(state: TenantState): StepOutputs {
  return state.imageTag ? { imageTag: state.imageTag } : {};
}

/** Whether a command rendering the workloads is in flight (or failed and about to be retried or parked). */
export function workloadsRenderingUnsettled(state: TenantState): boolean {
  return Object.values(state.steps).some(
    (run) =>
      WORKLOADS_RENDERING_COMMANDS.has(run.commandType) &&
      (run.status === 'running' || run.status === 'failed' || run.status === 'timed_out'),
  );
}

/** Whether the pending change's deployment is in flight: a tier change's quota update waits for it. */
export function imageTagDeploymentUnsettled(state: TenantState): boolean {
  const change = pendingImageTagChange(state);
  const run = change && state.steps[imageTagWorkloadsKey(change.seq)];
  return run !== undefined && run.status !== 'succeeded' && run.status !== 'parked';
}

/** The fold of `ImageTagChangeRequested`: taken by an active tenant without a change in progress. */
export function requestImageTag(
  state: TenantState,
  data: LifecycleEventData['ImageTagChangeRequested'],
  eventId: string,
): TenantState {
  if (state.status !== 'active' || pendingImageTagChange(state)) return state;
  const change: ImageTagChangeState = {
    seq: (latestImageTagChange(state)?.seq ?? 0) + 1,
    imageTag: data.imageTag,
    requestedBy: data.requestedBy,
    ...(data.rolloutId ? { rolloutId: data.rolloutId } : {}),
    requestEventId: eventId,
  };
  return { ...state, imageTagChanges: [...(state.imageTagChanges ?? []), change] };
}

function withLatest(state: TenantState, change: ImageTagChangeState): TenantState {
  const changes = state.imageTagChanges ?? [];
  return { ...state, imageTagChanges: [...changes.slice(0, -1), change] };
}

/** A step of the pending change, by its key. */
function pendingStepOf(state: TenantState, key: string): 'workloads' | 'verify' | undefined {
  const change = pendingImageTagChange(state);
  const match = IMAGE_TAG_KEY.exec(key);
  if (!change || !match || Number(match[1]) !== change.seq) return undefined;
  return match[2] as 'workloads' | 'verify';
}

/** A step of the pending change succeeded: the tag is deployed (workloads), or the change applied (verify). */
export function imageTagStepSucceeded(state: TenantState, run: StepState): TenantState {
  const part = run.status === 'succeeded' ? pendingStepOf(state, run.step) : undefined;
  const change = pendingImageTagChange(state);
  if (!part || !change) return state;
  if (part === 'workloads') return { ...state, imageTag: change.imageTag };
  return withLatest(state, { ...change, outcome: 'applied' });
}

/** A step of the pending change was parked: the change failed with the step's reason. */
export function imageTagStepParked(state: TenantState, run: StepState, reason: FailureReason): TenantState {
  const change = pendingImageTagChange(state);
  if (!change || !pendingStepOf(state, run.step)) return state;
  return withLatest(state, { ...change, outcome: 'failed', error: reason });
}

/** An operator's retry of the failed change's parked step makes the change pending again. */
export function imageTagStepReopened(state: TenantState, key: string): TenantState {
  const change = latestImageTagChange(state);
  const match = IMAGE_TAG_KEY.exec(key);
  if (change?.outcome !== 'failed' || !match || Number(match[1]) !== change.seq) return state;
  const { outcome: _outcome, error: _error, ...pending } = change;
  return withLatest(state, pending);
}
