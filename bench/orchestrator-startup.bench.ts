/**
 * Orchestrator start-up benchmark (not a test): how long a restarted orchestrator takes before it follows new
 * events, with many tenants in the PostgreSQL event store, most of them long purged (what years of churn
 * leave behind), the rest active.
 *
 *   npm run build && npm run bench:orchestrator-startup
 *
 * Env: BENCH_PG_URL (admin connection, default postgres://postgres@127.0.0.1:5432/postgres),
 * BENCH_TENANTS (default 2000), BENCH_ACTIVE_SHARE (default 0.2).
 * Last line: RESULT orchestrator-startup tenants=<n> events=<n> startup_s=<s> read_all_s=<s> ratio=<start/read>
 *   rss_mb=<MB> heap_mb=<MB> heap_orchestrator_mb=<MB>
 *   startup_s:  Orchestrator.start() on the populated store, its checkpoint at the end of it, as a restart
 *               finds it (every tenant's timers rebuilt, nothing pending, nothing to catch up on);
 *   read_all_s: the reference, reading every tenant event once through readAll (what any start-up that looks
 *               at every tenant costs at least);
 *   rss_mb, heap_mb: the process's resident set and used heap once started (after a full GC when node runs
 *               with --expose-gc, as `npm run bench:orchestrator-startup` does), the process being this bench
 *               with one orchestrator in it; heap_orchestrator_mb: the used heap the started orchestrator
 *               added (what it keeps per tenant, times the tenants).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { admin, databaseUrl } from './postgres-admin';
import pino from 'pino';
import {
  ORCHESTRATOR_CHECKPOINT_STREAM,
  TENANT_STREAM_CATEGORY,
  tenantStream,
  type TenantEvent,
} from '@app/contracts';
import { createEventStore, type EventData, type EventStore } from '@app/event-store';
import type { MessagePublisher } from '@app/messaging';
import { DEFAULT_GUARDRAIL_CONFIG, Orchestrator } from '../apps/orchestrator/src';
import { PROFILE, T0, TEST_CONFIG, TenantSim } from '../apps/orchestrator/src/testing';

const TENANTS = Number(process.env['BENCH_TENANTS'] ?? '2000');
const ACTIVE_SHARE = Number(process.env['BENCH_ACTIVE_SHARE'] ?? '0.2');
const DAY_MS = 86_400_000;

/** Succeeds every running step until none runs: what the resource services would do. */
function settle(sim: TenantSim): void {
  for (let rounds = 0; rounds < 200; rounds++) {
    const running = sim.runningSteps();
    if (running.length === 0) return;
    for (const step of running) sim.succeed(step);
  }
  throw new Error('the simulated tenant never settled');
}

/** One tenant's whole history, as the decider would have written it: provisioned, and optionally purged. */
function history(index: number, purged: boolean): TenantEvent[] {
  const sim = new TenantSim(TEST_CONFIG);
  const tenantId = `bench-tenant-${String(index).padStart(6, '0')}`;
  sim.request({ ...PROFILE, tenantId, subscriptionId: `sub_bench_${index}` });
  settle(sim);
  if (sim.state.status !== 'active') throw new Error(`${tenantId} is ${sim.state.status}, not active`);
  if (purged) {
    const requestedAt = sim.now.toISOString();
    sim.emit('CancellationRequested', {
      subscriptionId: `sub_bench_${index}`,
      reason: 'bench',
      requestedAt,
      deletionDate: new Date(sim.now.getTime() + DAY_MS).toISOString(),
      requestedBy: 'billing',
    });
    settle(sim);
    // Past the grace period (the deletion date is never earlier than its end).
    sim.advance((TEST_CONFIG.gracePeriodDays + 2) * 86_400);
    settle(sim);
    if ((sim.state.status as string) !== 'purged')
      throw new Error(`${tenantId} is ${sim.state.status}, not purged`);
  }
  return sim.events;
}

/** Used heap, after a full collection when node runs with --expose-gc. */
function usedHeap(): number {
  global.gc?.();
  global.gc?.();
  return process.memoryUsage().heapUsed;
}

async function populate(store: EventStore): Promise<number> {
  let total = 0;
  const activeEvery = ACTIVE_SHARE > 0 ? Math.max(1, Math.round(1 / ACTIVE_SHARE)) : Infinity;
  const work = Array.from({ length: TENANTS }, (_, i) => i);
  const writers = Array.from({ length: 8 }, async () => {
    for (let i = work.shift(); i !== undefined; i = work.shift()) {
      const events = history(i, i % activeEvery !== 0);
      const tenantId = `bench-tenant-${String(i).padStart(6, '0')}`;
      const data: EventData[] = events.map((event) => ({
        id: randomUUID(),
        type: event.type,
        data: event.data,
        metadata: { ...event.metadata },
      }));
      await store.append(tenantStream(tenantId), data, { expectedRevision: 'no_stream' });
      total += data.length;
    }
  });
  await Promise.all(writers);
  return total;
}

/** Every tenant event once: how many, and the position of the last one. */
async function readEverything(store: EventStore): Promise<{ count: number; last?: string }> {
  let count = 0;
  let after: string | undefined;
  for (;;) {
    const page = await store.readAll({ after, limit: 1000, filter: { category: TENANT_STREAM_CATEGORY } });
    count += page.length;
    if (page.length > 0) after = page[page.length - 1].position;
    if (page.length < 1000) return { count, last: after };
  }
}

/**
 * Start-up must send nothing (no tenant has a command without an outcome). The orchestrator retries a failed
 * integration publish instead of failing, so publishes are counted and checked after the run.
 */
const publishes: string[] = [];
const silentPublisher = {
  publish: async (_exchange: string, routingKey: string) => {
    publishes.push(routingKey);
    throw new Error('nothing should be published during this start-up');
  },
} as unknown as MessagePublisher;

async function main(): Promise<void> {
  const database = `orch_bench_${randomBytes(4).toString('hex')}`;
  await admin((client) => client.query(`CREATE DATABASE ${database}`));
  const logger = pino({ level: process.env['LOG_LEVEL'] ?? 'warn' });
  try {
    const store = await createEventStore(databaseUrl(database), {
      schema: 'event_store',
      applicationName: 'orchestrator-startup-bench',
    });
    try {
      const seeded = performance.now();
      const events = await populate(store);
      console.log(
        `seeded ${TENANTS} tenants, ${events} events in ${((performance.now() - seeded) / 1000).toFixed(1)} s`,
      );
      // The store shows new events to readAll once no older transaction is open: wait until all are visible.
      let visible = await readEverything(store);
      for (let tries = 0; visible.count < events; tries++) {
        if (tries > 100) throw new Error('seeded events never became visible');
        await new Promise((resolve) => setTimeout(resolve, 100));
        visible = await readEverything(store);
      }
      // Where a running orchestrator had saved its checkpoint: a restart has nothing to catch up on.
      await store.setStreamMetadata(ORCHESTRATOR_CHECKPOINT_STREAM, { checkpoint: visible.last });

      const readStarted = performance.now();
      await readEverything(store);
      const readAllS = (performance.now() - readStarted) / 1000;

      const orchestrator = new Orchestrator({
        eventStore: store,
        publisher: silentPublisher,
        decider: TEST_CONFIG,
        // After every tenant's last event (the purges end past the grace period): no deadline of an active
        // tenant falls due while the bench runs.
        clock: () => new Date(T0.getTime() + (TEST_CONFIG.gracePeriodDays + 10) * DAY_MS),
        logger,
        timerIntervalMs: 60_000,
        guardrails: DEFAULT_GUARDRAIL_CONFIG,
      });
      const heapBefore = usedHeap();
      const started = performance.now();
      await orchestrator.start();
      const startS = (performance.now() - started) / 1000;
      const heapAfter = usedHeap();
      const rssMb = process.memoryUsage().rss / 1_048_576;
      // Not measured: the subscription runs a moment, so a start that replayed history instead of resuming at
      // its checkpoint would publish, and fail the bench below.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      await orchestrator.stop();
      if (publishes.length > 0) {
        throw new Error(
          `start-up published ${publishes.length} messages (${publishes.slice(0, 3).join(', ')}…)`,
        );
      }

      console.log(
        `start-up: ${startS.toFixed(2)} s; reading every tenant event once: ${readAllS.toFixed(2)} s; ` +
          `resident ${rssMb.toFixed(0)} MB, heap ${(heapAfter / 1_048_576).toFixed(1)} MB ` +
          `(${((heapAfter - heapBefore) / 1024 / TENANTS).toFixed(2)} KB a tenant held by the orchestrator)` +
          (typeof global.gc === 'function' ? '' : ' [no --expose-gc: heap figures include garbage]'),
      );
      console.log(
        `RESULT orchestrator-startup tenants=${TENANTS} events=${events} startup_s=${startS.toFixed(2)} ` +
          `read_all_s=${readAllS.toFixed(2)} ratio=${(startS / readAllS).toFixed(2)} ` +
          `rss_mb=${rssMb.toFixed(0)} heap_mb=${(heapAfter / 1_048_576).toFixed(1)} ` +
          `heap_orchestrator_mb=${((heapAfter - heapBefore) / 1_048_576).toFixed(1)}`,
      );
    } finally {
      await store.close();
    }
  } finally {
    await admin((client) => client.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`));
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
