import type { LifecycleEventData } from '@app/contracts';
import {
  admitImageTagChange,
  imageTagVerifyKey,
  imageTagWorkloadsKey,
  isRefusal,
  latestImageTagChange,
  REFUSAL_CODES,
  tierChangeKey,
  workloadsOperationKey,
} from '@app/lifecycle';
import { lifecycleEvent, PERMANENT, TenantSim, TRANSIENT, startedSteps, types } from './testing';

function activeTenant(): TenantSim {
  const sim = new TenantSim();
  sim.request();
  return sim.activate();
}

function change(imageTag = 'v2.0.0', rolloutId?: string): LifecycleEventData['ImageTagChangeRequested'] {
  return {
    imageTag,
    reason: 'release 2.0',
    requestedBy: 'operator:olivia',
    requestedAt: '2025-06-01T10:00:00.000Z',
    ...(rolloutId ? { rolloutId } : {}),
  };
}

/** Asks for a change as the API would: only what the admission decider lets through. */
function requestChange(sim: TenantSim, imageTag = 'v2.0.0') {
  const admission = admitImageTagChange(sim.state, change(imageTag));
  if (isRefusal(admission)) throw admission;
  return admission.events.flatMap((event) => sim.emit('ImageTagChangeRequested', event.data as never));
}

describe('an image tag change', () => {
  it('deploys the workloads with the tag, then verifies the tenant, and is applied once verified', () => {
    const sim = activeTenant();
    const started = requestChange(sim);
    expect(started).toHaveLength(1);
    expect(started[0]).toMatchObject({
      type: 'StepStarted',
      data: { step: imageTagWorkloadsKey(1), commandType: 'DeployWorkloads', params: { imageTag: 'v2.0.0' } },
    });
    const verify = sim.succeed(imageTagWorkloadsKey(1));
    expect(sim.state.imageTag).toBe('v2.0.0');
    expect(latestImageTagChange(sim.state)?.outcome).toBeUndefined();
    expect(verify[0]).toMatchObject({
      data: { step: imageTagVerifyKey(1), commandType: 'VerifyKubernetes' },
    });
    expect(sim.succeed(imageTagVerifyKey(1))).toEqual([]);
    expect(latestImageTagChange(sim.state)).toMatchObject({ seq: 1, imageTag: 'v2.0.0', outcome: 'applied' });
    expect(sim.state.status).toBe('active');
  });

  it('fails when the verification fails for good: the step is parked with the reason', () => {
    const sim = activeTenant();
    requestChange(sim);
    sim.succeed(imageTagWorkloadsKey(1));
    expect(types(sim.fail(imageTagVerifyKey(1), PERMANENT))).toEqual(['StepParked']);
    expect(latestImageTagChange(sim.state)).toMatchObject({ outcome: 'failed', error: PERMANENT });
    // The tenant stays active; a new change may be asked.
    expect(sim.state.status).toBe('active');
    expect(isRefusal(admitImageTagChange(sim.state, change('v2.0.1')))).toBe(false);
  });

  it('retries a deployment whose failure may pass, then fails it once attempts are used up', () => {
    const sim = activeTenant();
    requestChange(sim);
    expect(startedSteps(sim.fail(imageTagWorkloadsKey(1), TRANSIENT))).toEqual([imageTagWorkloadsKey(1)]);
    expect(types(sim.fail(imageTagWorkloadsKey(1), TRANSIENT))).toEqual(['StepParked']);
    expect(latestImageTagChange(sim.state)?.outcome).toBe('failed');
    expect(sim.state.steps[imageTagVerifyKey(1)]).toBeUndefined();
  });

  it('carries the tag into every later rendering of the workloads: tier change, suspension, resumption', () => {
    const sim = activeTenant();
    requestChange(sim);
    sim.succeed(imageTagWorkloadsKey(1));
    sim.succeed(imageTagVerifyKey(1));
    const tier = sim.emit('TierChangeRequested', {
      fromTier: 'premium',
      toTier: 'business',
      requestedBy: 'billing',
    });
    expect(tier[0]).toMatchObject({ data: { step: tierChangeKey(1), params: { imageTag: 'v2.0.0' } } });
    const suspend = sim.emit('SuspensionRequested', { reason: 'unpaid', requestedBy: 'billing' });
    expect(suspend[0]).toMatchObject({
      data: { step: workloadsOperationKey(1, 'suspend'), params: { imageTag: 'v2.0.0' } },
    });
  });

  it('waits for a tier change about to start, and a suspension asked later waits for the change', () => {
    const sim = activeTenant();
    // Both asked before the orchestrator decided: the tier change's quota update goes first.
    const tier = { fromTier: 'premium' as const, toTier: 'business' as const, requestedBy: 'billing' };
    sim.fold(lifecycleEvent('TierChangeRequested', tier, sim.now));
    expect(startedSteps(requestChange(sim))).toEqual([tierChangeKey(1)]);
    const afterQuota = sim.succeed(tierChangeKey(1));
    expect(startedSteps(afterQuota)).toContain(imageTagWorkloadsKey(1));
    // A suspension asked while the image change is being applied waits for its outcome.
    const suspension = { reason: 'unpaid', requestedBy: 'billing' };
    expect(startedSteps(sim.emit('SuspensionRequested', suspension))).toEqual([]);
    sim.succeed(imageTagWorkloadsKey(1));
    expect(startedSteps(sim.succeed(imageTagVerifyKey(1)))).toEqual([workloadsOperationKey(1, 'suspend')]);
  });

  it('an operator retry of the parked step makes the change pending again, and its success applies it', () => {
    const sim = activeTenant();
    requestChange(sim);
    sim.succeed(imageTagWorkloadsKey(1));
    sim.fail(imageTagVerifyKey(1), PERMANENT);
    sim.emit('OperatorRetryRequested', { step: imageTagVerifyKey(1), reason: 'fixed', operator: 'olivia' });
    expect(latestImageTagChange(sim.state)?.outcome).toBeUndefined();
    sim.succeed(imageTagVerifyKey(1));
    expect(latestImageTagChange(sim.state)?.outcome).toBe('applied');
  });
});

describe('admitImageTagChange', () => {
  it('refuses an invalid tag, a tenant that is not active, and a second change while one is pending', () => {
    const sim = activeTenant();
    for (const tag of ['', '-v1', 'v1/evil', 'a'.repeat(129), 'v1 2', 'v1:2']) {
      const refused = admitImageTagChange(sim.state, change(tag));
      expect(isRefusal(refused) && refused.code).toBe(REFUSAL_CODES.INVALID_IMAGE_TAG);
    }
    requestChange(sim);
    const second = admitImageTagChange(sim.state, change('v3'));
    expect(isRefusal(second) && second.code).toBe(REFUSAL_CODES.CHANGE_IN_PROGRESS);
    const suspended = activeTenant();
    suspended.emit('SuspensionRequested', { reason: 'unpaid', requestedBy: 'billing' });
    const refused = admitImageTagChange(suspended.state, change());
    expect(isRefusal(refused) && refused.code).toBe(REFUSAL_CODES.TENANT_NOT_ACTIVE);
    expect(isRefusal(refused) && refused.message).toContain('being suspended');
  });

  it('admits nothing when the tenant already runs the tag, verified', () => {
    const sim = activeTenant();
    requestChange(sim);
    sim.succeed(imageTagWorkloadsKey(1));
    sim.succeed(imageTagVerifyKey(1));
    expect(admitImageTagChange(sim.state, change('v2.0.0'))).toEqual({ events: [] });
  });

  it('the fold ignores a request the admission would refuse (a tenant not active)', () => {
    const sim = new TenantSim();
    sim.request();
    sim.emit('ImageTagChangeRequested', change());
    expect(sim.state.imageTagChanges).toBeUndefined();
  });
});
