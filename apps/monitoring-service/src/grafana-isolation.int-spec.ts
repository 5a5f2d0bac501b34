import { buildMessage, type CommandMessage, type CommandType, type TenantProfile } from '@app/contracts';
import type { KubeClient } from '@app/kube';
import type { CommandHandlers } from '@app/platform';
import { InMemorySecretStore } from '@app/secrets';
import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { DirectMonitoringDelivery } from './adapters/delivery';
import { GrafanaClient } from './adapters/grafana.client';
import { createHandlers } from './commands';
import { testTenant } from './testing/fixtures';
import { GrafanaStandIn, type GrafanaStandInOptions } from './testing/grafana-stand-in';

// Each tenant's viewer in an organisation of its own, whose only data source goes through a label-enforcing
// proxy pinned to the tenant's namespace: in one shared organisation any viewer could query every data source.
const logger = pino({ level: 'silent' });
const admin = { user: 'admin', password: 'grafana-admin-password' };
const PROXY = 'http://prom-label-proxy.e-commerce-monitoring:8080';

async function run(handlers: CommandHandlers, type: CommandType, tenant: TenantProfile) {
  const message = buildMessage(
    type,
    { step: 'test', tenant, params: {} },
    { tenantId: tenant.tenantId, correlationId: 'corr-g', actor: 'test' },
    randomBytes(8).toString('hex'),
    new Date(),
  );
  const handler = handlers[type] as unknown as (
    c: CommandMessage,
    ctx: unknown,
  ) => Promise<Record<string, unknown>>;
  return handler(message as CommandMessage, { commandId: 'c', correlationId: 'corr-g', attempt: 1, logger });
}

let grafana: GrafanaStandIn;
let url: string;
/** Grafana OSS: the token is a service account's, so only the server admin (basic auth) manages orgs. */
async function startGrafana(options: GrafanaStandInOptions = {}) {
  grafana = new GrafanaStandIn('service-account-token', {
    serverAdmin: admin,
    tokenIsServerAdmin: false,
    ...options,
  });
  url = await grafana.start();
}
afterEach(() => grafana.stop());

function handlers(urlTemplate = PROXY) {
  const secrets = new InMemorySecretStore();
  const deps = {
    delivery: new DirectMonitoringDelivery({} as KubeClient),
    grafana: new GrafanaClient(url, admin),
    secrets,
    managedBy: 'x',
    tenantDataSource: { urlTemplate, header: 'X-Namespace' },
  };
  return { h: createHandlers(deps as Parameters<typeof createHandlers>[0]), secrets };
}

/** A call as the server admin, in its current (main) organisation. */
async function asAdmin(method: string, path: string, body: unknown): Promise<unknown> {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: {
      authorization: `Basic ${Buffer.from(`${admin.user}:${admin.password}`).toString('base64')}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify(body),
  });
  expect(response.status).toBe(200);
  return response.json();
}

/** `METHOD path [org N]` of every request after `from`, health checks left out. */
const trace = (from = 0) =>
  grafana.requests
    .slice(from)
    .filter((r) => r.path !== '/api/health')
    .map((r) => `${r.method} ${r.path}${r.orgHeader === undefined ? '' : ` [org ${r.orgHeader}]`}`);

const tenantPair = () => [
  testTenant(randomBytes(3).toString('hex')),
  testTenant(randomBytes(3).toString('hex')),
];

describe('Grafana isolation: one organisation per tenant', () => {
  it('puts two tenants in two organisations, each with its own namespace-pinned data source and viewer', async () => {
    await startGrafana();
    const { h } = handlers();
    const [a, b] = tenantPair();
    const out = await run(h, 'CreateGrafanaViewer', a);
    const orgA = grafana.orgByName(`tenant-${a.tenantId}`)!;
    expect(orgA).toBeDefined();
    const viewerA = [...grafana.users.values()].find((u) => u.login === `${a.tenantId}-admin`)!;
    const n = orgA.id;
    const u = viewerA.id;
    expect(trace()).toEqual([
      `GET /api/orgs/name/tenant-${a.tenantId}`,
      'POST /api/orgs',
      `GET /api/datasources/uid/tenant-prometheus [org ${n}]`,
      `POST /api/datasources [org ${n}]`,
      `GET /api/users/lookup?loginOrEmail=${a.tenantId}-admin`,
      'POST /api/admin/users',
      `POST /api/orgs/${n}/users`,
      `PATCH /api/orgs/${n}/users/${u}`,
      `GET /api/users/${u}/orgs`,
      `GET /api/folders/tenant-${a.tenantId} [org ${n}]`,
      `POST /api/folders [org ${n}]`,
      `POST /api/dashboards/db [org ${n}]`,
      `POST /api/folders/tenant-${a.tenantId}/permissions [org ${n}]`,
    ]);
    expect(grafana.requests.find((r) => r.path === '/api/admin/users')?.body).toMatchObject({ OrgId: n });
    expect(
      grafana.requests.every((r) => r.path === '/api/health' || r.authorization?.startsWith('Basic ')),
    ).toBe(true);
    expect(out).toMatchObject({ orgId: n, role: 'Viewer', created: true });

    await run(h, 'CreateGrafanaViewer', b);
    const orgB = grafana.orgByName(`tenant-${b.tenantId}`)!;
    expect(orgB.id).not.toBe(orgA.id);
    for (const [tenant, org] of [
      [a, orgA],
      [b, orgB],
    ] as const) {
      const namespace = `e-commerce-${tenant.tenantId}`;
      expect([...org.dataSources.values()]).toEqual([
        expect.objectContaining({
          uid: 'tenant-prometheus',
          type: 'prometheus',
          url: PROXY,
          isDefault: true,
          jsonData: expect.objectContaining({ httpHeaderName1: 'X-Namespace' }),
          secureJsonData: { httpHeaderValue1: namespace },
        }),
      ]);
      const viewer = [...grafana.users.values()].find((v) => v.login === `${tenant.tenantId}-admin`)!;
      // A Viewer of its own organisation and of no other: not of the main one, not of the other tenant's.
      expect(grafana.membershipsOf(viewer.id)).toEqual([{ orgId: org.id, name: org.name, role: 'Viewer' }]);
      expect(viewer.orgId).toBe(org.id);
      expect([...org.dashboards.values()].map((d) => [d.uid, d.folderUid])).toEqual([
        [`tenant-${tenant.tenantId}-ov`, `tenant-${tenant.tenantId}`],
      ]);
    }
    const main = grafana.orgs.get(1)!;
    expect([...main.members.keys()]).toEqual([1]);
    expect(main.folders.size + main.dashboards.size + main.dataSources.size).toBe(0);
  });

  it('is idempotent on redelivery and brings a changed proxy URL to an existing tenant', async () => {
    await startGrafana();
    const [a] = tenantPair();
    const first = await run(handlers().h, 'CreateGrafanaViewer', a);
    const orgs = grafana.orgs.size;
    const from = grafana.requests.length;
    const again = await run(handlers(`${PROXY}/`).h, 'CreateGrafanaViewer', a);
    expect(again).toMatchObject({ orgId: first.orgId, userId: first.userId, created: false });
    const n = Number(first.orgId);
    const u = Number(first.userId);
    expect(trace(from)).toEqual([
      `GET /api/orgs/name/tenant-${a.tenantId}`,
      `GET /api/datasources/uid/tenant-prometheus [org ${n}]`,
      `PUT /api/datasources/uid/tenant-prometheus [org ${n}]`,
      `GET /api/users/lookup?loginOrEmail=${a.tenantId}-admin`,
      `PUT /api/admin/users/${u}/password`,
      `POST /api/orgs/${n}/users`,
      `PATCH /api/orgs/${n}/users/${u}`,
      `GET /api/users/${u}/orgs`,
      `GET /api/folders/tenant-${a.tenantId} [org ${n}]`,
      `POST /api/dashboards/db [org ${n}]`,
      `POST /api/folders/tenant-${a.tenantId}/permissions [org ${n}]`,
    ]);
    expect(grafana.orgs.size).toBe(orgs);
    const org = grafana.orgs.get(n)!;
    expect([...org.dataSources.values()].map((d) => d.url)).toEqual([`${PROXY}/`]);
    expect(grafana.users.size).toBe(1);
  });

  it('takes the viewer out of the main organisation and keeps it a Viewer whatever auto_assign gives', async () => {
    await startGrafana({ autoAssignOrgRole: 'Editor' });
    const [a, b] = tenantPair();
    // `a` was created when every tenant shared the main organisation.
    const old = (await asAdmin('POST', '/api/admin/users', {
      name: 'Old',
      email: a.adminEmail,
      login: `${a.tenantId}-admin`,
      password: 'old-password',
    })) as { id: number };
    await asAdmin('POST', '/api/folders', { uid: `tenant-${a.tenantId}`, title: 'Tenant: Test Co' });
    expect(grafana.membershipsOf(old.id).map((m) => m.orgId)).toEqual([1]);

    const { h } = handlers();
    await run(h, 'CreateGrafanaViewer', a);
    await run(h, 'CreateGrafanaViewer', b);
    for (const tenant of [a, b]) {
      const org = grafana.orgByName(`tenant-${tenant.tenantId}`)!;
      const viewer = [...grafana.users.values()].find((v) => v.login === `${tenant.tenantId}-admin`)!;
      expect(grafana.membershipsOf(viewer.id)).toEqual([{ orgId: org.id, name: org.name, role: 'Viewer' }]);
    }
    // Its removal also clears what the shared organisation held for it.
    await run(h, 'RemoveGrafanaViewer', a);
    expect(grafana.orgs.get(1)!.folders.size).toBe(0);
  });

  it('removes the organisation with its data source and dashboard, the viewer and the secret; absent is success', async () => {
    await startGrafana();
    const { h, secrets } = handlers();
    const [a, b] = tenantPair();
    await run(h, 'CreateGrafanaViewer', a);
    await run(h, 'CreateGrafanaViewer', b);
    const orgA = grafana.orgByName(`tenant-${a.tenantId}`)!.id;
    const userA = [...grafana.users.values()].find((v) => v.login === `${a.tenantId}-admin`)!.id;
    const from = grafana.requests.length;
    expect(await run(h, 'RemoveGrafanaViewer', a)).toMatchObject({ userRemoved: true, orgRemoved: true });
    expect(trace(from)).toEqual([
      `GET /api/users/lookup?loginOrEmail=${a.tenantId}-admin`,
      `GET /api/orgs/name/tenant-${a.tenantId}`,
      `DELETE /api/orgs/${orgA}`,
      `DELETE /api/admin/users/${userA}`,
      `DELETE /api/dashboards/uid/tenant-${a.tenantId}-ov [org 1]`,
      `DELETE /api/folders/tenant-${a.tenantId} [org 1]`,
    ]);
    expect(grafana.orgByName(`tenant-${a.tenantId}`)).toBeUndefined();
    expect([...grafana.users.values()].map((v) => v.login)).toEqual([`${b.tenantId}-admin`]);
    expect(await secrets.get(`/e-commerce/tenants/${a.tenantId}/grafana`)).toBeUndefined();
    // The other tenant keeps everything.
    const orgB = grafana.orgByName(`tenant-${b.tenantId}`)!;
    expect(orgB.dataSources.size + orgB.folders.size + orgB.dashboards.size).toBe(3);

    expect(await run(h, 'RemoveGrafanaViewer', a)).toMatchObject({ userRemoved: false, orgRemoved: false });
    await run(h, 'RemoveGrafanaViewer', b);
    expect([...grafana.orgs.keys()]).toEqual([1]);
    expect(grafana.users.size).toBe(0);
  });

  it('a service account token, which Grafana OSS keeps out of the organisations API, fails permanently', async () => {
    await startGrafana();
    const deps = {
      delivery: new DirectMonitoringDelivery({} as KubeClient),
      grafana: new GrafanaClient(url, { token: 'service-account-token' }),
      secrets: new InMemorySecretStore(),
      managedBy: 'x',
      tenantDataSource: { urlTemplate: PROXY, header: 'X-Namespace' },
    };
    const h = createHandlers(deps as Parameters<typeof createHandlers>[0]);
    await expect(run(h, 'CreateGrafanaViewer', tenantPair()[0])).rejects.toMatchObject({
      code: 'MONITORING.GRAFANA_REJECTED',
      retryable: false,
    });
    expect(grafana.orgs.size).toBe(1);
    expect(grafana.users.size).toBe(0);
  });
});
