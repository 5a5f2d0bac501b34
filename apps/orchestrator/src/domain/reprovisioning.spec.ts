import { deterministicId, type LifecycleEventData } from '@app/contracts';
import { GATING_STEPS, admitReprovisioning, isRefusal } from '@app/lifecycle';
import { commandId } from './decision';
import { pendingCommands } from './queries';
import { PERMANENT, PROFILE, TenantSim, resultEvent, startedSteps, types } from './testing';

const GATING_NAMES = GATING_STEPS.map((step) => step.name);

/** Answers the first running provisioning step (DAG order) until the tenant leaves provisioning. */
function provision(sim: TenantSim, failing?: string): void {
  while (sim.state.status === 'requested' || sim.state.status === 'provisioning') {
    const step = GATING_NAMES.find((name) => sim.state.steps[name]?.status === 'running');
    if (!step) throw new Error('provisioning without a running step');
    if (step === failing) sim.fail(step, PERMANENT);
    else sim.succeed(step);
  }
}

/** Answers every command still in flight with a success (a late forward result reopens its compensation). */
function settleRollback(sim: TenantSim): void {
  for (;;) {
    const [running] = sim.runningSteps();
    if (!running) return;
    sim.succeed(running);
  }
}

/** A tenant whose first run failed at `workloads` and was rolled back. */
function failedTenant(): TenantSim {
  const sim = new TenantSim();
  sim.request();
  provision(sim, 'workloads');
  settleRollback(sim);
  expect(sim.state.status).toBe('failed');
  return sim;
}

function reprovision(sim: TenantSim, requestedBy = 'operator:alice') {
  const admission = admitReprovisioning(sim.state, {
    reason: 'quota raised',
    requestedBy,
    requestedAt: sim.now.toISOString(),
  });
  if (isRefusal(admission)) throw admission;
  const [event] = admission.events;
  return sim.emit('ReprovisioningRequested', event.data as LifecycleEventData['ReprovisioningRequested']);
}

function commandIds(sim: TenantSim): string[] {
  return sim.events.flatMap((event) => (event.type === 'StepStarted' ? [event.data.commandId] : []));
}

describe('re-provisioning a failed tenant', () => {
  it('keeps the command ids of a first run as they always were', () => {
    const sim = new TenantSim();
    sim.request();
    expect(sim.state.steps['namespace']?.commandId).toBe(
      deterministicId(PROFILE.tenantId, 'namespace', 'ProvisionNamespace', '1'),
    );
    expect(commandId(PROFILE.tenantId, 1, 'namespace', 'ProvisionNamespace', 1)).toBe(
      sim.state.steps['namespace']?.commandId,
    );
  });

  it('starts the DAG again at once, under command ids no earlier run used', () => {
    const sim = failedTenant();
    const before = new Set(commandIds(sim));
    const decided = reprovision(sim);
    expect(startedSteps(decided)).toEqual(['namespace', 'databases', 'storage', 'broker']);
    expect(sim.state.status).toBe('provisioning');
    expect(sim.state.run).toBe(2);
    for (const decision of decided) {
      if (decision.type !== 'StepStarted') continue;
      expect(decision.data.attempt).toBe(1);
      expect(before.has(decision.data.commandId)).toBe(false);
      expect(decision.data.commandId).toBe(
        commandId(PROFILE.tenantId, 2, decision.data.step, decision.data.commandType, 1),
      );
    }
  });

  it('provisions the same tenant to active, with activation and after-activation work of the new run', () => {
    const sim = failedTenant();
    reprovision(sim);
    provision(sim);
    expect(sim.state.status).toBe('active');
    expect(sim.state.tenant).toEqual(PROFILE);
    for (const step of GATING_STEPS) expect(sim.state.steps[step.name]?.status).toBe('succeeded');
    expect(Object.keys(sim.state.steps).some((key) => key.startsWith('compensate:'))).toBe(false);
    expect(sim.state.failedRuns).toEqual([
      expect.objectContaining({ run: 1, failedStep: 'workloads', reason: PERMANENT }),
    ]);
    // Every command of the stream, across both runs, has an id of its own.
    const ids = commandIds(sim);
    expect(new Set(ids).size).toBe(ids.length);
    const stepsStarted = pendingCommands(sim.state).map((command) => command.step);
    expect(stepsStarted).toEqual(expect.arrayContaining(['welcome-email', 'grafana-viewer']));
  });

  it('ignores a late result of the failed run: it neither settles nor fails a step of the new run', () => {
    const sim = failedTenant();
    const oldNamespace = sim.events.find(
      (event) => event.type === 'StepStarted' && event.data.step === 'namespace',
    );
    if (oldNamespace?.type !== 'StepStarted') throw new Error('no namespace step in run 1');
    reprovision(sim);
    const late = resultEvent(
      { step: 'namespace', commandType: 'ProvisionNamespace' },
      oldNamespace.data.commandId,
      { ok: false, error: PERMANENT },
      sim.now,
    );
    expect(sim.append(late)).toEqual([]);
    expect(sim.state.steps['namespace']?.status).toBe('running');
    expect(sim.state.status).toBe('provisioning');
  });

  it('rolls a second failed run back and may run a third, each failure kept', () => {
    const sim = failedTenant();
    reprovision(sim, 'billing');
    provision(sim, 'databases');
    expect(types(sim.decided)).toContain('RollbackStarted');
    settleRollback(sim);
    expect(sim.state.status).toBe('failed');
    expect(sim.state.run).toBe(2);
    reprovision(sim);
    expect(sim.state.run).toBe(3);
    provision(sim);
    expect(sim.state.status).toBe('active');
    expect(sim.state.failedRuns?.map((run) => [run.run, run.failedStep])).toEqual([
      [1, 'workloads'],
      [2, 'databases'],
    ]);
    const ids = commandIds(sim);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
