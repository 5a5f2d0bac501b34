import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUSINESS_SERVICES, namespaceName, type TenantProfile } from '@app/contracts';
import { FakeApiServer } from '@app/kube';
import { eventually } from '@app/testing';
import { simpleParser } from 'mailparser';
import { createConnection, type Connection } from 'mysql2/promise';
import { ArchiveBucket, S3Interceptor } from '../support/archive';
import { APPS, LocalStack } from '../support/local-stack';
import { assertRbacCovers, deployRbac, serviceAccountUser } from '../support/rbac';
import { removeTenantResources } from '../support/tenant-cleanup';
import { everything, NOTHING, tenantFootprint } from '../support/tenant-footprint';
import type { EventsPage, EventView, TenantView } from '../support/tenant-views';

/**
 * Issue 9 end to end: every app its own process on the real servers, the orchestrator's clock moved through a
 * file. Grace period and reactivation, purge after a restart of every process, a purge blocked by a corrupted
 * backup, the mass-cancellation breaker and its operator reset, tier changes (with a downgrade refused on
 * observed usage) and suspension for non-payment.
 *
 * One stack serves every scenario, so the breaker counts every cancellation of this file: with
 * PURGE_BREAKER_CANCELLATIONS=3, the first three (scenarios a, b, c) pass and the fourth (d) trips it.
 * Scenarios run in order and move the clock only while no command is in flight.
 */
const run = randomBytes(3).toString('hex');
const dir = mkdtempSync(join(tmpdir(), `e2e-grace-${run}-`));
const DAY_MS = 86_400_000;
const stack = new LocalStack({
  dir,
  database: 'provisioning_test',
  schemaPrefix: `e2e_grace_${run}`,
  vhost: `e2e-grace-${run}`,
  logLevel: 'info',
  env: {
    orchestrator: {
      PURGE_RETRY_DELAY_SECONDS: '15',
      PURGE_BREAKER_CANCELLATIONS: '3',
      PURGE_BREAKER_WINDOW_MINUTES: '60',
      // Snapshots of the guardrail stream every other event: the restart in (b) and the breaker's operator
      // reset in (d) run on a snapshot and the events after it.
      GUARDRAIL_SNAPSHOT_EVERY: '2',
    },
  },
});
const kube = new FakeApiServer({ terminationDelayMs: 50 });
// The database-service reaches the archive bucket through this proxy, so (c) can act the moment a manifest
// is written; everything else goes straight to RGW.
const archiveProxy = new S3Interceptor('http://127.0.0.1:7480');
let archive: ArchiveBucket;
let mysql: Connection;

interface Tenant {
  id: string;
  email: string;
  subscriptionId: string;
  name: string;
}

function created(subscriptionId: string, name: string, email: string) {
  return {
    event: 'subscription.created',
    timestamp: new Date().toISOString(),
    data: {
      subscription_id: subscriptionId,
      customer: { name, email, billing_email: email },
      plan: { tier: 'premium', price: 124.99, currency: 'EUR', billing_period: 'monthly' },
      metadata: { region: 'eu-west' },
    },
  };
}

async function post(path: string, body: unknown, token: string): Promise<Response> {
  return fetch(`${stack.apiUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
}

async function webhook(kind: string, body: unknown): Promise<Response> {
  return post(`/api/v1/provisioning/webhooks/${kind}`, body, stack.webhookSecret);
}

function followUp(tenant: Tenant, event: string, data: Record<string, unknown> = {}) {
  return {
    event,
    timestamp: new Date().toISOString(),
    data: { subscription_id: tenant.subscriptionId, tenant_id: tenant.id, ...data },
  };
}

/**
 * Billing's cancellation, without an effective date: deletion 30 days from now. From (b) on, the orchestrator's
 * clock runs 31 days ahead, so the deletion date of a later cancellation has passed as soon as it is recorded
 * (an effective_date of now would not do that: the intake never sets a deletion date inside the grace period).
 */
async function cancel(tenant: Tenant): Promise<void> {
  const response = await webhook(
    'subscription-cancelled',
    followUp(tenant, 'subscription.cancelled', { cancellation_reason: 'grace-period e2e' }),
  );
  expect(response.status).toBe(202);
}

async function events(tenantId: string): Promise<EventView[]> {
  const page = await stack.getJson<EventsPage>(
    `/api/v1/tenants/${tenantId}/events?limit=1000`,
    stack.auditorToken,
  );
  return page.events;
}

async function types(tenantId: string): Promise<string[]> {
  return (await events(tenantId)).map((e) => e.type);
}

/** `eventually` with this suite's long default: a probe that keeps throwing (a failed tenant) is named. */
function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 150_000): Promise<T> {
  return eventually(probe, what, timeoutMs);
}

/** The read model follows the streams asynchronously: wait (bounded) for a field of the tenant view. */
async function viewReaches(tenantId: string, field: 'state' | 'tier', expected: string): Promise<void> {
  let seen: unknown;
  await until(
    `${tenantId} ${field} = ${expected}`,
    async () => {
      seen = (await view(tenantId))[field];
      return seen === expected ? true : undefined;
    },
    30_000,
  ).catch(() => {
    throw new Error(`${tenantId}: ${field} is ${String(seen)}, expected ${expected}`);
  });
}

/** Waits until the stream holds `count` events of `type` (after everything the tenant had before). */
async function eventOf(tenantId: string, type: string, count = 1, timeoutMs?: number): Promise<EventView> {
  return until(
    `${count} × ${type} on ${tenantId}`,
    async () => {
      const found = (await events(tenantId)).filter((e) => e.type === type);
      return found.length >= count ? found[count - 1] : undefined;
    },
    timeoutMs,
  );
}

async function view(tenantId: string): Promise<TenantView> {
  return stack.getJson<TenantView>(`/api/v1/tenants/${tenantId}`);
}

/** Nothing running: every step settled (the clock may move without timing anything out). */
async function idle(tenantId: string): Promise<void> {
  await until(`${tenantId} idle`, async () => {
    const v = await view(tenantId);
    return v.steps.every((s) => s.status !== 'running') ? true : undefined;
  });
}

async function provision(tag: string, name: string): Promise<Tenant> {
  const email = `owner-${tag}-${run}@example.com`;
  const subscriptionId = `sub_grace_${tag}_${run}`;
  const response = await webhook('subscription-created', created(subscriptionId, name, email));
  expect(response.status).toBe(202);
  const { tenant_id: id } = (await response.json()) as { tenant_id: string };
  await until(`${id} active`, async () => {
    const v = await view(id);
    if (v.state === 'failed') throw new Error(`${id} failed: ${JSON.stringify(v.failure_reason)}`);
    const done = ['website-activation', 'welcome-email', 'grafana-viewer'].every((step) =>
      v.steps.some((s) => s.step === step && s.status === 'succeeded'),
    );
    return v.state === 'active' && done ? true : undefined;
  });
  return { id, email, subscriptionId, name };
}

const footprint = (tenantId: string) => tenantFootprint(tenantId, { mysql, stack });
const EVERYTHING = (tenantId: string) => everything(tenantId, expect.any(Number));

function git(args: string[]): string {
  return execFileSync('git', ['--git-dir', stack.gitRemote, ...args], { encoding: 'utf8' });
}

/** The namespace manifest as committed for Argo CD. */
function committedNamespace(tenantId: string): string {
  return git(['show', `main:tenants/${tenantId}/namespace.yaml`]);
}

async function subjects(email: string): Promise<string[]> {
  return Promise.all(
    stack.smtp.messages
      .filter((m) => m.to.includes(email))
      .map(async (m) => (await simpleParser(m.raw)).subject ?? ''),
  );
}

/** The tenant's records as the websites-service stand-in holds them. */
function websiteRecords(tenantId: string) {
  return [...stack.websites.records.values()].filter((record) => record.tenant_id === tenantId);
}

function moveClock(offsetMs: number): void {
  writeFileSync(stack.clockFile, `+${offsetMs}`);
}

let kubeUrl = '';
const tenants: Record<'a' | 'b' | 'c' | 'd', Tenant> = {} as Record<'a' | 'b' | 'c' | 'd', Tenant>;

beforeAll(async () => {
  mysql = await createConnection({ host: '127.0.0.1', user: 'root' });
  kubeUrl = await kube.start();
  stack.options.env!['database-service'] = { S3_ENDPOINT: await archiveProxy.start() };
  await stack.start();
  archive = new ArchiveBucket(stack.envs.get('storage-service')!);
  // Four tenants at once, before any clock move: nothing of theirs is in flight when time jumps later.
  const [a, b, c, d] = await Promise.all([
    provision('a', 'Grace Alpha'),
    provision('b', 'Grace Bravo'),
    provision('c', 'Grace Charlie'),
    provision('d', 'Grace Delta'),
  ]);
  Object.assign(tenants, { a, b, c, d });
}, 300_000);

afterAll(async () => {
  // A scenario that failed leaves its tenant unpurged: remove it from the servers too (idempotent for the rest).
  const profiles: TenantProfile[] = [];
  for (const t of Object.values(tenants)) {
    const requested = (await events(t.id).catch(() => [])).find((e) => e.type === 'TenantRequested');
    if (requested) profiles.push((requested.data as { tenant: TenantProfile }).tenant);
  }
  await stack.stop();
  try {
    await removeTenantResources(stack, profiles);
  } finally {
    await kube.stop();
    await archiveProxy.stop();
    await archive?.removeTenants(Object.values(tenants).map((t) => t.id));
    await stack.removeVhost();
    await mysql?.end();
    await stack.dropSchemas();
    rmSync(dir, { recursive: true, force: true });
  }
});

describe('grace period, reactivation and purge across every process (issue 9)', () => {
  it('(a) cancels into a grace period, waits 10 days without purging, and a new subscription reactivates', async () => {
    const t = tenants.a;
    await cancel(t);
    await until('deprovisioning', async () =>
      (await view(t.id)).state === 'deprovisioning' ? true : undefined,
    );
    await eventOf(t.id, 'CancellationNoticeSent');
    await eventOf(t.id, 'NamespaceMarkedDeprovisioning');
    // Spec "Periode de Grace": the website record is soft-deleted at the cancellation instant.
    const cancelled = await eventOf(t.id, 'CancellationRequested');
    await eventOf(t.id, 'WebsiteRecordSoftDeleted');
    expect(websiteRecords(t.id)).toEqual([
      expect.objectContaining({ status: 'deprovisioning', deleted_at: cancelled.data.requestedAt }),
    ]);
    const marked = committedNamespace(t.id);
    expect(marked).toContain('deprovisioning: "true"');
    expect(marked).toMatch(/deletion-date: "?\d{4}-\d\d-\d\dT/);
    expect(marked).toContain('backup-required: "true"');
    const notices = await subjects(t.email);
    expect(notices).toHaveLength(2);
    // The final backup is taken at once; wait for it so the clock jump interrupts nothing.
    await eventOf(t.id, 'BackupCompleted');
    await idle(t.id);

    moveClock(10 * DAY_MS);
    await new Promise((r) => setTimeout(r, 2_000));
    expect(await types(t.id)).not.toContain('PurgeStarted');
    await viewReaches(t.id, 'state', 'deprovisioning');

    const response = await webhook('subscription-created', created(`sub_grace_a2_${run}`, t.name, t.email));
    expect(response.status).toBe(202);
    expect(await response.json()).toMatchObject({ tenant_id: t.id, status: 'reactivating' });
    t.subscriptionId = `sub_grace_a2_${run}`;
    await eventOf(t.id, 'TenantReactivated');
    await eventOf(t.id, 'NamespaceUnmarked');
    await eventOf(t.id, 'ReactivationNoticeSent');
    await eventOf(t.id, 'WebsiteRecordRestored');
    expect(websiteRecords(t.id)).toEqual([expect.objectContaining({ status: 'active', deleted_at: null })]);
    await viewReaches(t.id, 'state', 'active');
    expect(committedNamespace(t.id)).not.toContain('deprovisioning');
    expect(await subjects(t.email)).toHaveLength(3);
    expect(await footprint(t.id)).toEqual(EVERYTHING(t.id));
    expect(await types(t.id)).not.toContain('PurgeStarted');
  });

  it('(e) upgrades premium → business with the quota diff, refuses a downgrade that does not fit, suspends and resumes', async () => {
    const t = tenants.a;
    // Restarted against a reachable cluster (the local API double), the k8s-service can observe usage.
    kube.seed({
      apiVersion: 'v1',
      kind: 'ResourceQuota',
      metadata: { name: 'tenant-quota', namespace: namespaceName(t.id) },
      status: { used: { 'requests.cpu': '9', pods: '150' } },
    });
    // Its token names it as deploy/ does, so its requests can be checked against the shipped RBAC below.
    Object.assign(stack.envs.get('k8s-service')!, {
      KUBE_API_SERVER: kubeUrl,
      KUBE_TOKEN: serviceAccountUser('k8s-service'),
    });
    await stack.kill('k8s-service', 'SIGTERM');
    await stack.startApp('k8s-service');

    const up = await webhook(
      'subscription-updated',
      followUp(t, 'subscription.updated', { plan: { tier: 'business' } }),
    );
    expect(up.status).toBe(202);
    expect(await up.json()).toMatchObject({ from_tier: 'premium', to_tier: 'business', status: 'changing' });
    const quota = await eventOf(t.id, 'QuotaUpdated');
    expect(quota.data.outputs).toMatchObject({
      fromTier: 'premium',
      toTier: 'business',
      changes: expect.arrayContaining([{ resource: 'requests.cpu', from: '6', to: '12' }]),
    });
    await eventOf(t.id, 'TierChanged');
    await viewReaches(t.id, 'tier', 'business');
    expect(git(['show', `main:tenants/${t.id}/resource-quota.yaml`])).toContain('requests.cpu: "12"');

    const down = await webhook(
      'subscription-updated',
      followUp(t, 'subscription.updated', { plan: { tier: 'premium' } }),
    );
    expect(down.status).toBe(202);
    const refused = await eventOf(t.id, 'QuotaUpdateRefused');
    expect(refused.data.error).toMatchObject({ code: 'K8S.DOWNGRADE_DOES_NOT_FIT', retryable: false });
    expect(String((refused.data.error as { message: string }).message)).toContain('requests.cpu: 9 in use');
    await idle(t.id);
    await viewReaches(t.id, 'tier', 'business');
    expect((await types(t.id)).filter((type) => type === 'TierChanged')).toHaveLength(1);

    const suspended = await webhook(
      'subscription-suspended',
      followUp(t, 'subscription.suspended', { reason: 'non-payment' }),
    );
    expect(suspended.status).toBe(202);
    const down2 = await eventOf(t.id, 'WorkloadsSuspended');
    expect(down2.data.outputs).toMatchObject({ replicas: 0, ingress: 'removed' });
    await until('ingress removed from Git', async () =>
      git(['ls-tree', '-r', '--name-only', 'main']).includes(`tenants/${t.id}/ingress.yaml`)
        ? undefined
        : true,
    );
    const resumed = await webhook('subscription-resumed', followUp(t, 'subscription.resumed'));
    expect(resumed.status).toBe(202);
    const up2 = await eventOf(t.id, 'WorkloadsResumed');
    expect(up2.data.outputs).toMatchObject({ ingress: 'restored' });
    expect(git(['ls-tree', '-r', '--name-only', 'main'])).toContain(`tenants/${t.id}/ingress.yaml`);
    expect(await footprint(t.id)).toEqual(EVERYTHING(t.id));
    await idle(t.id);
    // Every request the k8s-service made of the cluster here is one deploy/'s ClusterRole allows (issue 16).
    const requests = kube.authorizations(serviceAccountUser('k8s-service'));
    expect(requests.length).toBeGreaterThan(0);
    assertRbacCovers(deployRbac('production'), 'k8s-service', requests);
  });

  it('(b) survives a restart of every process during the grace period, then purges after 30 days', async () => {
    const t = tenants.b;
    await cancel(t);
    await eventOf(t.id, 'CancellationRequested');
    await eventOf(t.id, 'BackupStarted');
    for (const app of APPS) await stack.kill(app, 'SIGKILL');
    await stack.startApp('provisioning-api');
    await Promise.all(APPS.filter((app) => app !== 'provisioning-api').map((app) => stack.startApp(app)));

    await eventOf(t.id, 'BackupCompleted');
    await idle(t.id);
    expect(await types(t.id)).not.toContain('PurgeStarted');
    moveClock(31 * DAY_MS);
    await until('purged', async () => ((await view(t.id)).state === 'purged' ? true : undefined));
    const all = await types(t.id);
    expect(all.indexOf('PurgeStarted')).toBeGreaterThan(all.indexOf('BackupCompleted'));
    expect(all.indexOf('TenantPurged')).toBeGreaterThan(all.indexOf('DatabasesRemoved'));
    expect(await footprint(t.id)).toEqual(NOTHING);
    // The tenant's event stream outlives it: the audit trail is still there, from the first event.
    expect(all[0]).toBe('TenantRequested');
    // The verified dumps outlive the tenant in the archive bucket, byte for byte what the backup recorded,
    // beside the bucket mirrors; archives expire after STORAGE_ARCHIVE_RETENTION_DAYS (365 by default).
    const backedUp = (await events(t.id)).filter((e) => e.type === 'DatabasesBackedUp').at(-1)!;
    const outputs = backedUp.data.outputs as { manifestKey: string; dumps: { sha256: string }[] };
    expect(outputs.manifestKey).toMatch(new RegExp(`^${t.id}/databases/manifest_[A-Za-z0-9_-]+\\.json$`));
    const manifest = JSON.parse((await archive.read(outputs.manifestKey)).toString('utf8')) as {
      tenantId: string;
      backupId: string;
      dumps: { key: string; sha256: string }[];
    };
    expect(manifest.tenantId).toBe(t.id);
    expect(manifest.dumps.map((d) => d.sha256)).toEqual(outputs.dumps.map((d) => d.sha256));
    expect(manifest.dumps).toHaveLength(BUSINESS_SERVICES.length);
    const archived = await archive.keys(`${t.id}/`);
    for (const dump of manifest.dumps) {
      // The spec's `<db>_final_<YYYYMMDD>` with the backup id: another round never overwrites this one.
      expect(dump.key).toMatch(
        new RegExp(`^${t.id}/databases/[a-z0-9_]+_final_\\d{8}_${manifest.backupId}\\.sql\\.gz$`),
      );
      expect(archived).toContain(dump.key);
      expect(
        createHash('sha256')
          .update(await archive.read(dump.key))
          .digest('hex'),
      ).toBe(dump.sha256);
    }
    expect(archived.some((key) => key.startsWith(`${t.id}/minio/manifest-`))).toBe(true);
    expect(JSON.stringify(await archive.client.getBucketLifecycle(archive.name))).toMatch(
      /archive-retention.*365|365.*archive-retention/,
    );
  });

  it('(c) blocks the purge while the final backup is corrupted, deleting nothing', async () => {
    const t = tenants.c;
    let corrupted = '';
    // The manifest is the backup's last object: hold its upload, spoil one dump already in the archive bucket,
    // let it go. Verification runs only after the orchestrator hears of the backup, so it reads the spoiled dump.
    archiveProxy.before = async ({ method, path }) => {
      if (corrupted || method !== 'PUT' || !path.startsWith(`/${archive.name}/${t.id}/databases/manifest_`))
        return;
      const dump = (await archive.keys(`${t.id}/databases/`)).find((key) => key.endsWith('.sql.gz'))!;
      await archive.put(dump, Buffer.from('not a gzip stream'));
      corrupted = dump;
    };
    try {
      await cancel(t);
      const blocked = await eventOf(t.id, 'PurgeBlocked');
      expect(corrupted).not.toBe('');
      expect(blocked.data.reason).toMatchObject({ code: expect.stringMatching(/^DATABASE\./) });
      const all = await types(t.id);
      expect(all).toContain('DatabaseBackupVerificationFailed');
      expect(all).not.toContain('PurgeStarted');
      expect(all).not.toContain('BackupCompleted');
      expect(await footprint(t.id)).toEqual(EVERYTHING(t.id));
    } finally {
      archiveProxy.before = () => undefined;
    }
  });

  it('(d) trips the breaker on one cancellation too many, holds purges until an operator resets it', async () => {
    const t = tenants.d;
    await cancel(t);
    const held = await until('breaker hold', async () =>
      (await events(t.id)).find(
        (e) =>
          e.type === 'PurgeBlocked' &&
          (e.data.reason as { code: string }).code === 'ORCHESTRATOR.PURGE_BREAKER_OPEN',
      ),
    );
    expect(held.data.reason).toMatchObject({ retryable: true });
    expect(await types(t.id)).not.toContain('PurgeStarted');
    expect(await footprint(t.id)).toEqual(EVERYTHING(t.id));
    const status = await stack.getJson<{ open: boolean; trip: { threshold: number; cancellations: number } }>(
      '/api/v1/guardrails/purge-breaker',
    );
    expect(status).toMatchObject({ open: true, trip: { threshold: 3, cancellations: 4 } });

    expect(
      (await post('/api/v1/guardrails/purge-breaker/reset', { reason: 'x' }, stack.auditorToken)).status,
    ).toBe(403);
    expect((await post('/api/v1/guardrails/purge-breaker/reset', {}, stack.operatorToken)).status).toBe(400);
    const reset = await post(
      '/api/v1/guardrails/purge-breaker/reset',
      { reason: 'e2e: cancellations confirmed with billing' },
      stack.operatorToken,
    );
    expect(reset.status).toBe(202);
    expect(await reset.json()).toMatchObject({ open: false, last_reset: { operator: 'operator' } });

    for (const tenant of [tenants.c, t]) {
      await until(`${tenant.id} purged`, async () =>
        (await view(tenant.id)).state === 'purged' ? true : undefined,
      );
      expect(await footprint(tenant.id)).toEqual(NOTHING);
    }
    expect(readFileSync(join(stack.logDir, 'orchestrator.log'), 'utf8')).toContain(
      'guardrail snapshot taken',
    );
    // Tenant "c" purged only from a later, verified backup round.
    const c = await events(tenants.c.id);
    const verified = c.findIndex((e) => e.type === 'BackupCompleted');
    expect(verified).toBeGreaterThan(c.findIndex((e) => e.type === 'PurgeBlocked'));
    expect(c.findIndex((e) => e.type === 'PurgeStarted')).toBeGreaterThan(verified);
  });

  it('purges the reactivated tenant too once it is cancelled again (nothing of this file is left behind)', async () => {
    const t = tenants.a;
    // One more round on the same subscription: cancelled (deletion far away: the orchestrator's clock has
    // moved), reactivated by billing, then cancelled again, which is a new grace period, not a duplicate.
    const far = new Date(Date.now() + 365 * DAY_MS).toISOString();
    const cancelled = await webhook(
      'subscription-cancelled',
      followUp(t, 'subscription.cancelled', { cancellation_reason: 'second round', effective_date: far }),
    );
    expect(cancelled.status).toBe(202);
    await eventOf(t.id, 'CancellationRequested', 2);
    await viewReaches(t.id, 'state', 'deprovisioning');
    const reactivated = await webhook('subscription-reactivated', followUp(t, 'subscription.reactivated'));
    expect(reactivated.status).toBe(202);
    await eventOf(t.id, 'TenantReactivated', 2);
    await viewReaches(t.id, 'state', 'active');
    await cancel(t);
    await eventOf(t.id, 'CancellationRequested', 3);
    await until('purged', async () => ((await view(t.id)).state === 'purged' ? true : undefined));
    expect(await footprint(t.id)).toEqual(NOTHING);
  });
});
