import type { LifecycleEventData } from '@app/contracts';
import { type DecidedEvent } from './decide';
import { backupIdFor } from './deprovisioning';
import { PURGE_BREAKER_OPEN } from './guardrails';
import { nextDeadline } from './queries';
import {
  PROFILE,
  T0,
  TEST_CONFIG,
  TenantSim,
  changesState,
  lifecycleEvent,
  startedSteps,
  types,
} from './testing';

/*
 * The orchestrator's side of the grace period: whatever deletion date a cancellation carries, no purge before
 * the end of its own GRACE_PERIOD_DAYS (30 here) counted from the instant the cancellation entered the stream
 * (exactly 30 × 24 h, issue 17); an operator's purge request starts the purge earlier, still through a verified
 * final backup and the guardrails.
 */

const DAY_MS = 86_400_000;
/** The cancellation enters the stream at T0, 2025-06-01T10:00Z: exactly 30 × 24 h later, not midnight. */
const GRACE_END = '2025-07-01T10:00:00.000Z';

function activeTenant(): TenantSim {
  const sim = new TenantSim(TEST_CONFIG);
  sim.request();
  return sim.activate();
}

/** Billing's cancellation as an older intake (or a bug) wrote it: deleting at `deletionDate`, unclamped. */
function cancel(sim: TenantSim, deletionDate: string): DecidedEvent[] {
  return sim.emit('CancellationRequested', {
    subscriptionId: PROFILE.subscriptionId,
    reason: 'downgrade',
    requestedAt: sim.now.toISOString(),
    deletionDate,
    requestedBy: 'billing',
  });
}

/** Succeeds every running step of the cancellation (marking, notice, soft delete, backup rounds) until none runs. */
function settle(sim: TenantSim): DecidedEvent[] {
  const decided: DecidedEvent[] = [];
  for (;;) {
    const running = sim.runningSteps().filter((key) => key.startsWith('cancel-'));
    if (running.length === 0) return decided;
    for (const key of running) decided.push(...sim.succeed(key));
  }
}

function purgeRequest(
  sim: TenantSim,
  data: Partial<LifecycleEventData['OperatorPurgeRequested']> = {},
): DecidedEvent[] {
  return sim.emit('OperatorPurgeRequested', {
    operator: 'alice',
    reason: 'customer asked for erasure, ticket 4711',
    requestedAt: sim.now.toISOString(),
    ...data,
  });
}

describe('the grace period floor (defence in depth)', () => {
  it.each([
    ['now', () => T0.toISOString()],
    ['in the past', () => '2020-01-01T00:00:00.000Z'],
    ['a day away', () => new Date(T0.getTime() + DAY_MS).toISOString()],
    ['midnight UTC of the last day', () => '2025-07-01T00:00:00.000Z'],
    ['one millisecond before the end', () => new Date(Date.parse(GRACE_END) - 1).toISOString()],
  ])('never purges before the end of the grace period when the deletion date is %s', (_label, date) => {
    const sim = activeTenant();
    const decisions = cancel(sim, date());
    // The namespace annotation and the customer's notice announce the date the orchestrator enforces.
    const announced = decisions.flatMap((d) =>
      d.type === 'StepStarted' && 'deletionDate' in d.data.params ? [d.data.params.deletionDate] : [],
    );
    expect(announced).toEqual([GRACE_END, GRACE_END]);
    settle(sim);
    expect(sim.state.cancellation?.backup.verified).toBe(true);
    expect(nextDeadline(sim.state, TEST_CONFIG)?.toISOString()).toBe(GRACE_END);

    expect(types(sim.advance(DAY_MS / 1000))).toEqual([]);
    expect(types(sim.advanceTo(new Date(Date.parse(GRACE_END) - 1)))).toEqual([]);
    expect(sim.state.status).toBe('deprovisioning');

    // At the end of the grace period: the final backup round, then the purge.
    expect(types(sim.advanceTo(GRACE_END))).toContain('BackupStarted');
    expect(types(settle(sim))).toContain('PurgeStarted');
    expect(sim.state.status).toBe('purging');
  });

  it('honours a deletion date later than the grace period', () => {
    const sim = activeTenant();
    const later = '2025-08-15T00:00:00.000Z';
    cancel(sim, later);
    settle(sim);
    expect(nextDeadline(sim.state, TEST_CONFIG)?.toISOString()).toBe(later);
    expect(types(sim.advanceTo(GRACE_END))).toEqual([]);
    expect(types(sim.advanceTo(later))).toContain('BackupStarted');
  });

  it("counts the grace period from when the cancellation entered the stream, not from billing's timestamp", () => {
    const sim = activeTenant();
    sim.emit('CancellationRequested', {
      subscriptionId: PROFILE.subscriptionId,
      reason: 'replayed',
      requestedAt: '2025-01-01T00:00:00.000Z',
      deletionDate: '2025-01-31T00:00:00.000Z',
      requestedBy: 'billing',
    });
    settle(sim);
    expect(nextDeadline(sim.state, TEST_CONFIG)?.toISOString()).toBe(GRACE_END);
  });
});

describe("an operator's purge request", () => {
  const FAR = '2025-12-01T00:00:00.000Z';

  it('starts the purge at once, from a new verified backup round, without waiting for the deletion date', () => {
    const sim = activeTenant();
    cancel(sim, FAR);
    settle(sim);
    expect(sim.state.cancellation?.backup).toMatchObject({ round: 1, verified: true });
    sim.advance(3600);

    // The tenant kept working since the first round: a final round is taken now, and the purge starts from it.
    const asked = purgeRequest(sim);
    expect(types(asked)).toEqual(['BackupStarted', 'StepStarted', 'StepStarted']);
    expect(startedSteps(asked)).toEqual(['cancel-1:backup-2:databases', 'cancel-1:backup-2:storage']);
    expect(types(asked)).not.toContain('PurgeStarted');
    const purge = settle(sim).filter((d) => d.type === 'PurgeStarted');
    expect(purge).toEqual([
      expect.objectContaining({
        data: { backupId: backupIdFor(PROFILE.tenantId, 1, 2), startedAt: sim.now.toISOString() },
      }),
    ]);
    expect(sim.state.status).toBe('purging');
    expect(sim.now.getTime()).toBeLessThan(Date.parse(GRACE_END));
  });

  it('waits for the first backup to be verified, whatever the request', () => {
    const sim = activeTenant();
    cancel(sim, FAR);
    const asked = purgeRequest(sim);
    expect(types(asked)).toEqual([]);
    expect(sim.state.cancellation?.purgeRequested).toMatchObject({ operator: 'alice' });
    const decided = settle(sim);
    expect(types(decided)).toContain('PurgeStarted');
    expect(decided.findIndex((d) => d.type === 'PurgeStarted')).toBeGreaterThan(
      decided.findIndex((d) => d.type === 'BackupCompleted'),
    );
  });

  it('still goes through the guardrails: a tripped breaker holds it, its reset lets it through', () => {
    const sim = activeTenant();
    cancel(sim, FAR);
    settle(sim);
    const retryAt = new Date(sim.now.getTime() + 3600_000).toISOString();
    // The final round (2) is taken, and verified; only then do the guardrails answer.
    sim.purge = {
      allowed: false,
      reason: { code: PURGE_BREAKER_OPEN, message: 'paused', retryable: true },
      retryAt,
    };
    sim.advance(60);
    purgeRequest(sim);
    const held = settle(sim);
    expect(types(held)).toContain('PurgeBlocked');
    expect(types(held)).not.toContain('PurgeStarted');
    expect(sim.state.status).toBe('deprovisioning');
    expect(sim.state.cancellation?.backup).toMatchObject({ round: 2, verified: true });
    sim.purge = { allowed: true };
    expect(types(sim.advanceTo(retryAt))).toContain('PurgeStarted');
  });

  it('is ignored without a named operator and a reason, outside a grace period, and after a reactivation', () => {
    const sim = activeTenant();
    const request = (data: Partial<LifecycleEventData['OperatorPurgeRequested']> = {}) =>
      lifecycleEvent(
        'OperatorPurgeRequested',
        { operator: 'alice', reason: 'erasure', requestedAt: sim.now.toISOString(), ...data },
        sim.now,
      );
    expect(changesState(sim.state, request())).toBe(false); // active: no grace period
    cancel(sim, FAR);
    settle(sim);
    expect(changesState(sim.state, request({ reason: '  ' }))).toBe(false);
    expect(changesState(sim.state, request({ operator: '' }))).toBe(false);
    expect(changesState(sim.state, request())).toBe(true);

    purgeRequest(sim, { reason: '' });
    expect(sim.state.cancellation?.purgeRequested).toBeUndefined();
    expect(sim.state.status).toBe('deprovisioning');

    // A request of an earlier grace period does not carry over to the next cancellation.
    sim.emit('TenantReactivated', {
      subscriptionId: PROFILE.subscriptionId,
      reactivatedAt: sim.now.toISOString(),
      requestedBy: 'billing',
    });
    expect(changesState(sim.state, request())).toBe(false);
    while (sim.runningSteps().length > 0) settleAll(sim);
    cancel(sim, FAR);
    expect(sim.state.cancellation?.purgeRequested).toBeUndefined();
  });
});

function settleAll(sim: TenantSim): void {
  for (const key of sim.runningSteps()) sim.succeed(key);
}
