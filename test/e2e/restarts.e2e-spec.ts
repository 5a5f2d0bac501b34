import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tenantStream, type TenantProfile } from '@app/contracts';
import { createEventStore, StreamNotFoundError, type EventStore, type RecordedEvent } from '@app/event-store';
import { eventually, PrivateMariadb, PrivatePostgres, PrivateRabbitmq } from '@app/testing';
import { createConnection } from 'mysql2/promise';
import { Client } from 'pg';
import pino from 'pino';
import { APPS, LocalStack, specSubscriptionCreated, type AppName } from '../support/local-stack';
import { removeTenantResources } from '../support/tenant-cleanup';
import type { TenantView } from '../support/tenant-views';

/**
 * The servers the control plane depends on restarted while tenants provision, as a failover, an upgrade or an
 * operator restart does: PostgreSQL (event store, read model and secret store of every app), MariaDB (the
 * database-service's shared server) and RabbitMQ (every app's messaging, and the broker-service's management
 * API). The whole control plane runs as processes against servers of the suite's own (never the shared ones,
 * which other suites use at the same time). Every app must stay up and every tenant must still reach active.
 */
const run = randomBytes(3).toString('hex');
const dir = mkdtempSync(join(tmpdir(), `restarts-${run}-`));
// Generous: on a loaded CI machine, four suites of processes share two cores with this one.
const CONVERGE_TIMEOUT_MS = 150_000;
let postgres: PrivatePostgres;
let mariadb: PrivateMariadb;
let rabbitmq: PrivateRabbitmq;
let stack: LocalStack;
let events: EventStore;
const accepted: string[] = [];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function streamOf(tenantId: string): Promise<RecordedEvent[]> {
  try {
    return await events.readStream(tenantStream(tenantId));
  } catch (error) {
    if (error instanceof StreamNotFoundError) return [];
    throw error;
  }
}

/** The apps whose process has ended, with how. */
function exitedApps(): string[] {
  return APPS.flatMap((app) => {
    const child = stack.processes.get(app);
    if (child && child.exitCode === null && child.signalCode === null) return [];
    // The line saying why, not the whole dump after it (a driver error prints its client's settings).
    const log = readFileSync(join(stack.logDir, `${app}.log`), 'utf8').split('\n');
    const why = log.find((line) => /Unhandled 'error' event|^\w*Error\b|"level":60/.test(line)) ?? '';
    return [`${app} (exit ${child?.exitCode ?? child?.signalCode}): ${why.slice(0, 300)}`];
  });
}

/** Where each app's log ends now, so that a test reads only what its restart made the apps write. */
function logMarks(): Map<AppName, number> {
  return new Map(APPS.map((app) => [app, statSync(join(stack.logDir, `${app}.log`)).size]));
}

function logSince(app: AppName, marks: Map<AppName, number>): string {
  const file = join(stack.logDir, `${app}.log`);
  const from = marks.get(app) ?? 0;
  const length = statSync(file).size - from;
  if (length <= 0) return '';
  const buffer = Buffer.alloc(length);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, buffer, 0, length, from);
  } finally {
    closeSync(fd);
  }
  return buffer.toString('utf8');
}

/** Posts `count` subscriptions; returns the accepted tenant ids. */
async function subscribe(label: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let n = 1; n <= count; n += 1) {
    const payload = specSubscriptionCreated(
      `sub_restarts_${run}_${label}_${n}`,
      `Restart ${run} ${label} ${n}`,
    );
    payload.data.customer.email = `admin-${run}-${label}-${n}@restarts.example.com`;
    const response = await stack.postWebhook('subscription-created', payload);
    expect(response.status).toBe(202);
    const { tenant_id: id } = (await response.json()) as { tenant_id: string };
    ids.push(id);
    accepted.push(id);
  }
  return ids;
}

/**
 * Waits until every tenant's first commands are out and `results` were all recorded for at least one of
 * them (the service behind each holds connections to its server), none of the tenants being active yet.
 */
async function midway(tenants: string[], results: string[]): Promise<void> {
  const until = Date.now() + 30_000;
  for (;;) {
    const streams = await Promise.all(tenants.map(streamOf));
    if (streams.some((stream) => stream.some((e) => e.type === 'TenantActivated')))
      throw new Error('a tenant became active before the restart: the restart would not be mid-way');
    const recorded = new Set(streams.flat().map((e) => e.type));
    if (
      streams.every((stream) => stream.some((e) => e.type === 'StepStarted')) &&
      results.every((type) => recorded.has(type))
    )
      return;
    if (Date.now() > until) throw new Error(`provisioning did not reach ${results.join(', ')} within 30 s`);
    await sleep(50);
  }
}

/** Every tenant active within CONVERGE_TIMEOUT_MS, no app exited meanwhile, no rollback, one activation each. */
async function expectAllActive(tenants: string[]): Promise<void> {
  const views = new Map<string, TenantView>();
  const deadline = Date.now() + CONVERGE_TIMEOUT_MS;
  while (tenants.some((id) => views.get(id)?.state !== 'active')) {
    const exited = exitedApps();
    if (exited.length > 0) throw new Error(`apps exited after the restart:\n${exited.join('\n')}`);
    for (const id of tenants) {
      const view = await stack.getJson<TenantView>(`/api/v1/tenants/${id}`).catch(() => undefined);
      if (view) views.set(id, view);
      if (view?.state === 'failed')
        throw new Error(`tenant ${id} failed: ${JSON.stringify(view.failure_reason)}`);
    }
    if (Date.now() > deadline) {
      const stuck = tenants.map((id) => `${id}: ${views.get(id)?.state} at ${views.get(id)?.current_step}`);
      throw new Error(`tenants not active ${CONVERGE_TIMEOUT_MS} ms after the restart:\n${stuck.join('\n')}`);
    }
    await sleep(500);
  }
  expect(exitedApps()).toEqual([]);
  for (const id of tenants) {
    const stream = await streamOf(id);
    expect(stream.filter((e) => e.type === 'TenantActivated')).toHaveLength(1);
    expect(stream.map((e) => e.type)).not.toContain('RollbackStarted');
  }
}

async function mariadbSessions(): Promise<number> {
  const connection = await createConnection({ host: '127.0.0.1', port: mariadb.port, user: 'root' });
  try {
    const [rows] = await connection.query(
      `SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE ID <> CONNECTION_ID() AND USER = 'root'`,
    );
    return Number((rows as { n: number }[])[0].n);
  } finally {
    await connection.end();
  }
}

/** The AMQP connections open on the private broker, by the name each app gives its connection. */
async function amqpConnections(): Promise<string[]> {
  const response = await fetch(`${rabbitmq.managementUrl}/api/connections?columns=client_properties`, {
    headers: { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}` },
  });
  if (!response.ok) throw new Error(`GET /api/connections: ${response.status}`);
  const connections = (await response.json()) as { client_properties?: { connection_name?: string } }[];
  return connections.map((connection) => connection.client_properties?.connection_name ?? '?');
}

beforeAll(async () => {
  [postgres, mariadb, rabbitmq] = await Promise.all([
    PrivatePostgres.start(),
    PrivateMariadb.start(),
    PrivateRabbitmq.start(),
  ]);
  const admin = new Client({ connectionString: postgres.url() });
  await admin.connect();
  await admin.query('CREATE DATABASE restarts_test');
  await admin.end();
  stack = new LocalStack({
    dir,
    database: 'restarts_test',
    postgresServer: `postgres://postgres@127.0.0.1:${postgres.port}`,
    rabbitmqServer: { amqp: rabbitmq.amqpUrl(), management: rabbitmq.managementUrl },
    schemaPrefix: `restarts_${run}`,
    vhost: `restarts-${run}`,
    env: { 'database-service': { MYSQL_URL: mariadb.url() } },
  });
  await stack.start();
  events = await createEventStore(stack.pgUrl, {
    schema: stack.eventStoreSchema,
    logger: pino({ level: 'silent' }),
  });
}, 180_000);

afterAll(async () => {
  const profiles: TenantProfile[] = [];
  try {
    for (const tenantId of events ? accepted : []) {
      const requested = (await streamOf(tenantId)).find((e) => e.type === 'TenantRequested');
      if (requested) profiles.push((requested.data as { tenant: TenantProfile }).tenant);
    }
  } catch (error) {
    console.warn(
      `restarts suite: clean-up could not read every tenant's stream: ${(error as Error).message}`,
    );
  } finally {
    await events?.close().catch(() => undefined);
    await stack?.stop();
  }
  try {
    // The services' removal handlers read the tenants' secrets: the private servers are still up here. Only
    // the buckets (on the shared RGW) outlive the suite otherwise.
    await removeTenantResources(stack, profiles);
  } finally {
    await stack?.removeVhost().catch(() => undefined);
    await Promise.all([postgres?.destroy(), mariadb?.destroy(), rabbitmq?.destroy()]);
    if (process.env.RESTARTS_KEEP_LOGS) console.log(`restarts suite: logs kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}, 120_000);

it('keeps every app up through a PostgreSQL restart and a 5 s outage mid-provisioning; every tenant reaches active', async () => {
  const tenants = await subscribe('pg', 4);
  // Mid-way: the services that keep secrets have stored some (their pools hold connections).
  await midway(tenants, ['DatabasesProvisioned', 'StorageProvisioned', 'BrokerProvisioned']);
  const marks = logMarks();

  await postgres.restart();
  // The terminations reach idle connections asynchronously; a process that cannot take them ends within moments.
  await sleep(2000);
  expect(exitedApps()).toEqual([]);
  // Then down for a while (well under the apps' STARTUP_TIMEOUT_SECONDS): queries fail meanwhile, and are retried.
  await postgres.stop();
  await sleep(5000);
  await postgres.resume();
  expect(exitedApps()).toEqual([]);

  await expectAllActive(tenants);
  // The restart reached the apps' pools (so the suite tested what it claims): their logs name the lost connections.
  expect(APPS.map((app) => logSince(app, marks)).join('\n')).toMatch(/connection lost/);
});

it('keeps every app up through a MariaDB restart and a 5 s outage while databases are provisioned; every tenant reaches active', async () => {
  const tenants = await subscribe('mariadb', 3);
  await midway(tenants, ['DatabasesProvisioned']);
  // The restart cuts the database-service's pooled sessions (so the suite tests what it claims).
  expect(await mariadbSessions()).toBeGreaterThan(0);
  const marks = logMarks();
  const restartedAt = Date.now();

  await mariadb.stop();
  // Down for 5 s at least, and until a command met the outage: the database-service reported the server
  // unavailable (a retryable failure), so the suite proves a retry across the restart, not only an idle pool.
  const until = Date.now() + 30_000;
  await sleep(5000);
  while (!/DATABASE\.UNAVAILABLE/.test(logSince('database-service', marks)) && Date.now() < until)
    await sleep(250);
  expect(exitedApps()).toEqual([]);
  await mariadb.resume();
  expect(logSince('database-service', marks)).toMatch(/DATABASE\.UNAVAILABLE/);

  await expectAllActive(tenants);
  // Every tenant's databases were verified (with its own credentials, through the admin pool) after the restart.
  for (const id of tenants) {
    const verified = (await streamOf(id)).find((e) => e.type === 'DatabasesVerified');
    expect(verified?.recordedAt.getTime()).toBeGreaterThan(restartedAt);
  }
});

it('keeps every app up through a RabbitMQ node restart mid-provisioning; every app reconnects, every tenant reaches active', async () => {
  // Every app is connected to the private broker, the one about to go away (the management API lists a
  // connection a few seconds after it opened: its statistics are collected).
  await eventually(
    async () => ((await amqpConnections()).length >= APPS.length ? true : undefined),
    'every app connected to the private broker',
  );
  const tenants = await subscribe('rabbitmq', 3);
  await midway(tenants, ['DatabasesProvisioned', 'StorageProvisioned', 'BrokerProvisioned']);
  const marks = logMarks();

  // A clean node shutdown, as a broker pod's restart: the server closes every connection (320 CONNECTION_FORCED).
  await rabbitmq.stop();
  await sleep(3000);
  expect(exitedApps()).toEqual([]);
  await rabbitmq.resume();

  await expectAllActive(tenants);
  // The restart cut every app's connection and each one reconnected. Not necessarily before the tenants were
  // active: an app whose connection no tenant's path needs (the API's, for billing's bus) retries on its own
  // schedule, so each app is given until its next attempts to say so.
  for (const app of APPS) {
    expect({ app, disconnected: /amqp disconnected, reconnecting/.test(logSince(app, marks)) }).toEqual({
      app,
      disconnected: true,
    });
  }
  const reconnected = (app: AppName) => /amqp connected/.test(logSince(app, marks));
  await eventually(
    async () => (APPS.every(reconnected) ? true : undefined),
    'every app logging its reconnection',
    60_000,
  ).catch(() => undefined);
  expect(APPS.map((app) => ({ app, reconnected: reconnected(app) }))).toEqual(
    APPS.map((app) => ({ app, reconnected: true })),
  );
  await eventually(
    async () => ((await amqpConnections()).length >= APPS.length ? true : undefined),
    'every app connected to the restarted broker',
  );
});
