/**
 * End-to-end provisioning throughput and latency: N tenants (BENCH_TENANTS, default 50) through the whole
 * running system, every app its own process (a LocalStack in a throw-away directory, database
 * provisioning_test, its own schema prefix and vhost), at most BENCH_CONCURRENCY (default 10) in flight.
 * Latency runs from the webhook call to the TenantActivated event. Event-store and broker load are counted
 * from the event store and from RabbitMQ's management statistics of the stack's vhost. A per-step table
 * (p50/p99 from each StepStarted to its result event, read from the tenant streams) shows where the time goes.
 *
 * Reference in the same run: the same number of tenants' databases, vhosts and buckets created by a
 * sequential script that follows the spec's listings (3.1 SQL one statement at a time on one connection,
 * 5.x curl calls one at a time, 4.1 mc mb / version enable / ilm add through the MinIO client with the RGW
 * admin keys). The reference does far less (no namespace, manifests, monitoring, website, verification,
 * secrets or e-mail), so it bounds from above what a plain script reaches on this machine.
 *
 * Leaves nothing behind: the system's tenants are removed with the services' own removal handlers (a purge
 * through the saga would add the grace period and a backup per tenant), the reference's with DROP/DELETE.
 *
 *   npm run build && BENCH_TENANTS=20 node dist/bench/provisioning.bench.js
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateTenantId, type TenantProfile } from '@app/contracts';
import { createEventStore, type EventStore, type RecordedEvent } from '@app/event-store';
import { LocalStack, specSubscriptionCreated } from '../test/support/local-stack';
import { removeTenantResources } from '../test/support/tenant-cleanup';
import {
  formatStepTable,
  GUEST,
  MANAGEMENT,
  mergeDurations,
  percentile,
  pooled,
  positiveInt,
  sleep,
  specScript,
  stepOrder,
  stepRows,
  tenantStepDurations,
} from './stack-bench';

const TENANTS = positiveInt('BENCH_TENANTS', 50);
const CONCURRENCY = positiveInt('BENCH_CONCURRENCY', 10);
const TENANT_TIMEOUT_MS = 600_000;

// ---------------------------------------------------------------------------------------------------------
// The system

interface Outcome {
  /** When TenantActivated was recorded (ms since epoch), or the failure. */
  resolve(recordedAt: number): void;
  reject(error: Error): void;
}

interface SystemResult {
  latenciesS: number[];
  wallS: number;
  events: number;
  published: number;
  delivered: number;
  profiles: TenantProfile[];
  /** The per-step table (StepStarted to its result, from the tenant streams). */
  steps: string;
}

async function vhostMessageStats(vhost: string): Promise<{ publish: number; deliver_get: number }> {
  const response = await fetch(`${MANAGEMENT}/api/vhosts/${encodeURIComponent(vhost)}`, {
    headers: { authorization: GUEST },
  });
  if (!response.ok) throw new Error(`vhost statistics: HTTP ${response.status}`);
  const body = (await response.json()) as { message_stats?: { publish?: number; deliver_get?: number } };
  return { publish: body.message_stats?.publish ?? 0, deliver_get: body.message_stats?.deliver_get ?? 0 };
}

/** The management API aggregates statistics every few seconds: read until two reads agree. */
async function settledMessageStats(vhost: string): Promise<{ publish: number; deliver_get: number }> {
  let previous = await vhostMessageStats(vhost);
  for (let attempt = 0; attempt < 10; attempt += 1) {
    await sleep(3000);
    const current = await vhostMessageStats(vhost);
    if (current.publish === previous.publish && current.deliver_get === previous.deliver_get) return current;
    previous = current;
  }
  return previous;
}

async function runSystem(stack: LocalStack, events: EventStore): Promise<SystemResult> {
  const waiting = new Map<string, Outcome>();
  const early = new Map<string, RecordedEvent>();
  const settle = (tenantId: string, event: RecordedEvent) => {
    const outcome = waiting.get(tenantId);
    if (!outcome) return void early.set(tenantId, event);
    waiting.delete(tenantId);
    if (event.type === 'TenantActivated') outcome.resolve(event.recordedAt.getTime());
    else outcome.reject(new Error(`tenant ${tenantId} failed: ${JSON.stringify(event.data)}`));
  };
  const subscription = events.subscribe(
    { category: 'tenant' },
    {
      name: 'bench',
      fromCheckpoint: 'end',
      handler: (event) => {
        if (event.type === 'TenantActivated' || event.type === 'TenantProvisioningFailed') {
          settle(event.streamName.slice('tenant-'.length), event);
        }
      },
    },
  );

  const run = randomBytes(3).toString('hex');
  const tenantIds: string[] = [];
  const latenciesS: number[] = [];
  const started = Date.now();
  try {
    await pooled(
      Array.from({ length: TENANTS }, (_, i) => i),
      CONCURRENCY,
      async (i) => {
        const payload = specSubscriptionCreated(`sub_bench_${run}_${i}`, `Bench Shop ${i}`);
        payload.data.customer.email = `admin-${run}-${i}@bench.example.com`;
        const sentAt = Date.now();
        const response = await stack.postWebhook('subscription-created', payload);
        if (response.status !== 202)
          throw new Error(`webhook answered ${response.status}: ${await response.text()}`);
        const { tenant_id: tenantId } = (await response.json()) as { tenant_id: string };
        tenantIds.push(tenantId);
        const activatedAt = await new Promise<number>((resolve, reject) => {
          const timer = setTimeout(
            () => reject(new Error(`tenant ${tenantId} not active after ${TENANT_TIMEOUT_MS} ms`)),
            TENANT_TIMEOUT_MS,
          );
          const outcome: Outcome = {
            resolve: (at) => (clearTimeout(timer), resolve(at)),
            reject: (error) => (clearTimeout(timer), reject(error)),
          };
          waiting.set(tenantId, outcome);
          const seen = early.get(tenantId);
          if (seen) {
            early.delete(tenantId);
            settle(tenantId, seen);
          }
        });
        latenciesS.push((activatedAt - sentAt) / 1000);
      },
    );
  } finally {
    await subscription.stop();
  }
  const wallS = (Date.now() - started) / 1000;

  const profiles: TenantProfile[] = [];
  for (const tenantId of tenantIds) {
    const requested = (await events.readStream(`tenant-${tenantId}`, { limit: 1 }))[0];
    profiles.push((requested.data as { tenant: TenantProfile }).tenant);
  }
  // After-activation steps (welcome e-mail, Grafana viewer) still run: let them finish before counting load.
  await waitForQuiet(events);
  const stats = await settledMessageStats(stack.options.vhost);
  const perTenant = await tenantStepDurations(events, tenantIds);
  return {
    steps: formatStepTable(stepRows(mergeDurations(perTenant), stepOrder(perTenant))),
    latenciesS,
    wallS,
    events: (await events.readAll()).length,
    published: stats.publish,
    delivered: stats.deliver_get,
    profiles,
  };
}

/** Until the event store has not grown for a few seconds. */
async function waitForQuiet(events: EventStore): Promise<void> {
  let count = -1;
  for (let attempt = 0; attempt < 60; attempt += 1) {
    const now = (await events.readAll()).length;
    if (now === count) return;
    count = now;
    await sleep(3000);
  }
}

// ---------------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const run = randomBytes(3).toString('hex');
  const dir = mkdtempSync(join(tmpdir(), `bench-provisioning-${run}-`));
  const stack = new LocalStack({
    dir,
    database: 'provisioning_test',
    schemaPrefix: `bench_${run}`,
    vhost: `bench-${run}`,
    logLevel: 'warn',
    pools: 'production',
  });
  let events: EventStore | undefined;
  let system: SystemResult | undefined;
  try {
    await stack.start();
    events = await createEventStore(stack.pgUrl, { schema: stack.eventStoreSchema, migrate: false });
    system = await runSystem(stack, events);
  } finally {
    const profiles = system?.profiles ?? [];
    await events?.close();
    await stack.stop();
    await removeTenantResources(stack, profiles);
    await stack.removeVhost();
    await stack.dropSchemas();
    rmSync(dir, { recursive: true, force: true });
  }

  const referenceIds = Array.from({ length: TENANTS }, () =>
    generateTenantId('Ref', randomBytes(3).toString('hex')),
  );
  const specSeconds = await specScript(referenceIds);

  const sorted = [...system.latenciesS].sort((a, b) => a - b);
  const perMinute = (TENANTS / system.wallS) * 60;
  const specPerMinute = (TENANTS / specSeconds) * 60;
  console.log(
    `system: ${TENANTS} tenants (concurrency ${CONCURRENCY}) active in ${system.wallS.toFixed(1)} s; ` +
      `webhook->active p50 ${percentile(sorted, 50).toFixed(2)} s, p95 ${percentile(sorted, 95).toFixed(2)} s, ` +
      `p99 ${percentile(sorted, 99).toFixed(2)} s, max ${sorted[sorted.length - 1].toFixed(2)} s`,
  );
  console.log(
    `load: ${system.events} events appended (${(system.events / TENANTS).toFixed(1)} per tenant), ` +
      `${system.published} messages published and ${system.delivered} delivered on vhost ${stack.options.vhost} ` +
      `(${(system.published / TENANTS).toFixed(1)} / ${(system.delivered / TENANTS).toFixed(1)} per tenant)`,
  );
  console.log(`per step (StepStarted to its result, every tenant):\n${system.steps}`);
  console.log(
    `spec script: ${TENANTS} tenants' databases, vhosts and buckets, sequentially, in ${specSeconds.toFixed(1)} s`,
  );
  console.log(
    `RESULT provisioning tenants=${TENANTS} p50_s=${percentile(sorted, 50).toFixed(2)} ` +
      `p99_s=${percentile(sorted, 99).toFixed(2)} tenants_per_min=${perMinute.toFixed(1)} ` +
      `spec_script_tenants_per_min=${specPerMinute.toFixed(1)}`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
