/**
 * What the end-to-end benches share (bench/provisioning.bench.ts, bench/fleet.bench.ts): the worker pool,
 * percentiles, the per-step latency table read from the tenant streams, and the reference script that follows
 * the spec's listings.
 */
import { randomBytes } from 'node:crypto';
import { BUSINESS_SERVICES } from '@app/contracts';
import type { EventStore, RecordedEvent } from '@app/event-store';
import * as Minio from 'minio';
import mysql from 'mysql2/promise';

export const MANAGEMENT = 'http://127.0.0.1:15672';
export const GUEST = `Basic ${Buffer.from('guest:guest').toString('base64')}`;
const S3 = {
  endPoint: '127.0.0.1',
  port: 7480,
  accessKey: 'rgw-admin-access',
  secretKey: 'rgw-admin-secret-key',
};

export function positiveInt(variable: string, fallback: number): number {
  const raw = process.env[variable];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${variable} must be a positive integer`);
  return value;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `work` on every item, at most `limit` at once. */
export async function pooled<T>(
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
export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)];
}

// ---------------------------------------------------------------------------------------------------------
// Per-step latencies, from the tenant streams

/** Seconds from each step's `StepStarted` to the first later event of the same command (its result). */
export type StepDurations = Map<string, number[]>;

/**
 * One tenant's step durations: every `StepStarted` is matched with the first later event carrying the same
 * `commandId` (the service's success or failure, or the orchestrator's `StepTimedOut`). Steps without a result
 * yet are left out; a step run twice (a retry) counts each attempt.
 */
export function stepDurations(events: readonly RecordedEvent[]): StepDurations {
  const open = new Map<string, { step: string; at: number }>();
  const durations: StepDurations = new Map();
  for (const event of events) {
    const data = event.data as { commandId?: unknown; step?: unknown } | undefined;
    const commandId = typeof data?.commandId === 'string' ? data.commandId : undefined;
    if (!commandId) continue;
    if (event.type === 'StepStarted') {
      open.set(commandId, { step: String(data?.step), at: event.recordedAt.getTime() });
      continue;
    }
    const started = open.get(commandId);
    if (!started) continue;
    open.delete(commandId);
    const list = durations.get(started.step) ?? [];
    list.push((event.recordedAt.getTime() - started.at) / 1000);
    durations.set(started.step, list);
  }
  return durations;
}

/** Reads the tenants' streams (a few at a time) and returns each one's step durations, in the given order. */
export async function tenantStepDurations(
  events: EventStore,
  tenantIds: readonly string[],
): Promise<StepDurations[]> {
  const result: StepDurations[] = new Array<StepDurations>(tenantIds.length);
  await pooled(
    tenantIds.map((id, index) => ({ id, index })),
    8,
    async ({ id, index }) => {
      result[index] = stepDurations(await events.readStream(`tenant-${id}`));
    },
  );
  return result;
}

/** The durations of several tenants merged per step. */
export function mergeDurations(perTenant: readonly StepDurations[]): StepDurations {
  const merged: StepDurations = new Map();
  for (const tenant of perTenant) {
    for (const [step, values] of tenant) {
      const list = merged.get(step) ?? [];
      list.push(...values);
      merged.set(step, list);
    }
  }
  return merged;
}

export interface StepRow {
  step: string;
  count: number;
  p50: number;
  p99: number;
  max: number;
  /** When the step first started on average, to order the table as the saga runs (first seen first). */
  order: number;
}

export function stepRows(merged: StepDurations, order: readonly string[] = [...merged.keys()]): StepRow[] {
  const rows: StepRow[] = [];
  for (const [step, values] of merged) {
    const sorted = [...values].sort((a, b) => a - b);
    rows.push({
      step,
      count: sorted.length,
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
      max: sorted[sorted.length - 1],
      order: order.indexOf(step) === -1 ? Number.MAX_SAFE_INTEGER : order.indexOf(step),
    });
  }
  return rows.sort((a, b) => a.order - b.order || a.step.localeCompare(b.step));
}

/** The steps in the order a tenant's stream first started them (the first tenant that has them all, roughly). */
export function stepOrder(perTenant: readonly StepDurations[]): string[] {
  const order: string[] = [];
  for (const tenant of perTenant)
    for (const step of tenant.keys()) if (!order.includes(step)) order.push(step);
  return order;
}

/** The per-step table, one line a step, columns aligned. */
export function formatStepTable(rows: readonly StepRow[]): string {
  const width = Math.max(4, ...rows.map((row) => row.step.length));
  const lines = [
    `${'step'.padEnd(width)}  ${'n'.padStart(5)}  ${'p50_s'.padStart(7)}  ${'p99_s'.padStart(7)}  ${'max_s'.padStart(7)}`,
  ];
  for (const row of rows) {
    lines.push(
      `${row.step.padEnd(width)}  ${String(row.count).padStart(5)}  ${row.p50.toFixed(2).padStart(7)}  ` +
        `${row.p99.toFixed(2).padStart(7)}  ${row.max.toFixed(2).padStart(7)}`,
    );
  }
  return lines.join('\n');
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

/**
 * The spec's listings for `tenantIds`, one tenant after the other (3.1 SQL one statement at a time on one
 * connection, 5.x curl calls one at a time, 4.1 mc mb / version enable / ilm add with the RGW admin keys).
 * Returns the seconds it took; removes everything it created before returning.
 */
export async function specScript(tenantIds: readonly string[]): Promise<number> {
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
