import type { FailureReason, RolloutEventData } from '@app/contracts';
import { decideRollout, rolloutRequestEventId, type TenantObservation } from './rollout-decide';
import { foldRollout, rolloutCounts, type RolloutPayload, type RolloutState } from './rollout-state';
import { planWaves, selectTenants, type RolloutCandidate } from './rollout-waves';

const ROLLOUT_ID = '7d444840-9dc0-11d1-b245-5ffdce74fad2';
const T0 = new Date('2025-06-01T10:00:00.000Z');
const BROKEN: FailureReason = {
  code: 'K8S.VERIFICATION_FAILED',
  message: 'api-gateway not available',
  retryable: false,
};

describe('planWaves', () => {
  const ids = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];

  it('puts the canary first, then batches of the batch size, in order', () => {
    expect(planWaves(ids, 1, 3)).toEqual([['a'], ['b', 'c', 'd'], ['e', 'f', 'g']]);
    expect(planWaves(ids, 2, 4)).toEqual([['a', 'b'], ['c', 'd', 'e', 'f'], ['g']]);
    expect(planWaves(['a'], 3, 2)).toEqual([['a']]);
    expect(planWaves([], 1, 1)).toEqual([]);
  });

  it('refuses sizes that are not whole numbers from 1', () => {
    expect(() => planWaves(ids, 0, 3)).toThrow('canary size must be an integer from 1');
    expect(() => planWaves(ids, 1, 1.5)).toThrow('batch size must be an integer from 1');
  });
});

describe('selectTenants', () => {
  const fleet: RolloutCandidate[] = [
    { tenantId: 'c-tenant-000003', tier: 'premium', region: 'eu-west', status: 'active' },
    { tenantId: 'a-tenant-000001', tier: 'standard', region: 'us-east', status: 'active' },
    { tenantId: 'b-tenant-000002', tier: 'premium', region: 'us-east', status: 'suspended' },
    { tenantId: 'd-tenant-000004', tier: 'premium', status: 'active' },
  ];

  it('takes every active tenant by id when nothing is selected, and filters by tier and region', () => {
    expect(selectTenants(fleet, {}).tenantIds).toEqual([
      'a-tenant-000001',
      'c-tenant-000003',
      'd-tenant-000004',
    ]);
    expect(selectTenants(fleet, { tiers: ['premium'] }).tenantIds).toEqual([
      'c-tenant-000003',
      'd-tenant-000004',
    ]);
    // A tenant without a region never matches a region selection.
    expect(selectTenants(fleet, { regions: ['eu-west', 'us-east'] }).tenantIds).toEqual([
      'a-tenant-000001',
      'c-tenant-000003',
    ]);
  });

  it('keeps an explicit list in its order and names each listed tenant it cannot take', () => {
    const outcome = selectTenants(fleet, {
      tenantIds: ['d-tenant-000004', 'a-tenant-000001', 'b-tenant-000002', 'z-tenant-000009'],
    });
    expect(outcome.tenantIds).toEqual(['d-tenant-000004', 'a-tenant-000001']);
    expect(outcome.problems).toEqual([
      'tenant b-tenant-000002 is suspended, not active',
      'tenant z-tenant-000009 does not exist',
    ]);
  });
});

/**
 * A rollout driven as the orchestrator's runner drives it: the stream is the recorded events; each tenant
 * answers from `fleet` once asked; `asked` counts the tenant requests the driver sent (by event id, as the
 * tenant stream would hold them). A "restart" is nothing more than folding the recorded events again.
 */
class RolloutSim {
  readonly events: (RolloutPayload & { revision: number })[] = [];
  /** Tenant event ids appended to tenant streams, in order. */
  readonly asked: string[] = [];
  /** What each tenant's change ends in, once asked. */
  readonly fleet = new Map<string, TenantObservation>();
  now = T0;

  constructor(waves: string[][]) {
    const data: RolloutEventData['RolloutStarted'] = {
      rolloutId: ROLLOUT_ID,
      imageTag: 'v2.0.0',
      selection: {},
      canarySize: waves[0]?.length ?? 1,
      batchSize: waves[1]?.length ?? 1,
      waves,
      requestedBy: 'operator:olivia',
      reason: 'release 2.0',
      startedAt: T0.toISOString(),
    };
    this.record([{ type: 'RolloutStarted', data }]);
  }

  get state(): RolloutState {
    return foldRollout(this.events)!;
  }

  record(events: RolloutPayload[]): void {
    for (const event of events) this.events.push({ ...event, revision: this.events.length });
  }

  /** One pass of the driver: ask started tenants not yet asked, observe them, decide, append. */
  tick(options: { crashBeforeAsking?: boolean } = {}): RolloutPayload[] {
    const state = this.state;
    const observations = new Map<string, TenantObservation>();
    for (const tenant of Object.values(state.tenants)) {
      if (tenant.status !== 'started' || !tenant.requestEventId) continue;
      if (!this.asked.includes(tenant.requestEventId)) {
        if (options.crashBeforeAsking) continue;
        this.asked.push(tenant.requestEventId);
      }
      observations.set(tenant.tenantId, this.fleet.get(tenant.tenantId) ?? { kind: 'in-progress' });
    }
    const decided = decideRollout(state, observations, this.now);
    this.record(decided);
    return decided;
  }

  operator(type: 'RolloutPaused' | 'RolloutResumed' | 'RolloutAborted'): void {
    const at = this.now.toISOString();
    const by = { requestedBy: 'operator:olivia', reason: 'because' };
    const data =
      type === 'RolloutPaused'
        ? { ...by, pausedAt: at }
        : type === 'RolloutResumed'
          ? { ...by, resumedAt: at }
          : { ...by, abortedAt: at };
    this.record([{ type, data } as RolloutPayload]);
  }

  status(tenantId: string) {
    return this.state.tenants[tenantId]?.status;
  }
}

const APPLIED: TenantObservation = { kind: 'applied' };

describe('decideRollout', () => {
  it('runs the canary alone, then each batch only once the wave before it is done', () => {
    const sim = new RolloutSim([['a'], ['b', 'c'], ['d']]);
    expect(sim.tick().map((e) => e.type)).toEqual(['RolloutWaveStarted', 'RolloutTenantStarted']);
    expect(sim.status('b')).toBe('pending');
    // Nothing moves while the canary is in flight.
    expect(sim.tick()).toEqual([]);
    sim.fleet.set('a', APPLIED);
    expect(sim.tick().map((e) => e.type)).toEqual([
      'RolloutTenantSucceeded',
      'RolloutWaveStarted',
      'RolloutTenantStarted',
      'RolloutTenantStarted',
    ]);
    sim.fleet.set('b', APPLIED);
    expect(sim.tick().map((e) => e.type)).toEqual(['RolloutTenantSucceeded']);
    expect(sim.status('d')).toBe('pending');
    sim.fleet.set('c', { kind: 'already-applied' });
    sim.tick();
    sim.fleet.set('d', { kind: 'skipped', reason: 'the tenant became deprovisioning' });
    const last = sim.tick();
    expect(last.map((e) => e.type)).toEqual(['RolloutTenantSkipped', 'RolloutCompleted']);
    expect(last[1].data).toMatchObject({ succeeded: 3, skipped: 1 });
    expect(sim.state.status).toBe('completed');
    expect(sim.asked).toEqual(['a', 'b', 'c', 'd'].map((t) => rolloutRequestEventId(ROLLOUT_ID, t, 1)));
  });

  it('halts on a failure, records the failing tenant and its error, and starts no other tenant', () => {
    const sim = new RolloutSim([['a'], ['b', 'c'], ['d']]);
    sim.fleet.set('a', APPLIED);
    sim.tick();
    sim.tick();
    sim.fleet.set('b', { kind: 'failed', error: BROKEN });
    expect(sim.tick().map((e) => e.type)).toEqual(['RolloutTenantFailed', 'RolloutHalted']);
    expect(sim.state).toMatchObject({
      status: 'halted',
      halt: { wave: 1, tenantId: 'b', error: BROKEN },
    });
    // The other tenant of the wave, already asked, still has its outcome recorded; nothing new starts.
    sim.fleet.set('c', APPLIED);
    expect(sim.tick().map((e) => e.type)).toEqual(['RolloutTenantSucceeded']);
    expect(sim.tick()).toEqual([]);
    expect(sim.status('d')).toBe('pending');
  });

  it('resuming a halted rollout tries the failed tenant again as its next attempt, then goes on', () => {
    const sim = new RolloutSim([['a'], ['b']]);
    sim.fleet.set('a', { kind: 'failed', error: BROKEN });
    sim.tick();
    sim.tick();
    expect(sim.state.status).toBe('halted');
    sim.operator('RolloutResumed');
    sim.fleet.set('a', { kind: 'in-progress' });
    const resumed = sim.tick();
    expect(resumed).toEqual([
      expect.objectContaining({
        type: 'RolloutTenantStarted',
        data: expect.objectContaining({ tenantId: 'a', attempt: 2 }),
      }),
    ]);
    sim.fleet.set('a', APPLIED);
    sim.fleet.set('b', APPLIED);
    sim.tick();
    sim.tick();
    expect(sim.state.status).toBe('completed');
    expect(sim.asked).toEqual([
      rolloutRequestEventId(ROLLOUT_ID, 'a', 1),
      rolloutRequestEventId(ROLLOUT_ID, 'a', 2),
      rolloutRequestEventId(ROLLOUT_ID, 'b', 1),
    ]);
  });

  it('a pause lets the tenants in flight finish but starts nothing; resume goes on; abort ends it', () => {
    const sim = new RolloutSim([['a'], ['b'], ['c']]);
    sim.tick();
    sim.operator('RolloutPaused');
    sim.fleet.set('a', APPLIED);
    expect(sim.tick().map((e) => e.type)).toEqual(['RolloutTenantSucceeded']);
    expect(sim.tick()).toEqual([]);
    expect(sim.state.status).toBe('paused');
    sim.operator('RolloutResumed');
    expect(sim.tick().map((e) => e.type)).toEqual(['RolloutWaveStarted', 'RolloutTenantStarted']);
    sim.operator('RolloutAborted');
    sim.fleet.set('b', APPLIED);
    // The outcome of the tenant in flight is still recorded; the next wave never starts.
    expect(sim.tick().map((e) => e.type)).toEqual(['RolloutTenantSucceeded']);
    expect(sim.tick()).toEqual([]);
    expect(sim.state).toMatchObject({ status: 'aborted', currentWave: 1 });
    expect(sim.state.decisions.map((d) => d.action)).toEqual(['paused', 'resumed', 'aborted']);
    expect(rolloutCounts(sim.state)).toMatchObject({ succeeded: 2, pending: 1 });
  });

  it('a failure during a pause halts it; operator decisions out of place change nothing', () => {
    const sim = new RolloutSim([['a'], ['b']]);
    sim.tick();
    sim.operator('RolloutResumed');
    expect(sim.state.decisions).toEqual([]);
    sim.operator('RolloutPaused');
    sim.fleet.set('a', { kind: 'failed', error: BROKEN });
    sim.tick();
    expect(sim.state.status).toBe('halted');
    sim.operator('RolloutPaused');
    expect(sim.state.status).toBe('halted');
  });

  it('a restart continues from the checkpoints: no tenant is asked twice, none is forgotten', () => {
    const sim = new RolloutSim([['a'], ['b', 'c']]);
    sim.fleet.set('a', APPLIED);
    sim.tick();
    // Asks a, records its success, checkpoints b and c...
    sim.tick();
    expect(sim.status('b')).toBe('started');
    // ...then the driver dies before asking either of them.
    sim.tick({ crashBeforeAsking: true });
    expect(sim.asked).toEqual([rolloutRequestEventId(ROLLOUT_ID, 'a', 1)]);
    // A new driver reads the stream: it asks b and c (once), and never a again.
    sim.fleet.set('b', APPLIED);
    sim.fleet.set('c', APPLIED);
    sim.tick();
    sim.tick();
    sim.tick();
    expect(sim.state.status).toBe('completed');
    expect(sim.asked).toEqual(['a', 'b', 'c'].map((t) => rolloutRequestEventId(ROLLOUT_ID, t, 1)));
    expect(sim.events.filter((e) => e.type === 'RolloutTenantStarted')).toHaveLength(3);
  });

  it('deciding twice on the same stream gives the same events, and nothing more once they are folded', () => {
    const sim = new RolloutSim([['a'], ['b']]);
    const first = decideRollout(sim.state, new Map(), T0);
    expect(decideRollout(sim.state, new Map(), T0)).toEqual(first);
    sim.record(first);
    expect(decideRollout(sim.state, new Map(), T0)).toEqual([]);
  });

  it('a rollout over no tenant completes at once', () => {
    const sim = new RolloutSim([]);
    expect(sim.tick().map((e) => e.type)).toEqual(['RolloutCompleted']);
  });

  it('the fold ignores a repeated checkpoint and an outcome of another attempt', () => {
    const sim = new RolloutSim([['a']]);
    const [wave, started] = sim.tick();
    sim.record([started, wave]);
    expect(sim.state.tenants['a']).toMatchObject({ status: 'started', attempt: 1 });
    sim.record([
      {
        type: 'RolloutTenantSucceeded',
        data: { wave: 0, tenantId: 'a', attempt: 2, outcome: 'applied', succeededAt: T0.toISOString() },
      },
    ]);
    expect(sim.status('a')).toBe('started');
  });
});
