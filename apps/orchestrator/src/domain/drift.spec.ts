import type { FailureReason, LifecycleEventData } from '@app/contracts';
import {
  GATING_STEPS,
  admitDriftCheck,
  admitDriftRepair,
  admitImageTagChange,
  driftVerifyKey,
  imageTagVerifyKey,
  imageTagWorkloadsKey,
  isRefusal,
  type Admission,
} from '@app/lifecycle';
import { pendingCommands } from './queries';
import type { DecidedEvent } from './decide';
import { PROFILE, TRANSIENT, TenantSim, startedSteps, types } from './testing';

const VERIFY_KEYS = ['databases', 'storage', 'broker', 'kubernetes'].map((r) => driftVerifyKey(1, r));

const QUEUE_DELETED: FailureReason = {
  code: 'BROKER.VERIFICATION_FAILED',
  message: `failed checks: queue:${PROFILE.tenantId}.orders, binding:${PROFILE.tenantId}.orders:order.*`,
  retryable: false,
};
const GRANT_REVOKED: FailureReason = {
  code: 'DATABASE.VERIFICATION_FAILED',
  message: 'failed checks: abc_corporation_orders_u:grants, abc_corporation_orders_u:own-database',
  retryable: false,
};

function activeTenant(): TenantSim {
  const sim = new TenantSim();
  sim.request();
  sim.activate();
  expect(sim.runningSteps()).toEqual([]);
  return sim;
}

/** Appends what the API appends for an admitted request (nothing on a refusal, which it returns). */
function admit(sim: TenantSim, admission: Admission): DecidedEvent[] {
  if (isRefusal(admission)) throw admission;
  return admission.events.flatMap((event) => sim.emit(event.type, event.data as never));
}

function check(sim: TenantSim): DecidedEvent[] {
  return admit(
    sim,
    admitDriftCheck(sim.state, { requestedBy: 'operator:alice', requestedAt: sim.now.toISOString() }),
  );
}

function approve(sim: TenantSim, driftId: string): DecidedEvent[] {
  const at = sim.now.toISOString();
  return admit(
    sim,
    admitDriftRepair(sim.state, {
      driftId,
      reason: 'ticket 7',
      approvedBy: 'operator:alice',
      approvedAt: at,
    }),
  );
}

function dataOf<T extends keyof LifecycleEventData>(
  decisions: readonly DecidedEvent[],
  type: T,
): LifecycleEventData[T] {
  const found = decisions.find((decision) => decision.type === type);
  if (!found) throw new Error(`no ${type} in ${JSON.stringify(types(decisions))}`);
  return found.data as LifecycleEventData[T];
}

describe('drift checks', () => {
  it('verifies every resource under its own step keys and command ids, leaving the tenant active', () => {
    const sim = activeTenant();
    const decisions = check(sim);
    expect(startedSteps(decisions)).toEqual(VERIFY_KEYS);
    const provisioningIds = GATING_STEPS.map((step) => sim.run(step.name).commandId);
    const driftIds = VERIFY_KEYS.map((key) => sim.run(key).commandId);
    expect(driftIds.filter((id) => provisioningIds.includes(id))).toEqual([]);
    expect(sim.run(VERIFY_KEYS[0]).commandType).toBe('VerifyDatabases');
    expect(sim.run(VERIFY_KEYS[3]).commandType).toBe('VerifyKubernetes');

    for (const key of VERIFY_KEYS.slice(0, 3)) expect(sim.succeed(key)).toEqual([]);
    const done = sim.succeed(VERIFY_KEYS[3]);
    expect(dataOf(done, 'DriftCheckCompleted')).toMatchObject({ check: 1, drifts: [], inconclusive: [] });
    expect(sim.state.status).toBe('active');
    // Settled checks leave no step behind: a tenant checked daily keeps a small state.
    expect(Object.keys(sim.state.steps).filter((key) => key.startsWith('drift-'))).toEqual([]);

    // The next check numbers its keys anew, so no service deduplicates its commands away.
    expect(startedSteps(check(sim))).toEqual(
      ['databases', 'storage', 'broker', 'kubernetes'].map((r) => driftVerifyKey(2, r)),
    );
  });

  it('repairs a missing queue by itself: provision again, verify again, DriftRepaired', () => {
    const sim = activeTenant();
    check(sim);
    const detected = sim.fail(driftVerifyKey(1, 'broker'), QUEUE_DELETED);
    expect(dataOf(detected, 'DriftDetected')).toMatchObject({
      driftId: '1-broker',
      resource: 'broker',
      step: 'drift-1:verify-broker',
      code: 'BROKER.VERIFICATION_FAILED',
      kind: 'broker-topology',
      automatic: true,
    });
    expect(startedSteps(detected)).toEqual(['drift-1:repair-1:broker']);
    expect(sim.run('drift-1:repair-1:broker').commandType).toBe('ProvisionBroker');

    expect(startedSteps(sim.succeed('drift-1:repair-1:broker'))).toEqual(['drift-1:reverify-1:broker']);
    expect(sim.run('drift-1:reverify-1:broker').commandType).toBe('VerifyBroker');
    const repaired = sim.succeed('drift-1:reverify-1:broker');
    expect(dataOf(repaired, 'DriftRepaired')).toMatchObject({
      driftId: '1-broker',
      kind: 'broker-topology',
      verifiedBy: 'drift-1:reverify-1:broker',
    });
    expect(sim.state.drift?.open).toEqual({});
    expect(sim.state.status).toBe('active');

    for (const key of ['databases', 'storage', 'kubernetes']) sim.succeed(driftVerifyKey(1, key));
    expect(sim.decided.map((d) => d.type)).toContain('DriftCheckCompleted');
    const completed = sim.decided.filter((d) => d.type === 'DriftCheckCompleted').at(-1);
    expect(completed?.data).toMatchObject({ drifts: ['1-broker'] });
  });

  it('waits for an operator before repairing a revoked grant, then repairs it', () => {
    const sim = activeTenant();
    check(sim);
    const detected = sim.fail(driftVerifyKey(1, 'databases'), GRANT_REVOKED);
    expect(dataOf(detected, 'DriftDetected')).toMatchObject({
      kind: 'database-grants',
      kinds: ['database-grants'],
      automatic: false,
    });
    expect(startedSteps(detected)).toEqual([]);

    const approved = approve(sim, '1-databases');
    expect(startedSteps(approved)).toEqual(['drift-1:repair-1:databases']);
    expect(sim.run('drift-1:repair-1:databases').commandType).toBe('ProvisionDatabases');
    // Approving again while it runs is refused, not recorded twice.
    const again = admitDriftRepair(sim.state, {
      driftId: '1-databases',
      reason: 'again',
      approvedBy: 'operator:bob',
      approvedAt: sim.now.toISOString(),
    });
    expect(isRefusal(again) && again.code).toBe('DRIFT_REPAIR_IN_PROGRESS');

    sim.succeed('drift-1:repair-1:databases');
    expect(types(sim.succeed('drift-1:reverify-1:databases'))).toEqual(['DriftRepaired']);
  });

  it("repairs the workloads with the tenant's applied image tag, not the service's default", () => {
    const sim = activeTenant();
    const tag = admitImageTagChange(sim.state, {
      imageTag: 'v2.0.0',
      reason: 'release 2.0',
      requestedBy: 'operator:olivia',
      requestedAt: sim.now.toISOString(),
    });
    admit(sim, tag);
    sim.succeed(imageTagWorkloadsKey(1));
    sim.succeed(imageTagVerifyKey(1));
    expect(sim.state.imageTag).toBe('v2.0.0');

    check(sim);
    sim.fail(driftVerifyKey(1, 'kubernetes'), {
      code: 'K8S.VERIFICATION_FAILED',
      message: 'failed checks: deployment:api-gateway',
      retryable: false,
    });
    expect(startedSteps(approve(sim, '1-kubernetes'))).toEqual(['drift-1:repair-1:kubernetes']);
    expect(sim.run('drift-1:repair-1:kubernetes')).toMatchObject({
      commandType: 'DeployWorkloads',
      params: { imageTag: 'v2.0.0' },
    });
  });

  it('keeps a drift open when its repair fails; the next repair needs an approval and new keys', () => {
    const sim = activeTenant();
    check(sim);
    sim.fail(driftVerifyKey(1, 'broker'), QUEUE_DELETED);
    const failure: FailureReason = {
      code: 'BROKER.VHOST_DAMAGED',
      message: 'repair it by hand',
      retryable: false,
    };
    const failed = sim.fail('drift-1:repair-1:broker', failure);
    expect(dataOf(failed, 'DriftRepairFailed')).toMatchObject({ driftId: '1-broker', error: failure });
    expect(startedSteps(failed)).toEqual([]);
    expect(sim.state.drift?.open['1-broker']).toMatchObject({ failedRepairs: 1 });

    expect(startedSteps(approve(sim, '1-broker'))).toEqual(['drift-1:repair-2:broker']);
    const firstId = sim.events
      .map((event) => event.data as Partial<LifecycleEventData['StepStarted']>)
      .find((data) => data.step === 'drift-1:repair-1:broker')?.commandId;
    expect(sim.run('drift-1:repair-2:broker').commandId).not.toBe(firstId);
  });

  it('retries a verify that could not reach its service, then counts the resource as unchecked', () => {
    const sim = activeTenant();
    check(sim);
    const retried = sim.fail(driftVerifyKey(1, 'storage'), TRANSIENT);
    expect(startedSteps(retried)).toEqual([driftVerifyKey(1, 'storage')]);
    expect(types(sim.fail(driftVerifyKey(1, 'storage'), TRANSIENT))).toEqual([]);
    for (const key of ['databases', 'broker']) sim.succeed(driftVerifyKey(1, key));
    const done = sim.succeed(driftVerifyKey(1, 'kubernetes'));
    expect(dataOf(done, 'DriftCheckCompleted')).toMatchObject({ drifts: [], inconclusive: ['storage'] });
    expect(sim.decided.some((d) => d.type === 'DriftDetected')).toBe(false);
  });

  it('drops the check when the tenant stops being active, and never sends its commands again', () => {
    const sim = activeTenant();
    check(sim);
    sim.succeed(driftVerifyKey(1, 'databases'));
    const suspended = admit(sim, {
      events: [{ type: 'SuspensionRequested', data: { reason: 'unpaid', requestedBy: 'billing' } }],
    });
    expect(types(suspended)).toContain('DriftCheckDropped');
    expect(dataOf(suspended, 'DriftCheckDropped').reason).toMatch(/suspend/);
    sim.succeed('workloads-1:suspend');
    expect(sim.state.status).toBe('suspended');
    expect(pendingCommands(sim.state).filter((c) => c.step.startsWith('drift-'))).toEqual([]);
    // A late verify result changes nothing and opens no drift.
    expect(sim.decided.filter((d) => d.type === 'DriftDetected')).toEqual([]);
    const refusal = admitDriftCheck(sim.state, {
      requestedBy: 'schedule',
      requestedAt: sim.now.toISOString(),
    });
    expect(isRefusal(refusal) && refusal.code).toBe('TENANT_NOT_ACTIVE');
  });

  it('starts a check only once a tier change is applied', () => {
    const sim = activeTenant();
    sim.emit('TierChangeRequested', { fromTier: 'premium', toTier: 'business', requestedBy: 'billing' });
    expect(startedSteps(check(sim))).toEqual([]);
    sim.succeed('tier-1:update-quota');
    sim.succeed('tier-1:database-limits');
    sim.succeed('tier-1:broker-limits');
    const started = sim.succeed('tier-1:storage-quota');
    expect(types(started)).toContain('TierChanged');
    expect(startedSteps(started)).toEqual(VERIFY_KEYS);
  });

  it('closes a drift a later check finds put back by hand', () => {
    const sim = activeTenant();
    check(sim);
    sim.fail(driftVerifyKey(1, 'databases'), GRANT_REVOKED);
    for (const key of ['storage', 'broker', 'kubernetes']) sim.succeed(driftVerifyKey(1, key));
    check(sim);
    const closed = sim.succeed(driftVerifyKey(2, 'databases'));
    expect(dataOf(closed, 'DriftRepaired')).toMatchObject({
      driftId: '1-databases',
      verifiedBy: 'drift-2:verify-databases',
    });
    expect(sim.state.drift?.open).toEqual({});
  });

  it('refuses a second check while one runs, and a scheduled window already checked appends nothing', () => {
    const sim = activeTenant();
    const at = sim.now.toISOString();
    admit(sim, admitDriftCheck(sim.state, { requestedBy: 'schedule', requestedAt: at, window: 5 }));
    const second = admitDriftCheck(sim.state, { requestedBy: 'operator:alice', requestedAt: at });
    expect(isRefusal(second) && second.code).toBe('DRIFT_CHECK_IN_PROGRESS');
    for (const key of VERIFY_KEYS) sim.succeed(key);
    expect(admitDriftCheck(sim.state, { requestedBy: 'schedule', requestedAt: at, window: 5 })).toEqual({
      events: [],
    });
  });
});
