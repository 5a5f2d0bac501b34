import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnection, type Connection } from 'mysql2/promise';
import { simpleParser } from 'mailparser';
import { adminInitialSecretPath, BUSINESS_SERVICES, grafanaSecretPath, namespaceName } from '@app/contracts';
import { secretStoreBootstrapObjects } from '../../apps/k8s-service/src';
import { resolveExternalSecrets } from '../../apps/k8s-service/src/testing';
import { ArchiveBucket } from '../support/archive';
import { everything, NOTHING, tenantFootprint } from '../support/tenant-footprint';
import { APPS, LocalStack, specSubscriptionCreated } from '../support/local-stack';
import { expositionProblems, parseExposition } from '../support/metric-rules';
import {
  committedTenantObjects,
  gitHistoryText,
  k8sRenderOptions,
  projectSecretStore,
} from '../support/secret-chain';
import type { EventsPage, TenantView } from '../support/tenant-views';

/**
 * The whole system as users run it: every app a separate process, real PostgreSQL, RabbitMQ, MariaDB, Ceph
 * RGW, a real SMTP peer and a real Git repository. Follows one tenant from the billing webhook to active,
 * then through cancellation (its grace period kept despite a past effective_date), an operator's purge request,
 * verified final backup and purge; and a second tenant through a failed step and
 * its rollback. After each, the servers hold nothing of the tenant.
 */
const run = randomBytes(3).toString('hex');
const dir = mkdtempSync(join(tmpdir(), `e2e-${run}-`));
const stack = new LocalStack({
  dir,
  database: 'provisioning_test',
  schemaPrefix: `e2e_${run}`,
  vhost: `e2e-${run}`,
  logLevel: 'info',
  env: {
    'notification-service': { WEBSITES_MAX_ATTEMPTS: '1', COMMAND_MAX_ATTEMPTS: '2' },
    orchestrator: { PURGE_RETRY_DELAY_SECONDS: '2' },
  },
});
let mysql: Connection;

async function waitForTenant(
  tenantId: string,
  done: (view: TenantView) => boolean,
  timeoutMs = 150_000,
): Promise<TenantView> {
  const until = Date.now() + timeoutMs;
  let last: TenantView | undefined;
  for (;;) {
    last = await stack.getJson<TenantView>(`/api/v1/tenants/${tenantId}`).catch(() => last);
    if (last && done(last)) return last;
    if (Date.now() > until) {
      throw new Error(
        `tenant ${tenantId} stuck in ${last?.state}: ${JSON.stringify(last?.steps.map((s) => [s.step, s.status]))}`,
      );
    }
    await new Promise((r) => setTimeout(r, 300));
  }
}

async function tenantEvents(tenantId: string): Promise<EventsPage['events']> {
  const page = await stack.getJson<EventsPage>(
    `/api/v1/tenants/${tenantId}/events?limit=1000`,
    stack.auditorToken,
  );
  return page.events;
}

async function eventTypes(tenantId: string): Promise<string[]> {
  return (await tenantEvents(tenantId)).map((e) => e.type);
}

/** Steps that run after activation, without which the tenant is not done yet. */
const AFTER_ACTIVATION = ['website-activation', 'welcome-email'];

const footprint = (tenantId: string) => tenantFootprint(tenantId, { mysql, stack });

beforeAll(async () => {
  mysql = await createConnection({ host: '127.0.0.1', user: 'root' });
  await stack.start();
});

afterAll(async () => {
  await stack.stop();
  await stack.removeVhost();
  await mysql?.end();
  await stack.dropSchemas();
  rmSync(dir, { recursive: true, force: true });
});

describe('tenant lifecycle across every process', () => {
  let tenantId = '';

  afterAll(async () => {
    if (tenantId) await new ArchiveBucket(stack.envs.get('storage-service')!).removeTenants([tenantId]);
  });

  it('provisions the spec example from the webhook to an active tenant, resources on every server', async () => {
    const payload = specSubscriptionCreated(`sub_e2e_${run}`);
    const response = await stack.postWebhook('subscription-created', payload);
    expect(response.status).toBe(202);
    const accepted = (await response.json()) as { tenant_id: string; domain: string; status_url: string };
    tenantId = accepted.tenant_id;
    expect(tenantId).toMatch(/^abc-corporation-[0-9a-f]{6}$/);
    expect(accepted.status_url).toBe(`/api/v1/tenants/${tenantId}`);

    const view = await waitForTenant(
      tenantId,
      (v) =>
        v.state === 'failed' ||
        (v.state === 'active' &&
          AFTER_ACTIVATION.every((step) => v.steps.some((s) => s.step === step && s.status === 'succeeded'))),
    );
    expect(view.failure_reason).toBeNull();
    expect(view.state).toBe('active');

    const created = await footprint(tenantId);
    expect(created).toEqual(everything(tenantId, expect.any(Number)));
    expect(created.manifests).toBeGreaterThan(10);

    const welcome = stack.smtp.messages.filter((m) => m.to.includes('admin@abc-corp.com'));
    expect(welcome).toHaveLength(1);
    const parsed = await simpleParser(welcome[0].raw);
    expect(parsed.subject).toBe(
      'Bienvenue sur Collect & Verything - Votre Plateforme E-commerce est Prete !',
    );
    expect(parsed.text).toContain(`URL Boutique : https://${accepted.domain}`);
    // Created `provisioning`, then set `active` at the instant the tenant was (spec 11.1).
    const events = await tenantEvents(tenantId);
    const activated = events.find((e) => e.type === 'TenantActivated');
    const records = [...stack.websites.records.values()].filter((r) => r.tenant_id === tenantId);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ status: 'active', activated_at: activated?.data.activatedAt });
    expect(stack.websites.created.find((r) => r.tenant_id === tenantId)?.status).toBe('provisioning');

    const types = events.map((e) => e.type);
    expect(types[0]).toBe('TenantRequested');
    expect(types.indexOf('TenantActivated')).toBeGreaterThan(types.indexOf('KubernetesVerified'));
    expect(types.indexOf('WelcomeEmailSent')).toBeGreaterThan(types.indexOf('TenantActivated'));
    expect(types).not.toContain('RollbackStarted');
  });

  it('resolves every ExternalSecret of the committed tree against what the secret store holds for the tenant', async () => {
    const options = k8sRenderOptions(stack);
    const remoteNamespace = options.secretStoreNamespace;
    const tree = committedTenantObjects(stack, tenantId);
    expect(tree.filter((o) => o.kind === 'ExternalSecret').length).toBe(BUSINESS_SERVICES.length + 3);
    const stored = await projectSecretStore(stack, tenantId, remoteNamespace);
    // The tenant's secrets no pod reads: the Grafana viewer's login (the monitoring-service's), and the
    // notification-service's sent-log, kept under its own prefix.
    const controlPlaneOnly = [grafanaSecretPath(tenantId)];
    const sentLog = await projectSecretStore(
      stack,
      tenantId,
      remoteNamespace,
      `/e-commerce/notifications/${tenantId}/`,
    );
    expect(sentLog.map((s) => s.path)).toEqual([`/e-commerce/notifications/${tenantId}/welcome`]);
    expect(stored.map((s) => s.path)).toEqual(expect.arrayContaining(controlPlaneOnly));

    const resolution = resolveExternalSecrets({
      tree,
      stores: secretStoreBootstrapObjects(options),
      remoteSecrets: [...stored, ...sentLog].map((s) => s.secret),
      defaultNamespace: namespaceName(tenantId),
    });
    expect(resolution.problems).toEqual([]);
    // Every other secret of the tenant is read by some ExternalSecret (so none is written for nothing).
    const read = new Set(
      tree
        .filter((o) => o.kind === 'ExternalSecret')
        .flatMap((o) => {
          const spec = o.spec as {
            data?: { remoteRef: { key: string } }[];
            dataFrom?: { extract: { key: string } }[];
          };
          return [
            ...(spec.data ?? []).map((d) => d.remoteRef.key),
            ...(spec.dataFrom ?? []).map((d) => d.extract.key),
          ];
        }),
    );
    const unread = stored.filter((s) => !read.has(s.secret.metadata!.name!)).map((s) => s.path);
    expect(unread).toEqual(controlPlaneOnly);

    // The seeder gets the password the welcome e-mail sent, and it is nowhere else: Git, events, logs.
    const admin = stored.find((s) => s.path === adminInitialSecretPath(tenantId))!.values;
    const seeded = resolution.targets.get(`${namespaceName(tenantId)}/auth-admin-credentials`);
    expect(seeded).toEqual(admin);
    const password = admin.TEMPORARY_PASSWORD;
    expect(password).toHaveLength(16);
    const welcome = stack.smtp.messages.find((m) => m.to.includes('admin@abc-corp.com'))!;
    expect((await simpleParser(welcome.raw)).text).toContain(`Mot de passe temporaire : ${password}`);
    // Where it leaked, by name: a failed `not.toContain` would print the password and the whole text.
    const page = await stack.getJson<EventsPage>(
      `/api/v1/tenants/${tenantId}/events?limit=1000`,
      stack.auditorToken,
    );
    expect(page.events.length).toBeGreaterThan(20);
    const logs = readdirSync(stack.logDir).filter((name) => name.endsWith('.log'));
    expect(logs.length).toBeGreaterThan(0);
    const places: [string, string][] = [
      ['git history', gitHistoryText(stack)],
      ['event stream', JSON.stringify(page)],
      ...logs.map((file): [string, string] => [file, readFileSync(join(stack.logDir, file), 'utf8')]),
    ];
    expect(places.filter(([, text]) => text.includes(password)).map(([where]) => where)).toEqual([]);
  });

  it('answers fifty concurrent deliveries of the same subscription with the same tenant', async () => {
    const payload = specSubscriptionCreated(`sub_e2e_${run}`);
    const answers = await Promise.all(
      Array.from({ length: 50 }, async () => {
        const response = await stack.postWebhook('subscription-created', payload);
        return { status: response.status, body: (await response.json()) as { tenant_id: string } };
      }),
    );
    expect(new Set(answers.map((a) => a.status))).toEqual(new Set([202]));
    expect(new Set(answers.map((a) => a.body.tenant_id))).toEqual(new Set([tenantId]));
  });

  it('keeps a tenant cancelled with a past effective_date in its grace period, the clamp in its history', async () => {
    const past = new Date(Date.now() - 86_400_000).toISOString();
    const sentAt = Date.now();
    const response = await stack.postWebhook('subscription-cancelled', {
      event: 'subscription.cancelled',
      timestamp: new Date().toISOString(),
      data: {
        subscription_id: `sub_e2e_${run}`,
        tenant_id: tenantId,
        cancellation_reason: 'end-to-end test',
        effective_date: past,
      },
    });
    expect(response.status).toBe(202);
    const accepted = (await response.json()) as Record<string, string>;
    expect(accepted).toMatchObject({
      status: 'deprovisioning',
      requested_effective_date: past,
      clamped_reason: expect.stringContaining('is before the end of the grace period'),
    });
    // Issue 17: exactly 30 × 24 h after the receipt (between sending and the answer), not midnight of either day.
    expect(Date.parse(accepted.deletion_date)).toBeGreaterThanOrEqual(sentAt + 30 * 86_400_000);
    expect(Date.parse(accepted.deletion_date)).toBeLessThanOrEqual(Date.now() + 30 * 86_400_000);

    // The first backup is taken and verified at once; then nothing runs, and nothing is purged.
    await waitForTenant(
      tenantId,
      (v) =>
        v.state === 'deprovisioning' &&
        v.steps.some((s) => s.step.endsWith(':verify-storage') && s.status === 'succeeded') &&
        v.steps.every((s) => s.status !== 'running'),
    );
    await new Promise((r) => setTimeout(r, 1_500));
    const events = await tenantEvents(tenantId);
    expect(events.map((e) => e.type)).toContain('BackupCompleted');
    expect(events.map((e) => e.type)).not.toContain('PurgeStarted');
    expect(events.find((e) => e.type === 'CancellationRequested')?.data).toMatchObject({
      deletionDate: accepted.deletion_date,
      requestedEffectiveDate: past,
      clampedReason: accepted.clamped_reason,
    });
    expect(await footprint(tenantId)).toEqual(everything(tenantId, expect.any(Number)));
  });

  it('purges on an operator request with a reason: final backup verified, then purge, nothing left behind', async () => {
    const post = (body: unknown, token: string) =>
      fetch(`${stack.apiUrl}/api/v1/tenants/${tenantId}/purge`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify(body),
      });
    expect((await post({ reason: 'erasure' }, stack.auditorToken)).status).toBe(403);
    expect((await post({}, stack.operatorToken)).status).toBe(400);
    const requested = await post({ reason: 'e2e: customer asked for erasure' }, stack.operatorToken);
    expect(requested.status).toBe(202);
    const view = await waitForTenant(tenantId, (v) => v.state === 'purged');
    expect(view.state).toBe('purged');

    const history = await tenantEvents(tenantId);
    const types = history.map((e) => e.type);
    const asked = types.indexOf('OperatorPurgeRequested');
    expect(history[asked]).toMatchObject({
      actor: 'operator:operator',
      data: { operator: 'operator', reason: 'e2e: customer asked for erasure' },
    });
    // A final backup round taken after the request, verified, and only then the purge.
    expect(types.indexOf('BackupStarted', asked)).toBeGreaterThan(asked);
    expect(types.indexOf('BackupCompleted', asked)).toBeGreaterThan(types.indexOf('BackupStarted', asked));
    expect(types.indexOf('PurgeStarted')).toBeGreaterThan(types.indexOf('BackupCompleted', asked));
    expect(types.indexOf('DatabaseBackupVerified')).toBeGreaterThan(types.indexOf('DatabasesBackedUp'));
    expect(types.indexOf('StorageBackupVerified')).toBeGreaterThan(types.indexOf('StorageBackedUp'));
    expect(types.indexOf('TenantPurged')).toBeGreaterThan(types.indexOf('DatabasesRemoved'));

    expect(await footprint(tenantId)).toEqual(NOTHING);
    // The final backups outlive the tenant in the archive bucket, beside the bucket mirrors: the round taken at
    // the cancellation and the one taken after the operator's request, both on this day, each with its
    // manifest and one dump per database named by its backup id (neither round overwrote the other).
    const archived = await new ArchiveBucket(stack.envs.get('storage-service')!).keys(`${tenantId}/`);
    const rounds = history
      .filter((e) => e.type === 'BackupStarted')
      .map((e) => (e.data as { backupId: string }).backupId);
    expect(rounds.length).toBeGreaterThanOrEqual(2);
    const manifests = archived.flatMap(
      (key) => /^[^/]+\/databases\/manifest_([A-Za-z0-9_-]+)\.json$/.exec(key)?.[1] ?? [],
    );
    expect(manifests).toContain(rounds[0]);
    expect(manifests).toContain(rounds[rounds.length - 1]);
    const dumps = archived.filter(
      (key) => key.startsWith(`${tenantId}/databases/`) && key.endsWith('.sql.gz'),
    );
    for (const id of manifests) {
      expect(dumps.filter((key) => key.endsWith(`_${id}.sql.gz`))).toHaveLength(BUSINESS_SERVICES.length);
    }
    for (const key of dumps)
      expect(key).toMatch(/^[^/]+\/databases\/[a-z0-9_]+_final_\d{8}_[A-Za-z0-9_-]+\.sql\.gz$/);
    expect(dumps).toHaveLength(manifests.length * BUSINESS_SERVICES.length);
    expect(archived.some((key) => key.startsWith(`${tenantId}/minio/manifest-`))).toBe(true);
    // The deletion confirmation is sent after TenantPurged: wait for its event, then for the message.
    const until = Date.now() + 30_000;
    while (!(await eventTypes(tenantId)).includes('DeletionConfirmationSent') && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 200));
    }
    const subjects = await Promise.all(
      stack.smtp.messages
        .filter((m) => m.to.includes('admin@abc-corp.com'))
        .map(async (m) => (await simpleParser(m.raw)).subject ?? ''),
    );
    // welcome, cancellation notice (grace period), deletion confirmation: one each, never twice
    expect(subjects).toHaveLength(3);
    expect(new Set(subjects).size).toBe(3);
  });

  it('rolls back a tenant whose website record cannot be created, and leaves nothing behind', async () => {
    stack.websites.failNext = 1_000;
    try {
      const response = await stack.postWebhook(
        'subscription-created',
        specSubscriptionCreated(`sub_e2e_fail_${run}`, 'Failing Shop'),
      );
      expect(response.status).toBe(202);
      const { tenant_id: failing } = (await response.json()) as { tenant_id: string };
      const view = await waitForTenant(failing, (v) => v.state === 'failed');
      expect(view.failure_reason?.step).toBe('website');
      const types = await eventTypes(failing);
      expect(types).toContain('RollbackStarted');
      expect(types).toContain('TenantProvisioningFailed');
      expect(await footprint(failing)).toEqual(NOTHING);
    } finally {
      stack.websites.failNext = 0;
    }
  });

  it('serves /metrics from every app under the naming rules, no tenant in any label, after all of the above', async () => {
    const page = await stack.getJson<{ items: { tenant_id: string }[] }>('/api/v1/tenants?limit=100');
    // The spec example's tenant (purged by now) and the one rolled back.
    const tenantIds = [...new Set([tenantId, ...page.items.map((item) => item.tenant_id)])];
    expect(tenantIds.length).toBeGreaterThanOrEqual(2);
    const report = await Promise.all(
      APPS.map(async (app) => {
        const url =
          app === 'provisioning-api'
            ? `${stack.apiUrl}/metrics`
            : `http://127.0.0.1:${stack.healthPorts.get(app)}/metrics`;
        const response = await fetch(url);
        expect({ app, status: response.status }).toEqual({ app, status: 200 });
        const text = await response.text();
        return {
          app,
          families: parseExposition(text).length,
          problems: expositionProblems(app, text, tenantIds),
        };
      }),
    );
    // Every app serves its own metrics and the process ones (a few dozen families each), all within the rules.
    for (const { app, families } of report) expect({ app, many: families > 15 }).toEqual({ app, many: true });
    expect(report.flatMap(({ problems }) => problems)).toEqual([]);
  });
});
