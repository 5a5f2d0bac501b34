import { purgeGuardrailSnapshotStream, purgeGuardrailStream } from '@app/contracts';
import { MemoryEventStore, StreamNotFoundError, type ReadStreamOptions } from '@app/event-store';
import pino from 'pino';
import {
  PURGE_BREAKER_OPEN,
  PURGE_CAP_REACHED,
  initialState,
  type GuardrailConfig,
  type TenantState,
} from '../domain';
import { PROFILE } from '../domain/testing';
import { PurgeGuardrails } from './purge-guardrails';

const silent = pino({ level: 'silent' });
const NOW = new Date('2025-06-01T10:00:00.000Z');
const CONFIG: GuardrailConfig = {
  purgesPerHour: 2,
  breakerCancellations: 2,
  breakerWindowMinutes: 60,
  breakerRecheckSeconds: 60,
};

/** A tenant in its grace period, as far as the guardrails look at it. */
function cancelled(tenantId: string, cancelledAt = NOW.toISOString()): TenantState {
  return {
    ...initialState(),
    status: 'deprovisioning',
    tenant: { ...PROFILE, tenantId },
    cancellation: {
      cycle: 1,
      subscriptionId: 'sub',
      reason: 'r',
      requestedAt: cancelledAt,
      requestedBy: 'billing',
      deletionDate: cancelledAt,
      cancelledAt,
      duringProvisioning: false,
      resumeStatus: 'active',
      backup: { round: 1, backupId: 'b', verified: true, manifests: [], retryRequested: false },
    },
  };
}

describe('PurgeGuardrails (runtime over the guardrail stream)', () => {
  let store: MemoryEventStore;

  beforeEach(() => {
    store = new MemoryEventStore({ logger: silent });
  });

  it('never grants more permits than the cap when two instances race for the last slots', async () => {
    const a = new PurgeGuardrails(store, CONFIG, silent);
    const b = new PurgeGuardrails(store, CONFIG, silent);
    const tenants = ['t-00000' + 1, 't-000002', 't-000003', 't-000004', 't-000005', 't-000006'];
    const answers = await Promise.all(
      tenants.map((tenantId, i) => (i % 2 === 0 ? a : b).permit(cancelled(tenantId), NOW)),
    );
    expect(answers.filter((answer) => answer.allowed)).toHaveLength(2);
    const refused = answers.find((answer) => !answer.allowed);
    expect(refused).toMatchObject({ allowed: false, reason: { code: PURGE_CAP_REACHED } });
    const permits = (await store.readStream(purgeGuardrailStream())).filter(
      (e) => e.type === 'PurgePermitted',
    );
    expect(permits).toHaveLength(2);
    // A granted permit is found again by the other instance, without a new event.
    const granted = answers.findIndex((answer) => answer.allowed);
    expect(await b.permit(cancelled(tenants[granted]), NOW)).toEqual({ allowed: true });
    expect(
      (await store.readStream(purgeGuardrailStream())).filter((e) => e.type === 'PurgePermitted'),
    ).toHaveLength(2);
  });

  it('trips once across instances, refuses purges while open, and obeys a reset appended by an operator', async () => {
    const a = new PurgeGuardrails(store, CONFIG, silent);
    const b = new PurgeGuardrails(store, CONFIG, silent);
    await Promise.all([
      a.observe(cancelled('t-000001'), NOW),
      b.observe(cancelled('t-000002'), NOW),
      a.observe(cancelled('t-000003'), NOW),
      b.observe(cancelled('t-000003'), NOW),
    ]);
    const types = (await store.readStream(purgeGuardrailStream())).map((e) => e.type);
    expect(types.filter((t) => t === 'CancellationObserved')).toHaveLength(3);
    expect(types.filter((t) => t === 'BreakerTripped')).toHaveLength(1);
    expect(await b.permit(cancelled('t-000001'), NOW)).toMatchObject({
      allowed: false,
      reason: { code: PURGE_BREAKER_OPEN },
    });
    const events = await store.readStream(purgeGuardrailStream());
    await store.append(
      purgeGuardrailStream(),
      [
        {
          id: '00000000-0000-4000-8000-000000000001',
          type: 'BreakerReset',
          data: { operator: 'alice', reason: 'genuine', resetAt: NOW.toISOString() },
        },
      ],
      { expectedRevision: events.length - 1 },
    );
    expect(await a.permit(cancelled('t-000001'), NOW)).toEqual({ allowed: true });
  });

  it('ignores a cancellation made during provisioning (it is rolled back, never purged)', async () => {
    const guardrails = new PurgeGuardrails(store, CONFIG, silent);
    const state = cancelled('t-000001');
    await guardrails.observe(
      { ...state, cancellation: { ...state.cancellation!, duringProvisioning: true } },
      NOW,
    );
    await expect(store.readStream(purgeGuardrailStream())).rejects.toBeInstanceOf(StreamNotFoundError);
  });

  it('does not observe a tenant no longer waiting for its purge (purged or reactivated)', async () => {
    const guardrails = new PurgeGuardrails(store, CONFIG, silent);
    await guardrails.observe({ ...cancelled('t-000001'), status: 'purged' }, NOW);
    await guardrails.observe({ ...cancelled('t-000002'), status: 'active' }, NOW);
    await expect(store.readStream(purgeGuardrailStream())).rejects.toBeInstanceOf(StreamNotFoundError);
  });

  it('starts from the latest snapshot and folds only the events after it', async () => {
    const SNAPSHOTTING: GuardrailConfig = { ...CONFIG, breakerCancellations: 100, snapshotEvery: 4 };
    const clock = () => NOW;
    const writer = new PurgeGuardrails(store, SNAPSHOTTING, silent, clock);
    for (let i = 1; i <= 9; i++) {
      const tenantId = `t-${String(i).padStart(6, '0')}`;
      await writer.observe(cancelled(tenantId), NOW);
      if (i <= 2) await writer.permit(cancelled(tenantId), NOW);
    }
    const snapshots = await store.readStream(purgeGuardrailSnapshotStream());
    expect(snapshots.map((e) => (e.data as { revision: number }).revision)).toEqual([4, 8]);

    // A new instance (a restart) reads the newest snapshot and the 3 events after it, not all 11.
    const folded: number[] = [];
    const counting = Object.create(store) as MemoryEventStore;
    counting.readStream = async (stream: string, options?: ReadStreamOptions) => {
      const events = await store.readStream(stream, options);
      if (stream === purgeGuardrailStream()) folded.push(events.length);
      return events;
    };
    const restarted = new PurgeGuardrails(counting, SNAPSHOTTING, silent, clock);
    const state = await restarted.refresh();
    expect(folded).toEqual([3]);
    expect(state).toEqual(await writer.refresh());
    expect(Object.keys(state.observed)).toHaveLength(9);
    // It decides as the writer does: both permits of the hour are taken, a retried one stays granted.
    expect(await restarted.permit(cancelled('t-000003'), NOW)).toMatchObject({
      allowed: false,
      reason: { code: PURGE_CAP_REACHED },
    });
    expect(await restarted.permit(cancelled('t-000001'), NOW)).toEqual({ allowed: true });
    // An observation already folded into the snapshot is not recorded again.
    await restarted.observe(cancelled('t-000001'), NOW);
    expect((await store.readStream(purgeGuardrailStream())).length).toBe(11);
  });

  it('survives two instances snapshotting at once', async () => {
    const SNAPSHOTTING: GuardrailConfig = { ...CONFIG, breakerCancellations: 100, snapshotEvery: 2 };
    const a = new PurgeGuardrails(store, SNAPSHOTTING, silent, () => NOW);
    const b = new PurgeGuardrails(store, SNAPSHOTTING, silent, () => NOW);
    await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        (i % 2 === 0 ? a : b).observe(cancelled(`t-${String(i + 1).padStart(6, '0')}`), NOW),
      ),
    );
    const [stateA, stateB] = [await a.refresh(), await b.refresh()];
    expect(stateA).toEqual(stateB);
    expect(Object.keys(stateA.observed)).toHaveLength(12);
    const revisions = (await store.readStream(purgeGuardrailSnapshotStream())).map(
      (e) => (e.data as { revision: number }).revision,
    );
    expect(revisions.length).toBeGreaterThan(0);
    expect([...revisions].sort((x, y) => x - y)).toEqual(revisions);
    const fresh = new PurgeGuardrails(store, SNAPSHOTTING, silent, () => NOW);
    expect(await fresh.refresh()).toEqual(stateA);
  });
});
