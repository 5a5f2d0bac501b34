import {
  buildMessage,
  type CommandMessage,
  type CommandType,
  type ParamsOf,
  type TenantProfile,
} from '@app/contracts';
import { FakeApiServer, KubeClient } from '@app/kube';
import { type CommandHandlers, StepError } from '@app/platform';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { parse } from 'yaml';
import { DirectDriver } from './adapters/direct.driver';
import { GitOpsDriver } from './adapters/gitops.driver';
import { FIELD_MANAGER } from './adapters/field-manager';
import { DEFAULT_RENDER_OPTIONS } from './domain/render-options';
import { createHandlers, httpProbe } from './handlers';
import { testTenant } from './testing/fixtures';

const logger = pino({ level: 'silent' });
const context = (correlationId = 'corr-h') => ({ commandId: 'cmd', correlationId, attempt: 1, logger });

function command<C extends CommandType>(
  type: C,
  tenant: TenantProfile,
  params: ParamsOf<C>,
): CommandMessage<C> {
  return buildMessage(
    type,
    { step: 'test', tenant, params },
    { tenantId: tenant.tenantId, correlationId: 'corr-h', actor: 'test' },
    randomBytes(8).toString('hex'),
    new Date('2025-01-15T10:00:00Z'),
  ) as CommandMessage<C>;
}
async function run<C extends CommandType>(
  handlers: CommandHandlers,
  type: C,
  tenant: TenantProfile,
  params: ParamsOf<C>,
) {
  const handler = handlers[type] as unknown as (
    c: CommandMessage<C>,
    ctx: ReturnType<typeof context>,
  ) => Promise<Record<string, unknown>>;
  return handler(command(type, tenant, params), context());
}

/** A tenant's `/health` stand-in: 200 once `healthy` is set. */
let healthServer: Server;
let healthUrl: string;
let healthy = true;
beforeAll(async () => {
  healthServer = createServer((req, res) => {
    res.writeHead(req.url === '/health' && healthy ? 200 : 503).end();
  });
  await new Promise<void>((resolve) => healthServer.listen(0, '127.0.0.1', resolve));
  healthUrl = `http://127.0.0.1:${(healthServer.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => healthServer.close(() => resolve())));

describe('k8s handlers, GitOps delivery into a real repository', () => {
  let base: string;
  let bare: string;
  beforeAll(() => {
    base = mkdtempSync(join(tmpdir(), 'k8s-handlers-'));
    bare = join(base, 'manifests.git');
    execFileSync('git', ['init', '-q', '--bare', '--initial-branch', 'main', bare]);
  });
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  function handlers() {
    const driver = new GitOpsDriver(
      {
        workdir: join(base, 'wc'),
        remote: bare,
        branch: 'main',
        authorName: 'k8s',
        authorEmail: 'k8s@example.com',
        pushAttempts: 3,
        lockTimeoutMs: 10000,
      },
      DEFAULT_RENDER_OPTIONS,
      logger,
    );
    return createHandlers({
      driver,
      options: DEFAULT_RENDER_OPTIONS,
      probe: httpProbe,
      verify: { timeoutMs: 300, intervalMs: 50, healthBaseUrl: healthUrl, trustCommit: true },
    });
  }
  const tip = () => {
    const dir = join(base, `c-${randomBytes(3).toString('hex')}`);
    execFileSync('git', ['clone', '-q', bare, dir]);
    return dir;
  };

  it('runs the whole lifecycle', async () => {
    const h = handlers();
    const tenant = testTenant(randomBytes(3).toString('hex'), 'premium');
    const root = (dir: string) => join(dir, 'tenants', tenant.tenantId);

    expect(await run(h, 'ProvisionNamespace', tenant, {})).toMatchObject({ mode: 'gitops', changed: true });
    const deployed = await run(h, 'DeployWorkloads', tenant, {});
    expect(deployed).toMatchObject({ changed: true, argoApplication: `tenant-${tenant.tenantId}` });
    expect(await run(h, 'DeployWorkloads', tenant, {})).toMatchObject({
      changed: false,
      revision: deployed.revision,
    });
    await run(h, 'ConfigureIngress', tenant, {});

    const verified = await run(h, 'VerifyKubernetes', tenant, {});
    expect(verified).toMatchObject({ verifiedAgainst: 'commit', healthStatus: 200 });
    expect(String(verified.note)).toMatch(/trusted/);
    healthy = false;
    await expect(run(h, 'VerifyKubernetes', tenant, {})).rejects.toMatchObject({
      code: 'K8S.VERIFICATION_FAILED',
    });
    healthy = true;

    await run(h, 'MarkNamespaceDeprovisioning', tenant, {
      deprovisioningDate: '2025-06-15T10:00:00Z',
      deletionDate: '2025-07-15T00:00:00Z',
    });
    let ns = parse(readFileSync(join(root(tip()), 'namespace.yaml'), 'utf8'));
    expect(ns.metadata.annotations['deletion-date']).toBe('2025-07-15T00:00:00Z');
    await run(h, 'UnmarkNamespaceDeprovisioning', tenant, {});
    ns = parse(readFileSync(join(root(tip()), 'namespace.yaml'), 'utf8'));
    expect(ns.metadata.annotations.deprovisioning).toBeUndefined();

    const upgraded = await run(h, 'UpdateQuota', tenant, { fromTier: 'premium', toTier: 'business' });
    expect(upgraded).toMatchObject({ toTier: 'business', usageChecked: false });
    expect(
      parse(readFileSync(join(root(tip()), 'resource-quota.yaml'), 'utf8')).spec.hard['requests.cpu'],
    ).toBe('12');

    await run(h, 'SuspendWorkloads', tenant, {});
    let dir = tip();
    expect(existsSync(join(root(dir), 'ingress.yaml'))).toBe(false);
    expect(
      parse(readFileSync(join(root(dir), 'deployments', 'api-gateway.yaml'), 'utf8')).spec.replicas,
    ).toBe(0);
    expect(await run(h, 'ResumeWorkloads', tenant, {})).toMatchObject({ ingress: 'restored' });
    dir = tip();
    expect(existsSync(join(root(dir), 'ingress.yaml'))).toBe(true);

    await run(h, 'RemoveIngress', tenant, {});
    await run(h, 'RemoveWorkloads', tenant, {});
    dir = tip();
    expect(existsSync(join(root(dir), 'deployments'))).toBe(false);
    expect(existsSync(join(root(dir), 'namespace.yaml'))).toBe(true);
    await run(h, 'RemoveNamespace', tenant, {});
    expect(existsSync(root(tip()))).toBe(false);
    expect(await run(h, 'RemoveNamespace', tenant, {})).toMatchObject({ changed: false });
  }, 60000);
});

describe('k8s handlers, direct apply against the API double', () => {
  let server: FakeApiServer;
  let client: KubeClient;
  const options = { ...DEFAULT_RENDER_OPTIONS, managedBy: FIELD_MANAGER };
  beforeEach(async () => {
    server = new FakeApiServer({ terminationDelayMs: 50 });
    client = new KubeClient({ server: await server.start() }, FIELD_MANAGER);
  });
  afterEach(() => server.stop());
  const handlers = (deleteTimeoutMs = 2000) =>
    createHandlers({
      driver: new DirectDriver(
        client,
        { namespaceDeleteTimeoutMs: deleteTimeoutMs, pollIntervalMs: 20 },
        logger,
      ),
      options,
      cluster: client,
      probe: httpProbe,
      verify: { timeoutMs: 300, intervalMs: 50, healthBaseUrl: healthUrl, trustCommit: false },
    });

  it('provisions, verifies pods, refuses a downgrade that does not fit, suspends, removes', async () => {
    const h = handlers();
    const tenant = testTenant(randomBytes(3).toString('hex'), 'premium');
    const ns = `e-commerce-${tenant.tenantId}`;
    await run(h, 'ProvisionNamespace', tenant, {});
    await run(h, 'DeployWorkloads', tenant, {});
    await run(h, 'ConfigureIngress', tenant, {});
    expect(server.get('v1', 'ConfigMap', ns, 'tenant-config')?.data).toMatchObject({
      TENANT_TIER: 'premium',
    });

    server.seed({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'api-gateway-1', namespace: ns },
      status: { phase: 'Pending' },
    });
    await expect(run(h, 'VerifyKubernetes', tenant, {})).rejects.toMatchObject({
      code: 'K8S.VERIFICATION_FAILED',
      message: expect.stringMatching(/1 pods not running/),
    });
    server.seed({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'api-gateway-1', namespace: ns },
      status: { phase: 'Running' },
    });
    expect(await run(h, 'VerifyKubernetes', tenant, {})).toMatchObject({
      verifiedAgainst: 'cluster',
      podsRunning: 1,
    });

    const quota = server.get('v1', 'ResourceQuota', ns, 'tenant-quota')!;
    server.seed({ ...quota, status: { used: { 'requests.cpu': '5', 'limits.memory': '20Gi' } } });
    const refusal = await run(h, 'UpdateQuota', tenant, { fromTier: 'premium', toTier: 'standard' }).catch(
      (e: unknown) => e,
    );
    expect(refusal).toBeInstanceOf(StepError);
    expect(refusal).toMatchObject({ code: 'K8S.DOWNGRADE_DOES_NOT_FIT', retryable: false });
    expect((refusal as Error).message).toMatch(/requests.cpu: 5 in use exceeds the standard quota of 3/);
    expect(server.get('v1', 'ResourceQuota', ns, 'tenant-quota')!.spec).toMatchObject({
      hard: { 'requests.cpu': '6' },
    });

    await run(h, 'SuspendWorkloads', tenant, {});
    expect(
      (server.get('apps/v1', 'Deployment', ns, 'api-gateway')!.spec as { replicas: number }).replicas,
    ).toBe(0);
    expect(server.get('networking.k8s.io/v1', 'Ingress', ns, 'tenant-ingress')).toBeUndefined();
    await run(h, 'ResumeWorkloads', tenant, {});
    expect(
      (server.get('apps/v1', 'Deployment', ns, 'api-gateway')!.spec as { replicas: number }).replicas,
    ).toBe(3);
    expect(server.get('networking.k8s.io/v1', 'Ingress', ns, 'tenant-ingress')).toBeDefined();

    await run(h, 'MarkNamespaceDeprovisioning', tenant, {
      deprovisioningDate: '2025-06-15T10:00:00Z',
      deletionDate: '2025-07-15T00:00:00Z',
    });
    expect(server.get('v1', 'Namespace', undefined, ns)!.metadata.labels).toMatchObject({
      deprovisioning: 'true',
    });

    await run(h, 'RemoveIngress', tenant, {});
    await run(h, 'RemoveWorkloads', tenant, {});
    expect(server.list().filter((o) => o.kind === 'Deployment')).toEqual([]);
    await run(h, 'RemoveNamespace', tenant, {});
    expect(server.list().filter((o) => o.kind !== 'Pod')).toEqual([]);
  }, 30000);

  it('RemoveNamespace on a namespace stuck Terminating fails with K8S.NAMESPACE_TERMINATION_TIMEOUT', async () => {
    const h = handlers(200);
    const tenant = testTenant(randomBytes(3).toString('hex'));
    await run(h, 'ProvisionNamespace', tenant, {});
    server.stickTerminating(true);
    await expect(run(h, 'RemoveNamespace', tenant, {})).rejects.toMatchObject({
      code: 'K8S.NAMESPACE_TERMINATION_TIMEOUT',
    });
  });
});

const kubeconfig = process.env.KUBECONFIG;
(kubeconfig ? describe : describe.skip)('k8s handlers against a real cluster (KUBECONFIG)', () => {
  it('provisions and removes a namespace', async () => {
    const client = new KubeClient({ kubeconfig }, FIELD_MANAGER);
    const h = createHandlers({
      driver: new DirectDriver(client, { namespaceDeleteTimeoutMs: 120000, pollIntervalMs: 1000 }, logger),
      options: { ...DEFAULT_RENDER_OPTIONS, managedBy: FIELD_MANAGER },
      cluster: client,
      probe: httpProbe,
      verify: { timeoutMs: 1000, intervalMs: 500, trustCommit: false },
    });
    const tenant = testTenant(randomBytes(3).toString('hex'));
    await run(h, 'ProvisionNamespace', tenant, {});
    expect(await client.read('v1', 'Namespace', `e-commerce-${tenant.tenantId}`)).toBeDefined();
    await run(h, 'RemoveNamespace', tenant, {});
  }, 180000);
});
if (!kubeconfig) {
  // eslint-disable-next-line no-console
  console.info('k8s real-cluster suite skipped: KUBECONFIG is not set (no API server on this machine)');
}
