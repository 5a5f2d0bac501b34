/**
 * End-to-end provisioning throughput and latency: N tenants (BENCH_TENANTS, default 50) through the whole
 * running system, every app its own process (a LocalStack in a throw-away directory, database
 * provisioning_test, its own schema prefix and vhost), at most BENCH_CONCURRENCY (default 10) in flight.
 * Latency runs from the webhook call to the TenantActivated event. Event-store and broker load are counted
 * from the event store and from RabbitMQ's management statistics of the stack's vhost.
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
import { BUSINESS_SERVICES, generateTenantId, type TenantProfile } from '@app/contracts';
import { createEventStore, type EventStore, type RecordedEvent } from '@app/event-store';
import * as Minio from 'minio';
import mysql from 'mysql2/promise';
import { LocalStack, specSubscriptionCreated } from '../test/support/local-stack';
import { removeTenantResources } from '../test/support/tenant-cleanup';

const TENANTS = positiveInt('BENCH_TENANTS', 50);
const CONCURRENCY = positiveInt('BENCH_CONCURRENCY', 10);
const TENANT_TIMEOUT_MS = 600_000;
const MANAGEMENT = 'http://127.0.0.1:15672';
const GUEST = `Basic ${Buffer.from('guest:guest').toString('base64')}`;
const S3 = {
  endPoint: '127.0.0.1',
  port: 7480,
  accessKey: 'rgw-admin-access',
  secretKey: 'rgw-admin-secret-key',
};

function positiveInt(variable: string, fallback: number): number {
  const raw = process.env[variable];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${variable} must be a positive integer`);
  return value;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function pooled<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) await work(item);
    }),
  );
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)];
}

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
  return {
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
// The reference: the spec's listings as a sequential script

async function management(method: string, path: string, body?: unknown): Promise<void> {
  const response = await fetch(`${MANAGEMENT}${path}`, {
    method,
    headers: { authorization: GUEST, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  await response.text();
  if (!response.ok && !(method === 'DELETE' && response.status === 404)) {
    throw new Error(`${method} ${path}: HTTP ${response.status}`);
  }
}

const SPEC_QUEUES: [string, Record<string, number>, string][] = [
  ['auth', { 'x-message-ttl': 86400000, 'x-max-length': 10000 }, 'user.*'],
  ['products', {}, 'product.*'],
  ['orders', {}, 'order.*'],
];
const BUCKETS = ['products', 'sav', 'newsletters'];
/** `mc ilm add --expiry-days 30 myminio/<tenant>-products` (S3 has no room for the delete-marker flag beside Days). */
const LIFECYCLE: Minio.LifecycleConfig = {
  Rule: [{ ID: 'expire-after-30-days', Status: 'Enabled', Filter: { Prefix: '' }, Expiration: { Days: 30 } }],
};

async function specScript(tenantIds: readonly string[]): Promise<number> {
  const connection = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user: 'root' });
  const s3 = new Minio.Client({ ...S3, useSSL: false, pathStyle: true, region: 'us-east-1' });
  const started = Date.now();
  try {
    for (const tenantId of tenantIds) {
      const prefix = tenantId.replace(/-/g, '_');
      for (const service of BUSINESS_SERVICES) {
        await connection.query(
          `CREATE DATABASE IF NOT EXISTS ${prefix}_${service}_db CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`,
        );
        await connection.query(
          `CREATE USER '${prefix}_${service}_user'@'%' IDENTIFIED BY '${randomBytes(24).toString('base64url')}'`,
        );
        await connection.query(
          `GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, INDEX ON ${prefix}_${service}_db.* TO '${prefix}_${service}_user'@'%'`,
        );
      }
      await connection.query('FLUSH PRIVILEGES');

      const vhost = encodeURIComponent(tenantId);
      const user = encodeURIComponent(`${tenantId}-app-user`);
      const exchange = encodeURIComponent(`${tenantId}.events`);
      await management('PUT', `/api/vhosts/${vhost}`);
      await management('PUT', `/api/users/${user}`, {
        password: randomBytes(24).toString('base64url'),
        tags: '',
      });
      await management('PUT', `/api/permissions/${vhost}/${user}`, {
        configure: '.*',
        write: '.*',
        read: '.*',
      });
      await management('PUT', `/api/exchanges/${vhost}/${exchange}`, {
        type: 'topic',
        durable: true,
        auto_delete: false,
      });
      for (const [kind, args] of SPEC_QUEUES) {
        await management('PUT', `/api/queues/${vhost}/${encodeURIComponent(`${tenantId}.${kind}`)}`, {
          durable: true,
          auto_delete: false,
          arguments: args,
        });
      }
      for (const [kind, , key] of SPEC_QUEUES) {
        const queue = encodeURIComponent(`${tenantId}.${kind}`);
        await management('POST', `/api/bindings/${vhost}/e/${exchange}/q/${queue}`, { routing_key: key });
      }

      for (const kind of BUCKETS) await s3.makeBucket(`${tenantId}-${kind}`, 'us-east-1');
      for (const kind of BUCKETS) await s3.setBucketVersioning(`${tenantId}-${kind}`, { Status: 'Enabled' });
      await s3.setBucketLifecycle(`${tenantId}-products`, LIFECYCLE);
    }
    return (Date.now() - started) / 1000;
  } finally {
    await cleanSpecScript(connection, s3, tenantIds).finally(() => connection.end());
  }
}

async function cleanSpecScript(
  connection: mysql.Connection,
  s3: Minio.Client,
  tenantIds: readonly string[],
): Promise<void> {
  for (const tenantId of tenantIds) {
    const prefix = tenantId.replace(/-/g, '_');
    for (const service of BUSINESS_SERVICES) {
      await connection.query(`DROP DATABASE IF EXISTS ${prefix}_${service}_db`);
      await connection.query(`DROP USER IF EXISTS '${prefix}_${service}_user'@'%'`);
    }
    await management('DELETE', `/api/vhosts/${encodeURIComponent(tenantId)}`);
    await management('DELETE', `/api/users/${encodeURIComponent(`${tenantId}-app-user`)}`);
    for (const kind of BUCKETS) {
      const bucket = `${tenantId}-${kind}`;
      if (!(await s3.bucketExists(bucket))) continue;
      const versions: { name: string; versionId?: string }[] = [];
      for await (const item of s3.listObjects(bucket, '', true, { IncludeVersion: true })) {
        if (item.name) versions.push({ name: item.name, versionId: item.versionId ?? undefined });
      }
      if (versions.length > 0) await s3.removeObjects(bucket, versions);
      await s3.removeBucket(bucket);
    }
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
