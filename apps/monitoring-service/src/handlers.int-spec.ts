import { buildMessage, type CommandMessage, type CommandType, type TenantProfile } from '@app/contracts';
import { FakeApiServer, KubeClient } from '@app/kube';
import type { CommandHandlers } from '@app/platform';
import { InMemorySecretStore } from '@app/secrets';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { parse } from 'yaml';
import { DirectMonitoringDelivery, GitOpsMonitoringDelivery } from './adapters/delivery';
import { GrafanaClient } from './adapters/grafana.client';
import { FIELD_MANAGER } from './adapters/field-manager';
import { createHandlers } from './commands';
import { testTenant } from './testing/fixtures';
import { GrafanaStandIn } from './testing/grafana-stand-in';

const logger = pino({ level: 'silent' });
const TOKEN = 'test-admin-token';
const DATASOURCE = { urlTemplate: 'http://prom-label-proxy:8080', header: 'X-Namespace' };

async function run(handlers: CommandHandlers, type: CommandType, tenant: TenantProfile) {
  const message = buildMessage(
    type,
    { step: 'test', tenant, params: {} },
    { tenantId: tenant.tenantId, correlationId: 'corr-m', actor: 'test' },
    randomBytes(8).toString('hex'),
    new Date(),
  );
  const handler = handlers[type] as unknown as (
    c: CommandMessage,
    ctx: unknown,
  ) => Promise<Record<string, unknown>>;
  return handler(message as CommandMessage, { commandId: 'c', correlationId: 'corr-m', attempt: 1, logger });
}

let grafana: GrafanaStandIn;
let grafanaUrl: string;
beforeEach(async () => {
  grafana = new GrafanaStandIn(TOKEN);
  grafanaUrl = await grafana.start();
});
afterEach(() => grafana.stop());

describe('monitoring handlers, GitOps into a real repository + Grafana stand-in', () => {
  let base: string;
  let bare: string;
  beforeAll(() => {
    base = mkdtempSync(join(tmpdir(), 'monitoring-'));
    bare = join(base, 'manifests.git');
    execFileSync('git', ['init', '-q', '--bare', '--initial-branch', 'main', bare]);
  });
  afterAll(() => rmSync(base, { recursive: true, force: true }));
  const clone = () => {
    const dir = join(base, `c-${randomBytes(3).toString('hex')}`);
    execFileSync('git', ['clone', '-q', bare, dir]);
    return dir;
  };

  it('provisions monitoring idempotently, lists it in the root kustomization, removes it', async () => {
    const tenant = testTenant(randomBytes(3).toString('hex'));
    // The k8s-service's namespace step already committed a root kustomization.
    const seed = clone();
    mkdirSync(join(seed, 'tenants', tenant.tenantId), { recursive: true });
    writeFileSync(
      join(seed, 'tenants', tenant.tenantId, 'kustomization.yaml'),
      'resources:\n  - namespace.yaml\n',
    );
    execFileSync('git', ['-C', seed, '-c', 'user.name=t', '-c', 'user.email=t@t', 'add', '-A']);
    execFileSync('git', ['-C', seed, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'seed']);
    execFileSync('git', ['-C', seed, 'push', '-q', 'origin', 'HEAD:main']);

    const delivery = new GitOpsMonitoringDelivery(
      {
        workdir: join(base, 'wc'),
        remote: bare,
        branch: 'main',
        authorName: 'm',
        authorEmail: 'm@example.com',
        pushAttempts: 3,
        lockTimeoutMs: 10000,
      },
      logger,
    );
    const h = createHandlers({
      delivery,
      grafana: new GrafanaClient(grafanaUrl, TOKEN),
      secrets: new InMemorySecretStore(),
      managedBy: 'argocd',
      tenantDataSource: DATASOURCE,
    });
    expect(await run(h, 'ProvisionMonitoring', tenant)).toMatchObject({ changed: true, mode: 'gitops' });
    expect(await run(h, 'ProvisionMonitoring', tenant)).toMatchObject({ changed: false });
    let dir = clone();
    const root = (d: string) => join(d, 'tenants', tenant.tenantId);
    expect(parse(readFileSync(join(root(dir), 'kustomization.yaml'), 'utf8')).resources).toEqual([
      'namespace.yaml',
      'monitoring/',
    ]);
    expect(
      parse(readFileSync(join(root(dir), 'monitoring', 'prometheus-rule.yaml'), 'utf8')).metadata.name,
    ).toBe('tenant-alerts');
    expect(execFileSync('git', ['-C', dir, 'log', '-1', '--format=%B'], { encoding: 'utf8' })).toContain(
      'Correlation-Id: corr-m',
    );

    expect(await run(h, 'RemoveMonitoring', tenant)).toMatchObject({ changed: true });
    dir = clone();
    expect(existsSync(join(root(dir), 'monitoring'))).toBe(false);
    expect(parse(readFileSync(join(root(dir), 'kustomization.yaml'), 'utf8')).resources).toEqual([
      'namespace.yaml',
    ]);
  }, 60000);
});

describe('monitoring handlers, direct apply against the API double', () => {
  it('applies and deletes the three objects with its own field manager', async () => {
    const server = new FakeApiServer();
    const client = new KubeClient({ server: await server.start() }, FIELD_MANAGER);
    try {
      const tenant = testTenant(randomBytes(3).toString('hex'));
      const ns = `e-commerce-${tenant.tenantId}`;
      await client.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
      const h = createHandlers({
        delivery: new DirectMonitoringDelivery(client),
        grafana: new GrafanaClient(grafanaUrl, TOKEN),
        secrets: new InMemorySecretStore(),
        managedBy: FIELD_MANAGER,
        tenantDataSource: DATASOURCE,
      });
      await run(h, 'ProvisionMonitoring', tenant);
      expect(server.get('monitoring.coreos.com/v1', 'ServiceMonitor', ns, 'tenant-monitoring')).toBeDefined();
      expect(server.get('monitoring.coreos.com/v1', 'PrometheusRule', ns, 'tenant-alerts')).toBeDefined();
      expect(server.get('v1', 'ConfigMap', ns, 'tenant-dashboard')?.metadata.labels).toMatchObject({
        grafana_dashboard: '1',
      });
      expect(new Set(server.requests.filter((r) => r.method === 'PATCH').map((r) => r.fieldManager))).toEqual(
        new Set([FIELD_MANAGER]),
      );
      await run(h, 'RemoveMonitoring', tenant);
      expect(server.list().filter((o) => o.metadata.namespace === ns)).toEqual([]);
    } finally {
      await server.stop();
    }
  }, 30000);
});

describe('Grafana viewer (spec 11.3)', () => {
  /** Handlers for the Grafana steps only: no cluster behind the delivery. */
  const viewerHandlers = () => {
    const secrets = new InMemorySecretStore();
    const h = createHandlers({
      delivery: new DirectMonitoringDelivery({} as KubeClient),
      grafana: new GrafanaClient(grafanaUrl, TOKEN),
      secrets,
      managedBy: 'x',
      tenantDataSource: DATASOURCE,
    });
    return { h, secrets };
  };

  it('gives a second shop of the same customer its own viewer (Grafana e-mails are unique)', async () => {
    const { h } = viewerHandlers();
    const shop = () => ({
      ...testTenant(randomBytes(3).toString('hex')),
      adminEmail: 'owner@two-shops.example',
    });
    const [first, second] = [shop(), shop()];
    expect(await run(h, 'CreateGrafanaViewer', first)).toMatchObject({ created: true });
    expect(await run(h, 'CreateGrafanaViewer', second)).toMatchObject({ created: true, emailShared: true });
    const users = [...grafana.users.values()];
    expect(users.find((u) => u.login === `${first.tenantId}-admin`)?.email).toBe('owner@two-shops.example');
    expect(users.find((u) => u.login === `${second.tenantId}-admin`)?.email).toBe(`${second.tenantId}-admin`);
    // A redelivery finds the user by login and creates nothing.
    expect(await run(h, 'CreateGrafanaViewer', second)).toMatchObject({ created: false });
    await run(h, 'RemoveGrafanaViewer', first);
    await run(h, 'RemoveGrafanaViewer', second);
    expect(grafana.users.size).toBe(0);
  });

  it('creates a Viewer restricted to the tenant folder, once; removes everything; absent is success', async () => {
    const { h, secrets } = viewerHandlers();
    const tenant = testTenant(randomBytes(3).toString('hex'));
    const out = await run(h, 'CreateGrafanaViewer', tenant);
    expect(out).toMatchObject({
      login: `${tenant.tenantId}-admin`,
      role: 'Viewer',
      folderUid: `tenant-${tenant.tenantId}`,
      created: true,
    });
    expect(JSON.stringify(out)).not.toMatch(/password/i);
    const [user] = [...grafana.users.values()];
    expect(user).toMatchObject({
      login: `${tenant.tenantId}-admin`,
      email: tenant.adminEmail,
      name: 'Test Co Admin',
    });
    expect(grafana.membershipsOf(user.id)).toEqual([
      { orgId: out.orgId, name: `tenant-${tenant.tenantId}`, role: 'Viewer' },
    ]);
    const folder = grafana.folders.get(`tenant-${tenant.tenantId}`)!;
    expect(folder.permissions).toEqual([{ userId: user.id, permission: 1 }]);
    expect([...grafana.dashboards.values()].map((d) => [d.folderUid, d.title])).toEqual([
      [`tenant-${tenant.tenantId}`, 'Tenant: Test Co'],
    ]);
    expect(
      grafana.requests.every((r) => r.path === '/api/health' || r.authorization === `Bearer ${TOKEN}`),
    ).toBe(true);
    const createBody = grafana.requests.find((r) => r.path === '/api/admin/users')!.body as {
      password: string;
    };
    expect((await secrets.get(`/e-commerce/tenants/${tenant.tenantId}/grafana`))?.password).toBe(
      createBody.password,
    );

    // Redelivery: no second user, password unchanged.
    expect(await run(h, 'CreateGrafanaViewer', tenant)).toMatchObject({ created: false, userId: user.id });
    expect(grafana.users.size).toBe(1);
    expect((await secrets.get(`/e-commerce/tenants/${tenant.tenantId}/grafana`))?.password).toBe(
      createBody.password,
    );
    expect(grafana.users.get(user.id)?.password).toBe(createBody.password);

    // A user whose password nobody holds any more (its secret lost): set to the stored one again.
    grafana.users.get(user.id)!.password = 'lost-with-its-secret';
    await secrets.delete(`/e-commerce/tenants/${tenant.tenantId}/grafana`);
    await run(h, 'CreateGrafanaViewer', tenant);
    const renewed = (await secrets.get(`/e-commerce/tenants/${tenant.tenantId}/grafana`))?.password;
    expect(renewed).toBeDefined();
    expect(grafana.users.get(user.id)?.password).toBe(renewed);

    await run(h, 'RemoveGrafanaViewer', tenant);
    expect(grafana.users.size).toBe(0);
    expect(grafana.folders.size).toBe(0);
    expect(grafana.dashboards.size).toBe(0);
    expect(await secrets.get(`/e-commerce/tenants/${tenant.tenantId}/grafana`)).toBeUndefined();
    await run(h, 'RemoveGrafanaViewer', tenant);
  });

  it('a refused token is a permanent failure with a stable code', async () => {
    const h = createHandlers({
      delivery: new DirectMonitoringDelivery({} as KubeClient),
      grafana: new GrafanaClient(grafanaUrl, 'wrong'),
      secrets: new InMemorySecretStore(),
      managedBy: 'x',
      tenantDataSource: DATASOURCE,
    });
    await expect(
      run(h, 'CreateGrafanaViewer', testTenant(randomBytes(3).toString('hex'))),
    ).rejects.toMatchObject({ code: 'MONITORING.GRAFANA_REJECTED', retryable: false });
  });
});
