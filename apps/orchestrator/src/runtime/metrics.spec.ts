import { randomUUID } from 'node:crypto';
import {
  GUARDRAIL_SNAPSHOT_EVENT,
  purgeGuardrailSnapshotStream,
  purgeGuardrailStream,
  tenantStream,
} from '@app/contracts';
import { MemoryEventStore } from '@app/event-store';
import type { MessagePublisher } from '@app/messaging';
import pino from 'pino';
import { BreakerWatch, ORCHESTRATOR_SUBSCRIPTION, OrchestratorMetrics } from './metrics';
import { Orchestrator } from './orchestrator';

const logger = pino({ level: 'silent' });

async function value(metrics: OrchestratorMetrics, name: string): Promise<number | undefined> {
  const metric = metrics.registry.getSingleMetric(name);
  if (!metric) throw new Error(`${name} is not registered`);
  return (await metric.get()).values[0]?.value;
}

async function appendGuardrail(store: MemoryEventStore, type: string): Promise<void> {
  await store.append(purgeGuardrailStream(), [{ id: randomUUID(), type, data: {} }], {
    expectedRevision: 'any',
  });
}

async function until(probe: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await probe()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('BreakerWatch', () => {
  it('starts from the latest snapshot and folds only the trips and resets appended after it', async () => {
    const store = new MemoryEventStore();
    const watch = new BreakerWatch(store);
    expect(await watch.isOpen()).toBe(false); // no stream at all
    // Revisions 0 and 1 say "closed", but the snapshot covering them says open: the snapshot wins.
    await appendGuardrail(store, 'BreakerTripped');
    await appendGuardrail(store, 'BreakerReset');
    await store.append(
      purgeGuardrailSnapshotStream(),
      [
        {
          id: randomUUID(),
          type: GUARDRAIL_SNAPSHOT_EVENT,
          data: { revision: 2, breaker: { open: true, trip: null, lastReset: null } },
        },
      ],
      { expectedRevision: 'any' },
    );
    const fresh = new BreakerWatch(store);
    expect(await fresh.isOpen()).toBe(true);
    await appendGuardrail(store, 'PurgePermitted');
    expect(await fresh.isOpen()).toBe(true);
    await appendGuardrail(store, 'BreakerReset');
    expect(await fresh.isOpen()).toBe(false);
    await appendGuardrail(store, 'BreakerTripped');
    expect(await fresh.isOpen()).toBe(true);
    await store.close();
  });
});

describe('OrchestratorMetrics', () => {
  let store: MemoryEventStore;
  beforeEach(() => {
    store = new MemoryEventStore();
  });
  afterEach(() => store.close());

  it('reports the purge breaker from the guardrail stream', async () => {
    const metrics = new OrchestratorMetrics(store);
    expect(await value(metrics, 'provisioning_purge_breaker_open')).toBe(0);
    await appendGuardrail(store, 'BreakerTripped');
    expect(await value(metrics, 'provisioning_purge_breaker_open')).toBe(1);
    await appendGuardrail(store, 'BreakerReset');
    expect(await value(metrics, 'provisioning_purge_breaker_open')).toBe(0);
  });

  it('shows a subscription stuck on an event as a growing unprocessed age, and 0 once it moves on', async () => {
    const hour = 3600_000;
    const metrics = new OrchestratorMetrics(store, () => Date.now() + hour);
    expect(await value(metrics, 'provisioning_orchestrator_following_streams')).toBe(0);
    let release!: () => void;
    const stuck = new Promise<void>((resolve) => (release = resolve));
    const handled: string[] = [];
    const subscription = store.subscribe(
      { category: 'tenant' },
      {
        name: ORCHESTRATOR_SUBSCRIPTION,
        fromCheckpoint: 'start',
        handler: async (event) => {
          await stuck;
          handled.push(event.id);
        },
      },
    );
    expect(await value(metrics, 'provisioning_orchestrator_following_streams')).toBe(1);
    expect(await value(metrics, 'provisioning_orchestrator_unprocessed_event_age_seconds')).toBe(0);
    for (const tenant of ['shop-one-abc123', 'shop-two-abc123']) {
      await store.append(tenantStream(tenant), [{ id: randomUUID(), type: 'Probe', data: {} }], {
        expectedRevision: 'any',
      });
    }
    const age = await value(metrics, 'provisioning_orchestrator_unprocessed_event_age_seconds');
    expect(age).toBeGreaterThan(3590);
    expect(age).toBeLessThan(3700);
    release();
    await until(async () => handled.length === 2, 'both events handled');
    expect(await value(metrics, 'provisioning_orchestrator_unprocessed_event_age_seconds')).toBe(0);
    await subscription.stop();
    expect(await value(metrics, 'provisioning_orchestrator_following_streams')).toBe(0);
    // Following nothing, every tenant event is unprocessed as far as this instance goes.
    expect(await value(metrics, 'provisioning_orchestrator_unprocessed_event_age_seconds')).toBeGreaterThan(
      3590,
    );
  });

  it("finds the Orchestrator's own subscription by its name", async () => {
    const publisher = { publish: async () => undefined } as unknown as MessagePublisher;
    const orchestrator = new Orchestrator({
      eventStore: store,
      publisher,
      decider: {
        maxAttempts: 1,
        compensationMaxAttempts: 1,
        gracePeriodDays: 30,
        purgeRetryDelaySeconds: 60,
      },
      clock: () => new Date(),
      logger,
      timerIntervalMs: 60_000,
    });
    const metrics = new OrchestratorMetrics(store);
    await orchestrator.start();
    try {
      expect(await value(metrics, 'provisioning_orchestrator_following_streams')).toBe(1);
      expect(await value(metrics, 'provisioning_orchestrator_unprocessed_event_age_seconds')).toBe(0);
    } finally {
      await orchestrator.stop();
    }
    expect(await value(metrics, 'provisioning_orchestrator_following_streams')).toBe(0);
  });
});
