import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tenantStream, type TenantProfile } from '@app/contracts';
import { createEventStore, StreamNotFoundError, type EventStore, type RecordedEvent } from '@app/event-store';
import { PrivatePostgres } from '@app/testing';
import { Client } from 'pg';
import pino from 'pino';
import { APPS, LocalStack, specSubscriptionCreated } from '../support/local-stack';
import { removeTenantResources } from '../support/tenant-cleanup';
import type { TenantView } from '../support/tenant-views';

/**
 * PostgreSQL (event store, read model and secret store of every app) restarted while tenants provision, as a
 * failover or an operator restart does: `pg_ctl restart -m fast` ends every session with 57P01. The whole
 * control plane runs as processes against a PostgreSQL server of the suite's own (never the shared one, which
 * other suites use at the same time). Every app must stay up and every tenant must still reach active.
 */
const run = randomBytes(3).toString('hex');
const dir = mkdtempSync(join(tmpdir(), `restarts-${run}-`));
const TENANTS = 4;
const CONVERGE_TIMEOUT_MS = 60_000;
let server: PrivatePostgres;
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

beforeAll(async () => {
  server = await PrivatePostgres.start();
  const admin = new Client({ connectionString: server.url() });
  await admin.connect();
  await admin.query('CREATE DATABASE restarts_test');
  await admin.end();
  stack = new LocalStack({
    dir,
    database: 'restarts_test',
    postgresServer: `postgres://postgres@127.0.0.1:${server.port}`,
    schemaPrefix: `restarts_${run}`,
    vhost: `restarts-${run}`,
  });
  await stack.start();
  events = await createEventStore(stack.pgUrl, {
    schema: stack.eventStoreSchema,
    logger: pino({ level: 'silent' }),
  });
});

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
    // The services' removal handlers read the tenants' secrets: the private server is still up here.
    await removeTenantResources(stack, profiles);
  } finally {
    await stack?.removeVhost();
    await server?.destroy();
    if (process.env.RESTARTS_KEEP_LOGS) console.log(`restarts suite: logs kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
});

it('keeps every app up through a PostgreSQL restart and a 5 s outage mid-provisioning; every tenant reaches active', async () => {
  for (let n = 1; n <= TENANTS; n += 1) {
    const payload = specSubscriptionCreated(`sub_restarts_${run}_${n}`, `Restart ${run} ${n}`);
    payload.data.customer.email = `admin-${run}-${n}@restarts.example.com`;
    const response = await stack.postWebhook('subscription-created', payload);
    expect(response.status).toBe(202);
    accepted.push(((await response.json()) as { tenant_id: string }).tenant_id);
  }
  // Mid-way: every tenant's first commands are out and the services that keep secrets have stored some (their
  // pools hold connections), none of the tenants is active yet.
  const until = Date.now() + 30_000;
  for (;;) {
    const streams = await Promise.all(accepted.map(streamOf));
    if (streams.some((stream) => stream.some((e) => e.type === 'TenantActivated')))
      throw new Error('a tenant became active before the restart: the restart would not be mid-way');
    const provisioned = new Set(streams.flat().map((e) => e.type));
    if (
      streams.every((stream) => stream.some((e) => e.type === 'StepStarted')) &&
      ['DatabasesProvisioned', 'StorageProvisioned', 'BrokerProvisioned'].every((type) =>
        provisioned.has(type),
      )
    )
      break;
    if (Date.now() > until) throw new Error('provisioning did not start within 30 s');
    await sleep(50);
  }

  await server.restart();
  // The terminations reach idle connections asynchronously; a process that cannot take them ends within moments.
  await sleep(2000);
  expect(exitedApps()).toEqual([]);
  // Then down for a while (well under the apps' STARTUP_TIMEOUT_SECONDS): queries fail meanwhile, and are retried.
  await server.stop();
  await sleep(5000);
  await server.resume();
  expect(exitedApps()).toEqual([]);

  const views = new Map<string, TenantView>();
  const deadline = Date.now() + CONVERGE_TIMEOUT_MS;
  while (accepted.some((id) => views.get(id)?.state !== 'active')) {
    const exited = exitedApps();
    if (exited.length > 0) throw new Error(`apps exited after the restart:\n${exited.join('\n')}`);
    for (const id of accepted) {
      const view = await stack.getJson<TenantView>(`/api/v1/tenants/${id}`).catch(() => undefined);
      if (view) views.set(id, view);
      if (view?.state === 'failed')
        throw new Error(`tenant ${id} failed: ${JSON.stringify(view.failure_reason)}`);
    }
    if (Date.now() > deadline) {
      const stuck = accepted.map((id) => `${id}: ${views.get(id)?.state} at ${views.get(id)?.current_step}`);
      throw new Error(`tenants not active ${CONVERGE_TIMEOUT_MS} ms after the restart:\n${stuck.join('\n')}`);
    }
    await sleep(500);
  }
  expect(exitedApps()).toEqual([]);
  for (const id of accepted) {
    const stream = await streamOf(id);
    expect(stream.filter((e) => e.type === 'TenantActivated')).toHaveLength(1);
    expect(stream.map((e) => e.type)).not.toContain('RollbackStarted');
  }
  // The restart reached the apps' pools (so the suite tested what it claims): their logs name the lost connections.
  const logs = APPS.map((app) => readFileSync(join(stack.logDir, `${app}.log`), 'utf8')).join('\n');
  expect(logs).toMatch(/connection lost/);
});
