import { IMAGE_TAG_PATTERN, isImageTag, type LifecycleEventData } from '@app/contracts';
import { LifecycleRefusal, REFUSAL_CODES, workloadsTarget, type Admission } from './admission';
import { latestImageTagChange, pendingImageTagChange } from './image-tag';
import type { TenantState } from './state';

/**
 * "Change image tag" on one tenant (an operator's, or a rollout's for each tenant it reaches): only an active
 * tenant whose workloads stay up (no suspension asked), one change at a time. None when the tenant already runs
 * the tag and its last change to it was verified: there is nothing to deploy.
 */
export function admitImageTagChange(
  state: TenantState,
  request: LifecycleEventData['ImageTagChangeRequested'],
): Admission {
  const tenant = state.tenant;
  if (!tenant) return new LifecycleRefusal(REFUSAL_CODES.TENANT_NOT_FOUND, 'tenant does not exist');
  if (!isImageTag(request.imageTag)) {
    const shown = JSON.stringify(String(request.imageTag).slice(0, 140));
    return new LifecycleRefusal(
      REFUSAL_CODES.INVALID_IMAGE_TAG,
      `image tag ${shown} is not an OCI tag (${IMAGE_TAG_PATTERN})`,
    );
  }
  const target = workloadsTarget(state);
  if (state.status !== 'active' || target !== 'active') {
    const shown = state.status === 'active' ? 'being suspended' : state.status;
    return new LifecycleRefusal(
      REFUSAL_CODES.TENANT_NOT_ACTIVE,
      `tenant ${tenant.tenantId} is ${shown}: cannot change its image tag (needs active)`,
    );
  }
  const pending = pendingImageTagChange(state);
  if (pending) {
    return new LifecycleRefusal(
      REFUSAL_CODES.CHANGE_IN_PROGRESS,
      `tenant ${tenant.tenantId} is still changing its image tag to ${pending.imageTag}`,
    );
  }
  const last = latestImageTagChange(state);
  if (state.imageTag === request.imageTag && last?.outcome === 'applied') return { events: [] };
  return { events: [{ type: 'ImageTagChangeRequested', data: request }] };
}
