import {
  PROVISIONING_STEPS,
  commandForResult,
  deterministicId,
  type FailureReason,
  type LifecycleEventData,
  type TenantEvent,
} from '@app/contracts';
import {
  COMPENSABLE_STEPS,
  GATING_STEPS,
  compensatedStep,
  compensationKey,
  TIMEOUT_CODE,
} from '@app/lifecycle';
import { foldTenantSummary } from '@app/tenancy';
import { decide } from './decide';
import { CANCELLED_DURING_PROVISIONING } from './provisioning';
import { nextDeadline, pendingCommands, stepStatus } from './queries';
import {
  PERMANENT,
  PROFILE,
  TEST_CONFIG,
  TRANSIENT,
  TenantSim,
  lifecycleEvent,
  resultEvent,
  startedSteps,
  types,
} from './testing';

const GATING_NAMES = GATING_STEPS.map((step) => step.name);

/** Answers the first running provisioning step (DAG order) until the tenant leaves provisioning. */
function provision(sim: TenantSim, answer: (step: string) => 'ok' | FailureReason = () => 'ok'): void {
  sim.request();
  while (sim.state.status === 'provisioning') {
    const step = GATING_NAMES.find((name) => sim.state.steps[name]?.status === 'running');
    if (!step) throw new Error('provisioning without a running step');
    const outcome = answer(step);
    if (outcome === 'ok') sim.succeed(step);
    else sim.fail(step, outcome);
  }
}

/** Succeeds every running compensation, one at a time, and returns the order in which they completed. */
function completeCompensations(sim: TenantSim): string[] {
  const order: string[] = [];
  for (;;) {
    const running = sim.runningSteps().find((key) => compensatedStep(key) !== undefined);
    if (!running) return order;
    order.push(compensatedStep(running) as string);
    sim.succeed(running);
  }
}

function stepOf(event: TenantEvent): string | undefined {
  const data = event.data as { step?: unknown };
  return typeof data.step === 'string' ? data.step : undefined;
}

function eventIndex(sim: TenantSim, predicate: (event: TenantEvent) => boolean): number {
  return sim.events.findIndex(predicate);
}

function billingCancellation(sim: TenantSim): LifecycleEventData['CancellationRequested'] {
  const requestedAt = sim.now.toISOString();
  const deletionDate = new Date(sim.now.getTime() + 30 * 86_400_000).toISOString();
  return {
    subscriptionId: PROFILE.subscriptionId,
    reason: 'changed mind',
    requestedAt,
    deletionDate,
    requestedBy: 'billing',
  };
}

/** How the tenant's provisioning ended, in the order decided. */
function ends(sim: TenantSim): string[] {
  return types(sim.decided).filter(
    (type) => type === 'TenantProvisioningFailed' || type === 'ProvisioningCancelled',
  );
}

/** The status the API's read model shows for the same stream. */
function summaryStatus(sim: TenantSim): string | undefined {
  const events = sim.events.map((event, revision) => ({
    ...event,
    revision,
    occurredAt: event.metadata.occurredAt,
  }));
  return foldTenantSummary(events)?.status;
}

/** Steps that depend on `step`, directly or transitively. */
function transitiveDependents(step: string): string[] {
  const direct = PROVISIONING_STEPS.filter((candidate) => candidate.dependsOn.includes(step)).map(
    (s) => s.name,
  );
  return [...new Set(direct.flatMap((name) => [name, ...transitiveDependents(name)]))];
}

describe('provisioning', () => {
  it('runs the DAG: four roots in parallel, then each step once its dependencies succeeded, then activates', () => {
    const sim = new TenantSim();
    expect(startedSteps(sim.request())).toEqual(['namespace', 'databases', 'storage', 'broker']);
    expect(sim.state.status).toBe('provisioning');

    expect(startedSteps(sim.succeed('namespace'))).toEqual(['monitoring']);
    expect(sim.succeed('databases')).toEqual([]);
    expect(sim.succeed('storage')).toEqual([]);
    expect(startedSteps(sim.succeed('broker'))).toEqual(['workloads']);
    expect(sim.succeed('monitoring')).toEqual([]);
    expect(startedSteps(sim.succeed('workloads'))).toEqual(['ingress', 'website']);
    expect(sim.succeed('ingress')).toEqual([]);
    expect(startedSteps(sim.succeed('website'))).toEqual([
      'verify-kubernetes',
      'verify-databases',
      'verify-storage',
      'verify-broker',
    ]);
    sim.succeed('verify-kubernetes');
    sim.succeed('verify-databases');
    sim.succeed('verify-storage');
    const activation = sim.succeed('verify-broker');
    expect(types(activation)).toEqual(['TenantActivated', 'StepStarted', 'StepStarted', 'StepStarted']);
    expect(startedSteps(activation)).toEqual(['website-activation', 'welcome-email', 'grafana-viewer']);
    expect(sim.state.status).toBe('active');
    expect(sim.state.activatedAt).toBe(sim.now.toISOString());

    sim.succeed('website-activation');
    sim.succeed('welcome-email');
    expect(sim.succeed('grafana-viewer')).toEqual([]);
    expect(pendingCommands(sim.state)).toEqual([]);
    expect(nextDeadline(sim.state)).toBeUndefined();
    expect(sim.decided.some((d) => d.type === 'RollbackStarted')).toBe(false);
  });

  it('issues commands with deterministic ids, service, attempt and a deadline from the step table', () => {
    const sim = new TenantSim();
    const [first] = sim.request();
    expect(first).toMatchObject({
      type: 'StepStarted',
      data: {
        step: 'namespace',
        commandType: 'ProvisionNamespace',
        service: 'k8s',
        attempt: 1,
        commandId: deterministicId(PROFILE.tenantId, 'namespace', 'ProvisionNamespace', '1'),
        deadline: new Date(sim.now.getTime() + 120_000).toISOString(),
      },
    });
    expect(pendingCommands(sim.state).map((c) => c.step)).toEqual([
      'namespace',
      'databases',
      'storage',
      'broker',
    ]);
    expect(nextDeadline(sim.state)).toEqual(new Date(sim.now.getTime() + 60_000));
  });

  it('is deterministic: the same state yields the same events with the same ids', () => {
    const a = new TenantSim();
    const b = new TenantSim();
    a.request();
    b.request();
    a.succeed('namespace');
    b.succeed('namespace');
    expect(decide(a.state, a.now, TEST_CONFIG)).toEqual([]);
    expect(a.decided).toEqual(b.decided);
    expect(new Set(a.decided.map((d) => d.eventId)).size).toBe(a.decided.length);
  });

  it('retries a retryable failure with a new attempt and command id, then goes on', () => {
    const sim = new TenantSim();
    sim.request();
    const first = sim.run('databases').commandId;
    const retry = sim.fail('databases', TRANSIENT);
    expect(retry).toEqual([
      expect.objectContaining({
        type: 'StepStarted',
        data: expect.objectContaining({
          step: 'databases',
          attempt: 2,
          commandId: deterministicId(PROFILE.tenantId, 'databases', 'ProvisionDatabases', '2'),
        }),
      }),
    ]);
    expect(sim.run('databases').commandId).not.toBe(first);
    for (const step of ['namespace', 'databases', 'storage', 'broker']) sim.succeed(step);
    expect(sim.state.steps['workloads']?.status).toBe('running');
  });

  it('rolls back when retryable failures exhaust the attempts', () => {
    const sim = new TenantSim();
    sim.request();
    sim.fail('databases', TRANSIENT);
    const rollback = sim.fail('databases', TRANSIENT);
    expect(rollback[0]).toEqual(
      expect.objectContaining({
        type: 'RollbackStarted',
        data: { failedStep: 'databases', reason: TRANSIENT },
      }),
    );
    expect(sim.state.status).toBe('rolling_back');
  });

  it('times a silent step out, retries it, then rolls back', () => {
    const sim = new TenantSim();
    sim.request();
    sim.succeed('databases');
    sim.succeed('storage');
    sim.succeed('broker');
    const firstTimeout = sim.advance(120);
    expect(types(firstTimeout)).toEqual(['StepTimedOut', 'StepStarted']);
    expect(sim.run('namespace').attempt).toBe(2);
    const secondTimeout = sim.advance(120);
    expect(types(secondTimeout).slice(0, 2)).toEqual(['StepTimedOut', 'RollbackStarted']);
    expect(sim.state.rollback?.reason.code).toBe(TIMEOUT_CODE);
    expect(startedSteps(secondTimeout).sort()).toEqual(
      ['compensate:namespace', 'compensate:databases', 'compensate:storage', 'compensate:broker'].sort(),
    );
  });

  describe.each(GATING_NAMES)('when %s fails for good', (failing) => {
    it('compensates exactly the completed and in-flight steps, dependents first, then fails the tenant', () => {
      const sim = new TenantSim();
      provision(sim, (step) => (step === failing ? PERMANENT : 'ok'));
      expect(sim.state.status).toBe('rolling_back');
      expect(sim.state.rollback?.failedStep).toBe(failing);
      const started = COMPENSABLE_STEPS.map((s) => s.name).filter((name) => sim.state.steps[name]);
      const inFlight = started.filter((name) => sim.state.steps[name]?.status === 'running');

      const order = completeCompensations(sim);

      expect([...order].sort()).toEqual([...started].sort());
      for (const step of order) {
        for (const dependent of transitiveDependents(step).filter((name) => order.includes(name))) {
          expect(order.indexOf(dependent)).toBeLessThan(order.indexOf(step));
        }
      }
      // A compensation starts only when every dependent's compensation finished.
      for (const step of started) {
        const startedAt = eventIndex(
          sim,
          (e) => e.type === 'StepStarted' && stepOf(e) === compensationKey(step),
        );
        for (const dependent of transitiveDependents(step).filter((name) => started.includes(name))) {
          const doneAt = eventIndex(
            sim,
            (e) =>
              commandForResult(e.type)?.outcome === 'succeeded' && stepOf(e) === compensationKey(dependent),
          );
          expect(doneAt).toBeGreaterThanOrEqual(0);
          expect(doneAt).toBeLessThan(startedAt);
        }
      }
      expect(sim.state.status).toBe('failed');
      const failed = sim.decided.find((d) => d.type === 'TenantProvisioningFailed');
      expect(failed?.data).toEqual({
        failedStep: failing,
        reason: PERMANENT,
        compensatedSteps: expect.any(Array),
      });
      expect(
        [...(failed?.type === 'TenantProvisioningFailed' ? failed.data.compensatedSteps : [])].sort(),
      ).toEqual([...started].sort());
      for (const step of inFlight) expect(stepStatus(sim.state, step)).toBe('compensated');
      expect(pendingCommands(sim.state)).toEqual([]);
    });
  });

  it('does not re-dispatch provisioning commands still in flight once the rollback started', () => {
    const sim = new TenantSim();
    sim.request();
    sim.fail('namespace');
    const pending = pendingCommands(sim.state).map((c) => c.step);
    expect(pending).not.toContain('databases');
    expect(pending).toContain('compensate:databases');
  });

  it('parks a compensation that keeps failing and carries on with the rest of the rollback', () => {
    const sim = new TenantSim();
    provision(sim, (step) => (step === 'ingress' ? PERMANENT : 'ok'));
    // website and monitoring are still in flight; workloads' compensation waits for ingress' and website's.
    expect(sim.runningSteps().sort()).toEqual(
      ['compensate:ingress', 'compensate:monitoring', 'compensate:website', 'monitoring', 'website'].sort(),
    );
    sim.fail('compensate:ingress', TRANSIENT);
    expect(sim.run('compensate:ingress').attempt).toBe(2);
    const parked = sim.fail('compensate:ingress', PERMANENT);
    expect(parked[0]).toEqual(expect.objectContaining({ type: 'CompensationParked' }));
    expect(stepStatus(sim.state, 'ingress')).toBe('compensation_failed');
    expect(startedSteps(sim.succeed('compensate:website'))).toEqual(['compensate:workloads']);
    completeCompensations(sim);
    expect(sim.state.status).toBe('failed');
    expect(sim.state.compensatedSteps).not.toContain('ingress');
    expect(sim.state.compensatedSteps).toContain('workloads');

    // An operator retries the parked compensation: a new attempt, the tenant stays failed.
    const retried = sim.emit('OperatorRetryRequested', {
      step: 'compensate:ingress',
      reason: 'fixed',
      operator: 'op',
    });
    expect(retried).toEqual([
      expect.objectContaining({ type: 'StepStarted', data: expect.objectContaining({ attempt: 3 }) }),
    ]);
    sim.succeed('compensate:ingress');
    expect(stepStatus(sim.state, 'ingress')).toBe('compensated');
    expect(sim.state.status).toBe('failed');
  });

  it('compensates again a step whose success arrives after its compensation ran', () => {
    const sim = new TenantSim();
    sim.request();
    sim.fail('storage'); // databases, namespace, broker still in flight
    sim.succeed('compensate:databases');
    expect(stepStatus(sim.state, 'databases')).toBe('compensated');
    const late = resultEvent(sim.run('databases'), sim.run('databases').commandId, { ok: true }, sim.now);
    const again = sim.append(late);
    expect(again).toEqual([
      expect.objectContaining({
        type: 'StepStarted',
        data: expect.objectContaining({ step: 'compensate:databases', attempt: 2 }),
      }),
    ]);
    expect(stepStatus(sim.state, 'databases')).toBe('compensating');
    completeCompensations(sim);
    expect(sim.state.status).toBe('failed');
    expect(stepStatus(sim.state, 'databases')).toBe('compensated');

    // A late success even after the tenant failed still gets compensated.
    const namespace = sim.run('namespace');
    expect(namespace.status).toBe('running');
    const reopened = sim.append(resultEvent(namespace, namespace.commandId, { ok: true }, sim.now));
    expect(startedSteps(reopened)).toEqual(['compensate:namespace']);
    sim.succeed('compensate:namespace');
    expect(sim.state.status).toBe('failed');
    expect(decide(sim.state, sim.now, TEST_CONFIG)).toEqual([]);
  });

  it('ignores a duplicated result and a result for an unknown command', () => {
    const sim = new TenantSim();
    sim.request();
    const run = sim.run('namespace');
    const success = resultEvent(run, run.commandId, { ok: true }, sim.now);
    sim.append(success);
    const before = sim.state;
    expect(sim.append(resultEvent(run, run.commandId, { ok: false, error: PERMANENT }, sim.now))).toEqual([]);
    expect(sim.append(resultEvent(run, 'someone-else', { ok: false, error: PERMANENT }, sim.now))).toEqual(
      [],
    );
    expect({ ...sim.state, revision: 0 }).toEqual({ ...before, revision: 0 });
    expect(sim.state.revision).toBe(before.revision + 2);
  });

  it('ignores unknown event types but counts them in the revision', () => {
    const sim = new TenantSim();
    sim.request();
    const before = sim.state;
    const unknown = {
      ...lifecycleEvent('TenantActivated', { activatedAt: 'x' }, sim.now),
      type: 'SomethingNew',
    };
    sim.fold(unknown as never);
    expect(sim.state).toEqual({ ...before, revision: before.revision + 1 });
  });

  it('rolls back a provisioning whose subscription is cancelled, and ends it as cancelled, not failed', () => {
    const sim = new TenantSim();
    sim.request();
    while (sim.state.steps['website']?.status !== 'succeeded') {
      const step = GATING_NAMES.find((name) => sim.state.steps[name]?.status === 'running');
      if (!step) throw new Error('stuck before the website step');
      sim.succeed(step);
    }
    const inFlight = sim.runningSteps(); // the verifications
    expect(inFlight.length).toBeGreaterThan(0);
    const decisions = sim.emit('CancellationRequested', {
      subscriptionId: PROFILE.subscriptionId,
      reason: 'changed mind',
      requestedAt: sim.now.toISOString(),
      deletionDate: sim.now.toISOString(),
      requestedBy: 'billing',
    });
    expect(decisions[0]).toEqual(
      expect.objectContaining({
        type: 'RollbackStarted',
        data: expect.objectContaining({
          reason: expect.objectContaining({ code: CANCELLED_DURING_PROVISIONING }),
        }),
      }),
    );
    for (const key of inFlight) sim.succeed(key);
    completeCompensations(sim);

    expect(sim.state.status).toBe('cancelled');
    const ends = sim.decided.filter(
      (d) => d.type === 'ProvisioningCancelled' || d.type === 'TenantProvisioningFailed',
    );
    expect(ends).toEqual([
      expect.objectContaining({
        type: 'ProvisioningCancelled',
        data: {
          subscriptionId: PROFILE.subscriptionId,
          reason: 'changed mind',
          compensatedSteps: expect.arrayContaining(['namespace', 'databases', 'website']),
          cancelledAt: sim.now.toISOString(),
        },
      }),
    ]);
    expect(sim.state.compensatedSteps).toEqual(
      ends[0]?.type === 'ProvisioningCancelled' ? ends[0].data.compensatedSteps : 'none',
    );
    // The website record is deleted as any rollback does; nothing after activation (no welcome e-mail) runs.
    expect(sim.run('compensate:website')).toMatchObject({
      status: 'succeeded',
      params: { websiteId: 4711 },
    });
    expect(sim.state.steps['welcome-email']).toBeUndefined();
    expect(sim.decided.some((d) => d.type === 'TenantActivated')).toBe(false);
    // Nothing left to purge or wait for: no timer, no pending command, no further decision.
    expect(nextDeadline(sim.state)).toBeUndefined();
    expect(pendingCommands(sim.state)).toEqual([]);
    expect(decide(sim.state, sim.now, TEST_CONFIG)).toEqual([]);
  });

  it('ends a rollback as cancelled, not failed, when billing cancels during it; the read model agrees', () => {
    const sim = new TenantSim();
    sim.request();
    sim.fail('storage'); // the rollback starts for the failed step
    expect(sim.state.status).toBe('rolling_back');
    sim.emit('CancellationRequested', billingCancellation(sim));
    expect(sim.state.status).toBe('rolling_back');
    expect(summaryStatus(sim)).toBe('rolling_back');
    for (const key of sim.runningSteps().filter((key) => compensatedStep(key) === undefined)) {
      sim.succeed(key);
    }
    completeCompensations(sim);
    expect(sim.state.status).toBe('cancelled');
    expect(ends(sim)).toEqual(['ProvisioningCancelled']);
    expect(summaryStatus(sim)).toBe('cancelled');
    expect(decide(sim.state, sim.now, TEST_CONFIG)).toEqual([]);
  });

  it('ends a failed tenant as cancelled when billing cancels it; the read model agrees', () => {
    const sim = new TenantSim();
    sim.request();
    sim.fail('storage');
    for (const key of sim.runningSteps().filter((key) => compensatedStep(key) === undefined)) {
      sim.succeed(key);
    }
    completeCompensations(sim);
    expect(sim.state.status).toBe('failed');
    expect(summaryStatus(sim)).toBe('failed');
    const compensated = sim.state.compensatedSteps;

    const decided = sim.emit('CancellationRequested', billingCancellation(sim));
    // Nothing to undo again: the rollback removed everything; billing hears the tenant is gone.
    expect(decided).toEqual([
      expect.objectContaining({
        type: 'ProvisioningCancelled',
        data: {
          subscriptionId: PROFILE.subscriptionId,
          reason: 'changed mind',
          compensatedSteps: compensated,
          cancelledAt: sim.now.toISOString(),
        },
      }),
    ]);
    expect(sim.state.status).toBe('cancelled');
    expect(ends(sim)).toEqual(['TenantProvisioningFailed', 'ProvisioningCancelled']);
    expect(summaryStatus(sim)).toBe('cancelled');
    expect(pendingCommands(sim.state)).toEqual([]);
    expect(nextDeadline(sim.state)).toBeUndefined();
  });

  it('compensates a late success after the cancelled provisioning ended, and stays cancelled', () => {
    const sim = new TenantSim();
    sim.request(); // databases, storage, namespace, broker in flight
    sim.emit('CancellationRequested', {
      subscriptionId: PROFILE.subscriptionId,
      reason: 'changed mind',
      requestedAt: sim.now.toISOString(),
      deletionDate: sim.now.toISOString(),
      requestedBy: 'billing',
    });
    const late = sim.run('namespace');
    for (const key of sim.runningSteps().filter((key) => key !== 'namespace')) {
      if (compensatedStep(key) === undefined) sim.succeed(key);
    }
    completeCompensations(sim);
    expect(sim.state.status).toBe('cancelled');
    const reopened = sim.append(resultEvent(late, late.commandId, { ok: true }, sim.now));
    expect(startedSteps(reopened)).toEqual(['compensate:namespace']);
    sim.succeed('compensate:namespace');
    expect(sim.state.status).toBe('cancelled');
    expect(stepStatus(sim.state, 'namespace')).toBe('compensated');
    expect(decide(sim.state, sim.now, TEST_CONFIG)).toEqual([]);
  });

  it('parks a failed after-activation step, keeps the tenant active and lets an operator retry it', () => {
    const sim = new TenantSim();
    provision(sim);
    expect(sim.state.status).toBe('active');
    sim.succeed('website-activation');
    sim.succeed('grafana-viewer');
    sim.fail('welcome-email', TRANSIENT);
    expect(sim.run('welcome-email').attempt).toBe(2);
    const parked = sim.advance(120); // the second attempt times out
    expect(types(parked)).toEqual(['StepTimedOut', 'StepParked']);
    expect(sim.state.status).toBe('active');
    expect(stepStatus(sim.state, 'welcome-email')).toBe('parked');
    expect(sim.decided.some((d) => d.type === 'RollbackStarted')).toBe(false);
    expect(nextDeadline(sim.state)).toBeUndefined();

    const retry = sim.emit('OperatorRetryRequested', {
      step: 'welcome-email',
      reason: 'smtp back',
      operator: 'op',
    });
    expect(retry).toEqual([
      expect.objectContaining({ type: 'StepStarted', data: expect.objectContaining({ attempt: 3 }) }),
    ]);
    sim.succeed('welcome-email');
    expect(stepStatus(sim.state, 'welcome-email')).toBe('succeeded');
  });

  it('ignores an operator retry of a step that is not parked', () => {
    const sim = new TenantSim();
    provision(sim);
    expect(
      sim.emit('OperatorRetryRequested', { step: 'namespace', reason: 'why not', operator: 'op' }),
    ).toEqual([]);
    expect(
      sim.emit('OperatorRetryRequested', { step: 'welcome-email', reason: 'x', operator: 'op' }),
    ).toEqual([]);
  });
});
