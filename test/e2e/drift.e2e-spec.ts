import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bucketName, vhostName, type TenantProfile } from '@app/contracts';
import { loadConfig } from '@app/platform';
import { createConnection, type Connection } from 'mysql2/promise';
import pino from 'pino';
import { configSchema as storageConfigSchema } from '../../apps/storage-service/src/config';
import { createServiceRuntime as storageRuntime } from '../../apps/storage-service/src';
import { LocalStack, specSubscriptionCreated } from '../support/local-stack';
import { removeTenantResources } from '../support/tenant-cleanup';
import type { EventsPage, EventView, TenantView } from '../support/tenant-views';

/**
 * Drift detection and repair through the running system, on the real servers: a tenant is provisioned, then
 * behind the control plane's back one of its MySQL grants is revoked, one of its RabbitMQ queues deleted and
 * its products bucket's policy changed (the public-read statement removed). An operator's check finds all three;
 * the queue and the bucket policy are repaired by themselves, the grant after the operator's approval, and each
 * is back on the servers. The tenant stays active throughout. The schedule is off (period 0): only the
 * operator's check runs, so the test knows which check it watches.
 */
const run = randomBytes(3).toString('hex');
const dir = mkdtempSync(join(tmpdir(), `e2e-drift-${run}-`));
const GUEST = `Basic ${Buffer.from('guest:guest').toString('base64')}`;

const stack = new LocalStack({
  dir,
  database: 'provisioning_test',
  schemaPrefix: `e2e_drift_${run}`,
  vhost: `e2e-drift-${run}`,
  logLevel: 'info',
  env: { orchestrator: { ORCHESTRATOR_DRIFT_CHECK_PERIOD_S: '0' } },
});

const payload = specSubscriptionCreated(`sub_drift_${run}`, `Drift${run} Shop`);
payload.data.customer.email = `owner-${run}@drift.example.com`;
let tenantId = '';
let profile: TenantProfile | undefined;
let mysql: Connection;

async function events(): Promise<EventView[]> {
  const page = await stack.getJson<EventsPage>(
    `/api/v1/tenants/${tenantId}/events?limit=1000`,
    stack.auditorToken,
  );
  return page.events;
}

async function state(): Promise<string> {
  return (await stack.getJson<TenantView>(`/api/v1/tenants/${tenantId}`)).state;
}

/** Polls the history until `found` holds, failing with the drift events seen so far. */
async function waitForEvents(what: string, found: (all: EventView[]) => boolean): Promise<EventView[]> {
  const until = Date.now() + 180_000;
  for (;;) {
    const all = await events();
    if (found(all)) return all;
    if (Date.now() > until) {
      const drift = all
        .filter((e) => e.type.startsWith('Drift'))
        .map((e) => `${e.type} ${JSON.stringify(e.data)}`);
      throw new Error(`${what} not seen within 180 s; drift events:\n${drift.join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

function driftEvent(all: EventView[], type: string, driftId: string): EventView | undefined {
  return all.find((e) => e.type === type && e.data['driftId'] === driftId);
}

async function post(path: string, body: unknown): Promise<Response> {
  return fetch(`${stack.apiUrl}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.operatorToken}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

function queueUrl(queue: string): string {
  return `http://127.0.0.1:15672/api/queues/${encodeURIComponent(vhostName(tenantId))}/${encodeURIComponent(queue)}`;
}

/** The products bucket's policy through the storage-service's own adapter (admin keys of the stack). */
async function withStore<T>(
  work: (store: {
    getBucketPolicy(bucket: string): Promise<string | null>;
    putBucketPolicy(bucket: string, json: string): Promise<void>;
  }) => Promise<T>,
): Promise<T> {
  const env = stack.envs.get('storage-service');
  if (!env) throw new Error('storage-service has no environment');
  const runtime = await storageRuntime(loadConfig(storageConfigSchema, env), pino({ level: 'silent' }));
  try {
    return await work(runtime.deps.store);
  } finally {
    await runtime.close();
  }
}

/** The account's grants as MariaDB prints them. */
async function privilegesOf(user: string, host: string): Promise<string> {
  const [rows] = await mysql.query('SHOW GRANTS FOR ?@?', [user, host]);
  return JSON.stringify(rows);
}

interface Statement {
  Sid: string;
}

beforeAll(async () => {
  await stack.start();
  const response = await stack.postWebhook('subscription-created', payload);
  expect(response.status).toBe(202);
  tenantId = ((await response.json()) as { tenant_id: string }).tenant_id;
  mysql = await createConnection({ host: '127.0.0.1', user: 'root' });
}, 120_000);

afterAll(async () => {
  await mysql?.end();
  if (profile) await removeTenantResources(stack, [profile]).catch(() => undefined);
  await stack.stop();
  await stack.removeVhost();
  await stack.dropSchemas();
  rmSync(dir, { recursive: true, force: true });
});

describe('drift detection and repair on the real servers', () => {
  it('detects a revoked grant, a deleted queue and a changed bucket policy, and repairs each', async () => {
    const provisioned = await waitForEvents(
      'activation and welcome',
      (all) =>
        all.some((e) => e.type === 'TenantActivated') && all.some((e) => e.type === 'WelcomeEmailSent'),
    );
    profile = (provisioned.find((e) => e.type === 'TenantRequested')?.data as { tenant: TenantProfile })
      .tenant;
    const databases = provisioned.find((e) => e.type === 'DatabasesProvisioned')?.data['outputs'] as {
      databases: string[];
      users: string[];
    };
    const broker = provisioned.find((e) => e.type === 'BrokerProvisioned')?.data['outputs'] as {
      queues: string[];
    };
    const user = databases.users[1];
    const queue = broker.queues[broker.queues.length - 1];
    const products = bucketName(tenantId, 'products');

    // (1) a grant revoked by hand
    const [hosts] = await mysql.query(
      'SELECT CONVERT(host USING utf8mb4) AS host FROM mysql.user WHERE user = ?',
      [user],
    );
    const host = (hosts as { host: string }[])[0].host;
    await mysql.query('REVOKE ALL PRIVILEGES, GRANT OPTION FROM ?@?', [user, host]);
    expect(await privilegesOf(user, host)).not.toContain('SELECT');
    // (2) a queue deleted by hand
    const deleted = await fetch(queueUrl(queue), { method: 'DELETE', headers: { authorization: GUEST } });
    expect(deleted.status).toBe(204);
    // (3) the products bucket's policy changed: no public read any more
    const original = await withStore(async (store) => {
      const policy = JSON.parse((await store.getBucketPolicy(products)) ?? '{}') as {
        Statement: Statement[];
      };
      const changed = {
        ...policy,
        Statement: policy.Statement.filter((s) => s.Sid !== 'PublicReadProducts'),
      };
      expect(changed.Statement.length).toBe(policy.Statement.length - 1);
      await store.putBucketPolicy(products, JSON.stringify(changed));
      return policy;
    });

    const checked = await post(`/api/v1/tenants/${tenantId}/drift-check`, { reason: 'drift e2e' });
    expect(checked.status).toBe(202);
    const { check } = (await checked.json()) as { check: number };
    expect(check).toBe(1);

    const found = await waitForEvents(
      'three drifts, two repaired by themselves',
      (all) =>
        ['1-broker', '1-storage'].every((id) => driftEvent(all, 'DriftRepaired', id)) &&
        driftEvent(all, 'DriftDetected', '1-databases') !== undefined &&
        all.some((e) => e.type === 'DriftCheckCompleted'),
    );
    expect(driftEvent(found, 'DriftDetected', '1-broker')?.data).toMatchObject({
      kind: 'broker-topology',
      automatic: true,
      code: 'BROKER.VERIFICATION_FAILED',
      step: 'drift-1:verify-broker',
    });
    expect(driftEvent(found, 'DriftDetected', '1-broker')?.data['checks']).toContain(`queue:${queue}`);
    expect(driftEvent(found, 'DriftDetected', '1-storage')?.data).toMatchObject({
      kind: 'storage-bucket-policy',
      automatic: true,
      code: 'STORAGE.PUBLIC_READ_BROKEN',
    });
    expect(driftEvent(found, 'DriftDetected', '1-databases')?.data).toMatchObject({
      kind: 'database-grants',
      automatic: false,
      code: 'DATABASE.VERIFICATION_FAILED',
    });
    expect(driftEvent(found, 'DriftDetected', '1-databases')?.data['checks']).toContain(`${user}:grants`);
    // Not repaired without an operator; the tenant stayed active.
    expect(driftEvent(found, 'DriftRepaired', '1-databases')).toBeUndefined();
    expect(
      found.some((e) => e.type === 'StepStarted' && e.data['step'] === 'drift-1:repair-1:databases'),
    ).toBe(false);
    expect(await state()).toBe('active');
    const detail = await stack.getJson<{ drift: { open: { drift_id: string; status: string }[] } }>(
      `/api/v1/tenants/${tenantId}`,
    );
    expect(detail.drift.open).toEqual([
      expect.objectContaining({ drift_id: '1-databases', status: 'awaiting_approval' }),
    ]);

    // The queue and the policy are back on the servers.
    expect((await fetch(queueUrl(queue), { headers: { authorization: GUEST } })).status).toBe(200);
    const restored = await withStore(async (store) =>
      JSON.parse((await store.getBucketPolicy(products)) ?? '{}'),
    );
    expect((restored as { Statement: Statement[] }).Statement.map((s) => s.Sid).sort()).toEqual(
      original.Statement.map((s) => s.Sid).sort(),
    );

    const approved = await post(`/api/v1/tenants/${tenantId}/drift/1-databases/repair`, {
      reason: 'ticket e2e',
    });
    expect(approved.status).toBe(202);
    const repaired = await waitForEvents(
      'the grant repaired',
      (all) => !!driftEvent(all, 'DriftRepaired', '1-databases'),
    );
    expect(driftEvent(repaired, 'DriftRepairApproved', '1-databases')?.data['approvedBy']).toBe(
      'operator:operator',
    );
    expect(await privilegesOf(user, host)).toContain('SELECT');
    expect(await state()).toBe('active');
    const tenant = await stack.getJson<TenantView>(`/api/v1/tenants/${tenantId}`);
    expect(tenant.steps.filter((s) => s.step.startsWith('drift-'))).toEqual([]);
  });
});
