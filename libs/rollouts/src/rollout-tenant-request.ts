import { buildEvent, deterministicId, tenantStream } from '@app/contracts';
import { decideAndAppend, readStreamOrEmpty, type EventStore } from '@app/event-store';
import {
  admitImageTagChange,
  foldTenant,
  isRefusal,
  observeRolloutTenant,
  REFUSAL_CODES,
  type RolloutState,
  type RolloutTenantState,
  type TenantObservation,
} from '@app/lifecycle';

/** Who appends a rollout's requests to tenant streams (the orchestrator process drives rollouts). */
export const ROLLOUT_ACTOR = 'rollout';

/**
 * What a started tenant is at, from its own stream; when its change was not asked yet, asks for it (the
 * `ImageTagChangeRequested` under the checkpoint's event id, at the revision read: a driver restarted in
 * between, or a second one, finds it instead of asking twice). Undefined: wait and look again (another change of
 * the tenant's image tag is still being applied).
 */
export async function observeOrRequest(
  store: EventStore,
  rollout: RolloutState,
  tenant: RolloutTenantState,
  now: Date,
): Promise<TenantObservation | undefined> {
  const requestEventId = tenant.requestEventId!;
  const stream = tenantStream(tenant.tenantId);
  return decideAndAppend<TenantObservation | undefined>(store, stream, async () => {
    const events = await readStreamOrEmpty(store, stream);
    const state = foldTenant(events);
    const seen = observeRolloutTenant(state, requestEventId);
    if (seen) return { append: [], expectedRevision: 'any', result: seen };
    if (events.some((event) => event.id === requestEventId)) {
      const reason = 'the tenant did not take the change (it was not active when it arrived)';
      return { append: [], expectedRevision: 'any', result: { kind: 'skipped', reason } };
    }
    if (rollout.status === 'aborted') {
      const reason = 'the rollout was aborted before the change was asked';
      return { append: [], expectedRevision: 'any', result: { kind: 'skipped', reason } };
    }
    const admission = admitImageTagChange(state, {
      imageTag: rollout.imageTag,
      reason: `rollout ${rollout.rolloutId}: ${rollout.reason}`.slice(0, 500),
      requestedBy: `${ROLLOUT_ACTOR}:${rollout.rolloutId}`,
      requestedAt: now.toISOString(),
      rolloutId: rollout.rolloutId,
    });
    if (isRefusal(admission)) {
      if (admission.code === REFUSAL_CODES.CHANGE_IN_PROGRESS) {
        return { append: [], expectedRevision: 'any', result: undefined };
      }
      const result: TenantObservation =
        admission.code === REFUSAL_CODES.INVALID_IMAGE_TAG
          ? {
              kind: 'failed',
              error: { code: 'ROLLOUT.INVALID_IMAGE_TAG', message: admission.message, retryable: false },
            }
          : { kind: 'skipped', reason: admission.message };
      return { append: [], expectedRevision: 'any', result };
    }
    if (admission.events.length === 0) {
      return { append: [], expectedRevision: 'any', result: { kind: 'already-applied' } };
    }
    const [event] = admission.events;
    const appended = buildEvent(
      event.type,
      event.data,
      {
        tenantId: tenant.tenantId,
        correlationId: deterministicId('rollout', rollout.rolloutId),
        actor: ROLLOUT_ACTOR,
      },
      requestEventId,
      now,
    );
    const revision = events[events.length - 1].revision;
    return { append: [appended], expectedRevision: revision, result: { kind: 'in-progress' } };
  });
}
