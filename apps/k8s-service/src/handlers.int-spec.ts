import {
  buildMessage,
  type CommandMessage,
  type CommandType,
  type ParamsOf,
  type TenantProfile,
  argoApplicationName,
  migrationJobName,
  namespaceName,
} from '@app/contracts';
import { FakeApiServer, KubeClient, type KubeObject } from '@app/kube';
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
import { type HealthProbe, httpProbe } from './adapters/http-probe';
import { createHandlers } from './commands';
import { certificate, DEFAULT_RENDER_OPTIONS, type RenderOptions, workloadFiles } from '@app/plans';
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

  function gitOpsDriver() {
    return new GitOpsDriver(
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
  }
  function handlers() {
    return createHandlers({
      driver: gitOpsDriver(),
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
    const removed = await run(h, 'RemoveNamespace', tenant, {});
    // No cluster to watch: the outputs say the deletion was trusted, never that the namespace is gone.
    expect(removed).toMatchObject({ deletion: 'trusted' });
    expect(String(removed.note)).toMatch(/not observed/);
    expect(existsSync(root(tip()))).toBe(false);
    expect(await run(h, 'RemoveNamespace', tenant, {})).toMatchObject({ changed: false });
  }, 60000);

  describe('purge confirmation with a cluster to watch (the API double, the test playing Argo CD)', () => {
    let server: FakeApiServer;
    let client: KubeClient;
    beforeEach(async () => {
      server = new FakeApiServer({ terminationDelayMs: 30 });
      client = new KubeClient({ server: await server.start() }, 'argocd-application-controller');
    });
    afterEach(() => server.stop());

    function watched(timeoutMs: number) {
      return createHandlers({
        driver: gitOpsDriver(),
        options: DEFAULT_RENDER_OPTIONS,
        cluster: client,
        probe: httpProbe,
        verify: { timeoutMs: 300, intervalMs: 50, healthBaseUrl: healthUrl, trustCommit: false },
        purge: { timeoutMs, intervalMs: 20 },
      });
    }
    /** What Argo CD holds once it has synced the tenant: its namespace, and the Application with its finalizer. */
    async function synced(tenant: TenantProfile) {
      await client.apply({
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: namespaceName(tenant.tenantId) },
      });
      server.seed({
        apiVersion: 'argoproj.io/v1alpha1',
        kind: 'Application',
        metadata: {
          name: argoApplicationName(tenant.tenantId),
          namespace: DEFAULT_RENDER_OPTIONS.argoNamespace,
          finalizers: ['resources-finalizer.argocd.argoproj.io'],
        },
        status: { sync: { status: 'Synced' }, health: { status: 'Healthy' } },
      });
    }
    const application = (tenant: TenantProfile) =>
      [
        'argoproj.io/v1alpha1',
        'Application',
        DEFAULT_RENDER_OPTIONS.argoNamespace,
        argoApplicationName(tenant.tenantId),
      ] as const;

    it('waits until Argo CD has pruned the namespace and removed the Application, then says it observed it', async () => {
      const h = watched(5000);
      const tenant = testTenant(randomBytes(3).toString('hex'));
      await run(h, 'ProvisionNamespace', tenant, {});
      await synced(tenant);
      // Argo CD, some time after the commit: the Application is deleted, its finalizer prunes the namespace
      // (Terminating, then gone), and the finalizer is removed last.
      const argo = (async () => {
        await new Promise((resolve) => setTimeout(resolve, 150));
        server.delete(...application(tenant));
        server.delete('v1', 'Namespace', undefined, namespaceName(tenant.tenantId));
        while (server.get('v1', 'Namespace', undefined, namespaceName(tenant.tenantId))) {
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        server.clearFinalizers(...application(tenant));
      })();
      const removed = await run(h, 'RemoveNamespace', tenant, {});
      await argo;
      expect(removed).toMatchObject({ mode: 'gitops', changed: true, deletion: 'observed' });
      expect(server.get('v1', 'Namespace', undefined, namespaceName(tenant.tenantId))).toBeUndefined();
      expect(server.get(...application(tenant))).toBeUndefined();
    }, 30000);

    it('fails retryably past its deadline, naming the Application and the namespace still there', async () => {
      const h = watched(200);
      const tenant = testTenant(randomBytes(3).toString('hex'));
      await run(h, 'ProvisionNamespace', tenant, {});
      await synced(tenant);
      await expect(run(h, 'RemoveNamespace', tenant, {})).rejects.toMatchObject({
        code: 'K8S.NAMESPACE_TERMINATION_TIMEOUT',
        retryable: true,
        message: expect.stringMatching(
          new RegExp(
            `argocd/${argoApplicationName(tenant.tenantId)} still present.*namespace ${namespaceName(tenant.tenantId)} still Active`,
          ),
        ),
      });
      // Pruning started but the namespace sticks Terminating: named with the condition that holds it.
      server.stickTerminating(true);
      server.delete(...application(tenant));
      server.delete('v1', 'Namespace', undefined, namespaceName(tenant.tenantId));
      await expect(run(h, 'RemoveNamespace', tenant, {})).rejects.toMatchObject({
        code: 'K8S.NAMESPACE_TERMINATION_TIMEOUT',
        message: expect.stringMatching(
          /being deleted \(pruning\).*still Terminating \(NamespaceDeletionDiscoveryFailure/,
        ),
      });
    }, 30000);
  });
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
  const handlers = (deleteTimeoutMs = 2000, verifyTimeoutMs = 3000) =>
    createHandlers({
      driver: new DirectDriver(
        client,
        { namespaceDeleteTimeoutMs: deleteTimeoutMs, pollIntervalMs: 20 },
        logger,
      ),
      options,
      cluster: client,
      probe: httpProbe,
      verify: { timeoutMs: verifyTimeoutMs, intervalMs: 50, healthBaseUrl: healthUrl, trustCommit: false },
    });
  /** A tenant applied as the provisioning saga does, up to (not including) verification. */
  async function provisioned(h: CommandHandlers, tier: 'standard' | 'premium' = 'standard') {
    const tenant = testTenant(randomBytes(3).toString('hex'), tier);
    await run(h, 'ProvisionNamespace', tenant, {});
    await run(h, 'DeployWorkloads', tenant, {});
    await run(h, 'ConfigureIngress', tenant, {});
    return tenant;
  }

  it('verifies a tenant once its Deployments are Available and its migration Job is Complete (its pod Succeeded)', async () => {
    const h = handlers();
    const tenant = await provisioned(h);
    const verified = await run(h, 'VerifyKubernetes', tenant, {});
    expect(verified).toMatchObject({
      verifiedAgainst: 'cluster',
      deploymentsAvailable: 13,
      deploymentsExpected: 13,
      migrationJob: migrationJobName(tenant.tenantId),
      migrationJobComplete: true,
      certificate: 'tenant-tls',
      certificateReady: true,
      healthStatus: 200,
    });
    // What made it pass is what a cluster shows: the Job's pod ended Succeeded, which is not Running.
    const jobPods = server
      .list()
      .filter(
        (o) => o.kind === 'Pod' && o.metadata.labels?.['job-name'] === migrationJobName(tenant.tenantId),
      );
    expect(jobPods.map((pod) => (pod.status as { phase: string }).phase)).toEqual(['Succeeded']);
  }, 30000);

  it('names a crash-looping pod with CrashLoopBackOff, though its phase is Running', async () => {
    server.crashLoop('products-service');
    const h = handlers(2000, 1000);
    const tenant = await provisioned(h);
    const failure = await run(h, 'VerifyKubernetes', tenant, {}).catch((e: unknown) => e);
    expect(failure).toMatchObject({ code: 'K8S.VERIFICATION_FAILED', retryable: false });
    const message = (failure as Error).message;
    expect(message).toMatch(
      /pod products-service-[a-z0-9]+-[a-z0-9]+: container products-service CrashLoopBackOff/,
    );
    expect(message).toMatch(/deployment products-service: 0\/\d+ available/);
    const crashing = server
      .list()
      .find((o) => o.kind === 'Pod' && o.metadata.name.startsWith('products-service-'));
    expect((crashing?.status as { phase: string }).phase).toBe('Running');
  }, 30000);

  it('names an image that cannot be pulled', async () => {
    server.failImagePull(`${options.imageRepository}/orders-service:`);
    const h = handlers(2000, 1000);
    const tenant = await provisioned(h);
    await expect(run(h, 'VerifyKubernetes', tenant, {})).rejects.toMatchObject({
      code: 'K8S.VERIFICATION_FAILED',
      message: expect.stringMatching(
        /deployment orders-service: 0\/\d+ available.*Progressing=False \(ProgressDeadlineExceeded\).*pod orders-service-[a-z0-9-]+: container orders-service ImagePullBackOff/,
      ),
    });
  }, 30000);

  it('fails at once, not retryably, when the migration Job fails, naming the job and its pod’s reason', async () => {
    // A verification deadline far beyond the test's own timeout: only an immediate failure passes.
    const h = handlers(2000, 120_000);
    const tenant = testTenant(randomBytes(3).toString('hex'));
    server.failJob(migrationJobName(tenant.tenantId));
    await run(h, 'ProvisionNamespace', tenant, {});
    await run(h, 'DeployWorkloads', tenant, {});
    await run(h, 'ConfigureIngress', tenant, {});
    const failure = await run(h, 'VerifyKubernetes', tenant, {}).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(StepError);
    expect(failure).toMatchObject({ code: 'K8S.MIGRATION_FAILED', retryable: false });
    expect((failure as Error).message).toMatch(
      new RegExp(
        `^job ${migrationJobName(tenant.tenantId)} failed: BackoffLimitExceeded: .*; pod ${migrationJobName(tenant.tenantId)}-[a-z0-9]+: container migrate terminated Error, exit code 1$`,
      ),
    );
  }, 15000);

  it('times out naming a Deployment that never becomes available', async () => {
    server.neverAvailable('baskets-service');
    // Long enough for the double's controllers to make everything else ready on a loaded machine: only the
    // Deployment that never becomes available may be named.
    const h = handlers(2000, 6000);
    const tenant = await provisioned(h);
    const failure = await run(h, 'VerifyKubernetes', tenant, {}).catch((e: unknown) => e);
    expect(failure).toMatchObject({ code: 'K8S.VERIFICATION_FAILED', retryable: false });
    expect((failure as Error).message).toMatch(
      /^deployment baskets-service: 0\/\d+ available, Available=False/,
    );
    expect((failure as Error).message).not.toMatch(
      /api-gateway|products-service|tenant-migration|tenant-tls/,
    );
  }, 30000);

  it('refuses a downgrade that does not fit, suspends, resumes, removes the namespace and says it watched it go', async () => {
    const h = handlers();
    const tenant = await provisioned(h, 'premium');
    const ns = namespaceName(tenant.tenantId);
    expect(server.get('v1', 'ConfigMap', ns, 'tenant-config')?.data).toMatchObject({
      TENANT_TIER: 'premium',
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
    // Resumed at a new generation: verification waits for the controller to report it.
    expect(await run(h, 'VerifyKubernetes', tenant, {})).toMatchObject({ deploymentsAvailable: 13 });

    await run(h, 'MarkNamespaceDeprovisioning', tenant, {
      deprovisioningDate: '2025-06-15T10:00:00Z',
      deletionDate: '2025-07-15T00:00:00Z',
    });
    expect(server.get('v1', 'Namespace', undefined, ns)!.metadata.labels).toMatchObject({
      deprovisioning: 'true',
    });

    await run(h, 'RemoveIngress', tenant, {});
    await run(h, 'RemoveWorkloads', tenant, {});
    // Deleting the Deployments and the Job deletes their ReplicaSets and pods (garbage collection).
    expect(server.list().filter((o) => ['Deployment', 'ReplicaSet', 'Job', 'Pod'].includes(o.kind))).toEqual(
      [],
    );
    expect(await run(h, 'RemoveNamespace', tenant, {})).toMatchObject({ deletion: 'observed' });
    expect(server.list()).toEqual([]);
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

/**
 * Against a real cluster (kind or k3d), when KUBECONFIG is set. The tenant workloads need images that exist:
 * K8S_TEST_IMAGE_REPOSITORY/<workload>:K8S_TEST_IMAGE_TAG for the 13 workloads (one small image tagged 13
 * times), serving `/health` and `/ready` on ports 8000 and 8100, with `/bin/sh` and a `php` that exits 0 for the
 * migration Job. The cluster needs cert-manager with a ClusterIssuer named like the manifests' issuer (a
 * self-signed one will do) and the External Secrets CRDs; the suite plays the ESO controller itself (it writes
 * each ExternalSecret's target Secret with placeholder values), so no secret backend is needed.
 */
const kubeconfig = process.env.KUBECONFIG;
const testImageRepository = process.env.K8S_TEST_IMAGE_REPOSITORY;
// Not `latest`: that tag makes the kubelet always pull, and images loaded into kind are not in any registry.
const testImageTag = process.env.K8S_TEST_IMAGE_TAG ?? 'test';
const clusterVerifyTimeoutMs = Number(process.env.K8S_TEST_VERIFY_TIMEOUT_MS ?? 300000);

/**
 * The Secrets ESO would write for these ExternalSecrets: each target, with the keys it declares, plus (for
 * `dataFrom`, whose keys only the backend knows) the keys the workloads read from it. Values are placeholders.
 */
function externalSecretTargets(objects: KubeObject[]): KubeObject[] {
  const referenced = new Map<string, Set<string>>();
  for (const object of objects) {
    const template = (object.spec as { template?: { spec?: { containers?: unknown[] } } } | undefined)
      ?.template;
    for (const container of (template?.spec?.containers ?? []) as {
      env?: { valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
    }[]) {
      for (const ref of (container.env ?? []).map((e) => e.valueFrom?.secretKeyRef).filter(Boolean)) {
        referenced.set(ref!.name, (referenced.get(ref!.name) ?? new Set()).add(ref!.key));
      }
    }
  }
  return objects
    .filter((object) => object.kind === 'ExternalSecret')
    .map((object) => {
      const spec = object.spec as {
        target?: { name?: string; template?: { data?: Record<string, string> } };
        data?: { secretKey: string }[];
        dataFrom?: unknown[];
      };
      const name = spec.target?.name ?? object.metadata.name;
      const keys = new Set([
        ...(spec.data ?? []).map((d) => d.secretKey),
        ...Object.keys(spec.target?.template?.data ?? {}),
        ...(spec.dataFrom ? (referenced.get(name) ?? []) : []),
      ]);
      return {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name, namespace: object.metadata.namespace },
        type: 'Opaque',
        stringData: Object.fromEntries([...keys].map((key) => [key, `placeholder-${key.toLowerCase()}`])),
      };
    });
}

(kubeconfig ? describe : describe.skip)('k8s handlers against a real cluster (KUBECONFIG)', () => {
  const clusterHandlers = (client: KubeClient, options: RenderOptions, probe: HealthProbe) =>
    createHandlers({
      driver: new DirectDriver(client, { namespaceDeleteTimeoutMs: 180000, pollIntervalMs: 1000 }, logger),
      options,
      cluster: client,
      probe,
      verify: {
        timeoutMs: clusterVerifyTimeoutMs,
        intervalMs: 2000,
        healthBaseUrl: process.env.K8S_TEST_HEALTH_BASE_URL,
        trustCommit: false,
      },
    });

  it('provisions and removes a namespace', async () => {
    const client = new KubeClient({ kubeconfig }, FIELD_MANAGER);
    const h = clusterHandlers(client, { ...DEFAULT_RENDER_OPTIONS, managedBy: FIELD_MANAGER }, httpProbe);
    const tenant = testTenant(randomBytes(3).toString('hex'));
    await run(h, 'ProvisionNamespace', tenant, {});
    expect(await client.read('v1', 'Namespace', `e-commerce-${tenant.tenantId}`)).toBeDefined();
    expect(await run(h, 'RemoveNamespace', tenant, {})).toMatchObject({ deletion: 'observed' });
    expect(await client.read('v1', 'Namespace', `e-commerce-${tenant.tenantId}`)).toBeUndefined();
  }, 240000);

  (testImageRepository ? it : it.skip)(
    'applies a tenant, verifies it by status (Deployments Available, Job Complete, Certificate Ready), purges it',
    async () => {
      const client = new KubeClient({ kubeconfig }, FIELD_MANAGER);
      const eso = new KubeClient({ kubeconfig }, 'external-secrets-stand-in');
      const options: RenderOptions = {
        ...DEFAULT_RENDER_OPTIONS,
        managedBy: FIELD_MANAGER,
        imageRepository: testImageRepository!,
        imageTag: testImageTag,
      };
      const tenant = testTenant(randomBytes(3).toString('hex'));
      const ns = namespaceName(tenant.tenantId);
      const workloadObjects = workloadFiles(tenant, options).flatMap((file) => file.objects);
      const externalSecretVersion = workloadObjects.find((o) => o.kind === 'ExternalSecret')?.apiVersion;
      for (const [apiVersion, kind, what] of [
        ['cert-manager.io/v1', 'ClusterIssuer', 'cert-manager'],
        [externalSecretVersion ?? 'external-secrets.io/v1', 'ExternalSecret', 'the External Secrets CRDs'],
      ] as const) {
        await client.list(apiVersion, kind).catch(() => {
          throw new Error(`the cluster lacks ${apiVersion} ${kind}: install ${what} first`);
        });
      }
      const issuer = (certificate(tenant, options).spec as { issuerRef: { name: string } }).issuerRef.name;
      if (!(await client.read('cert-manager.io/v1', 'ClusterIssuer', issuer))) {
        throw new Error(`the cluster has no ClusterIssuer ${issuer} (a selfSigned one will do)`);
      }
      // The tenant's health URL goes through the ingress controller and DNS, which a kind cluster on a laptop
      // rarely has: unless K8S_TEST_HEALTH_BASE_URL says where it answers, that one check is stubbed.
      const probe: HealthProbe = process.env.K8S_TEST_HEALTH_BASE_URL ? httpProbe : async () => 200;
      if (!process.env.K8S_TEST_HEALTH_BASE_URL) {
        // eslint-disable-next-line no-console
        console.info(
          'real-cluster suite: K8S_TEST_HEALTH_BASE_URL not set, the tenant /health check is stubbed',
        );
      }
      const h = clusterHandlers(client, options, probe);
      try {
        await run(h, 'ProvisionNamespace', tenant, {});
        for (const secret of externalSecretTargets(workloadObjects)) await eso.apply(secret);
        await run(h, 'DeployWorkloads', tenant, {});
        await run(h, 'ConfigureIngress', tenant, {});
        expect(await run(h, 'VerifyKubernetes', tenant, {})).toMatchObject({
          verifiedAgainst: 'cluster',
          deploymentsAvailable: 13,
          deploymentsExpected: 13,
          migrationJobComplete: true,
          certificateReady: true,
        });
        const jobPods = (await client.list('v1', 'Pod', ns)).filter(
          (pod) =>
            pod.metadata.labels?.['batch.kubernetes.io/job-name'] === migrationJobName(tenant.tenantId),
        );
        expect(jobPods.map((pod) => (pod.status as { phase?: string }).phase)).toContain('Succeeded');

        await run(h, 'RemoveIngress', tenant, {});
        await run(h, 'RemoveWorkloads', tenant, {});
        expect(await run(h, 'RemoveNamespace', tenant, {})).toMatchObject({ deletion: 'observed' });
        expect(await client.read('v1', 'Namespace', ns)).toBeUndefined();
      } finally {
        await client
          .delete({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } })
          .catch(() => false);
      }
    },
    clusterVerifyTimeoutMs + 420000,
  );
});
if (!kubeconfig) {
  // eslint-disable-next-line no-console
  console.info('k8s real-cluster suite skipped: KUBECONFIG is not set (no API server on this machine)');
} else if (!testImageRepository) {
  // eslint-disable-next-line no-console
  console.info(
    'k8s real-cluster tenant test skipped: K8S_TEST_IMAGE_REPOSITORY is not set (the tenant workloads need images)',
  );
}
