import {
  type CommandMessage,
  type CommandType,
  type ParamsOf,
  type TenantProfile,
  argoApplicationName,
  buildMessage,
  namespaceName,
} from '@app/contracts';
import { FakeApiServer, KubeClient } from '@app/kube';
import type { CommandHandlers } from '@app/platform';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { configSchema as k8sConfigSchema } from '../../apps/k8s-service/src/config';
import {
  DEFAULT_RENDER_OPTIONS,
  ingressFiles,
  createServiceRuntime as k8sRuntime,
  namespaceFiles,
  tenantConfigMap,
  workloadFiles,
  createHandlers as createK8sHandlers,
} from '../../apps/k8s-service/src';
import { testTenant } from '../../apps/k8s-service/src/testing';
import { configSchema as monitoringConfigSchema } from '../../apps/monitoring-service/src/config';
import {
  createHandlers as createMonitoringHandlers,
  createServiceRuntime as monitoringRuntime,
} from '../../apps/monitoring-service/src';
import { GrafanaStandIn } from '../../apps/monitoring-service/src/testing';
import {
  DIRECT_DELIVERY_COMPONENT,
  type RbacPolicy,
  type RecordedAuthorization,
  assertRbacCovers,
  clusterWide,
  deniedRequests,
  deployRbac,
  renderDeploy,
  rulesFor,
  serviceAccountUser,
  unusedGrants,
  wildcards,
} from '../support/rbac';

/**
 * The k8s-service and the monitoring-service driven through every command that touches a cluster, as their
 * processes wire them, against the API double recording what the API server would authorize; then the RBAC
 * of deploy/ compared with it both ways: every request allowed, every grant used.
 */

const logger = pino({ level: 'silent' });
const K8S = serviceAccountUser('k8s-service');
const MONITORING = serviceAccountUser('monitoring-service');
/** The test itself, playing the cluster's other actors (Argo CD, an operator): never checked. */
const OTHERS = 'test-harness';

type Runtime = Awaited<ReturnType<typeof k8sRuntime>>;

async function run<C extends CommandType>(
  handlers: CommandHandlers,
  type: C,
  tenant: TenantProfile,
  params: ParamsOf<C>,
): Promise<Record<string, unknown>> {
  const message = buildMessage(
    type,
    { step: 'rbac', tenant, params },
    { tenantId: tenant.tenantId, correlationId: 'corr-rbac', actor: 'test' },
    randomBytes(8).toString('hex'),
    new Date('2025-01-15T10:00:00Z'),
  ) as CommandMessage<C>;
  const handler = handlers[type] as unknown as (
    c: CommandMessage<C>,
    ctx: unknown,
  ) => Promise<Record<string, unknown>>;
  return handler(message, { commandId: 'cmd', correlationId: 'corr-rbac', attempt: 1, logger });
}

let base: string;
let bare: string;
let health: Server;
let healthUrl: string;
let grafana: GrafanaStandIn;
let grafanaUrl: string;
beforeAll(async () => {
  base = mkdtempSync(join(tmpdir(), 'rbac-'));
  bare = join(base, 'manifests.git');
  execFileSync('git', ['init', '-q', '--bare', '--initial-branch', 'main', bare]);
  health = createServer((_req, res) => res.writeHead(200).end());
  await new Promise<void>((resolve) => health.listen(0, '127.0.0.1', resolve));
  healthUrl = `http://127.0.0.1:${(health.address() as AddressInfo).port}`;
  grafana = new GrafanaStandIn('grafana-token');
  grafanaUrl = await grafana.start();
});
afterAll(async () => {
  await new Promise<void>((resolve) => health.close(() => resolve()));
  await grafana.stop();
  rmSync(base, { recursive: true, force: true });
});

async function withApi<T>(
  scenario: (server: FakeApiServer, url: string) => Promise<T>,
): Promise<{ server: FakeApiServer; result: T }> {
  const server = new FakeApiServer({ terminationDelayMs: 30 });
  const url = await server.start();
  try {
    return { server, result: await scenario(server, url) };
  } finally {
    await server.stop();
  }
}

function k8sService(delivery: 'gitops' | 'direct', url: string): Promise<Runtime> {
  const config = k8sConfigSchema.parse({
    K8S_DELIVERY: delivery,
    KUBE_API_SERVER: url,
    KUBE_TOKEN: K8S,
    GITOPS_REMOTE: bare,
    GITOPS_WORKDIR: join(base, `k8s-${delivery}`),
    TENANT_HEALTH_BASE_URL: healthUrl,
    VERIFY_TIMEOUT_MS: '10000',
    VERIFY_INTERVAL_MS: '50',
    NAMESPACE_DELETE_TIMEOUT_MS: '10000',
  });
  return k8sRuntime(config, logger);
}

/** Every command the k8s-service handles, in the order a tenant's life calls them. */
async function tenantLifecycle(h: CommandHandlers, tenant: TenantProfile, betweenSteps: Steps = {}) {
  await run(h, 'ProvisionNamespace', tenant, {});
  await run(h, 'DeployWorkloads', tenant, {});
  await run(h, 'ConfigureIngress', tenant, {});
  await betweenSteps.beforeVerify?.();
  expect(await run(h, 'VerifyKubernetes', tenant, {})).toMatchObject({ verifiedAgainst: 'cluster' });
  // Applied again: every object exists, so this is patch without create.
  await run(h, 'DeployWorkloads', tenant, {});
  await run(h, 'UpdateQuota', tenant, { fromTier: 'premium', toTier: 'business' });
  await run(h, 'UpdateQuota', { ...tenant, tier: 'business' }, { fromTier: 'business', toTier: 'premium' });
  await run(h, 'SuspendWorkloads', tenant, {});
  await run(h, 'ResumeWorkloads', tenant, {});
  const dates = { deprovisioningDate: '2025-06-15T10:00:00Z', deletionDate: '2025-07-15T00:00:00Z' };
  await run(h, 'MarkNamespaceDeprovisioning', tenant, dates);
  await run(h, 'UnmarkNamespaceDeprovisioning', tenant, {});
  await run(h, 'RemoveIngress', tenant, {});
  await run(h, 'RemoveWorkloads', tenant, {});
  await betweenSteps.beforeRemoveNamespace?.();
  expect(await run(h, 'RemoveNamespace', tenant, {})).toMatchObject({ deletion: 'observed' });
}
interface Steps {
  beforeVerify?: () => Promise<void>;
  beforeRemoveNamespace?: () => Promise<void>;
}

/** Argo CD, seen from the API: it applies the tenant's tree and reports its Application synced and healthy. */
async function argoSyncs(server: FakeApiServer, url: string, tenant: TenantProfile) {
  const argo = new KubeClient({ server: url, token: OTHERS }, 'argocd-controller');
  const options = { ...DEFAULT_RENDER_OPTIONS, managedBy: 'argocd' };
  const objects = [
    ...namespaceFiles(tenant, options),
    ...workloadFiles(tenant, options),
    ...ingressFiles(tenant, options),
  ].flatMap((file) => file.objects);
  for (const object of [objects[0], tenantConfigMap(tenant, options), ...objects.slice(1)])
    await argo.apply(object);
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

/** Argo CD pruning a tenant that left Git: the Application, its namespace, then the finalizer. */
function argoPrunes(server: FakeApiServer, tenant: TenantProfile): Promise<void> {
  const application = [
    'argoproj.io/v1alpha1',
    'Application',
    DEFAULT_RENDER_OPTIONS.argoNamespace,
    argoApplicationName(tenant.tenantId),
  ] as const;
  return (async () => {
    await new Promise((resolve) => setTimeout(resolve, 200));
    server.delete(...application);
    server.delete('v1', 'Namespace', undefined, namespaceName(tenant.tenantId));
    while (server.get('v1', 'Namespace', undefined, namespaceName(tenant.tenantId))) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    server.clearFinalizers(...application);
  })();
}

const recorded = {
  k8sGitops: [] as RecordedAuthorization[],
  k8sDirect: [] as RecordedAuthorization[],
  monitoringGitops: [] as RecordedAuthorization[],
  monitoringDirect: [] as RecordedAuthorization[],
};
let production: RbacPolicy;
let direct: RbacPolicy;

beforeAll(async () => {
  production = deployRbac('production');
  direct = deployRbac('direct-delivery');

  // Production: GitOps delivery, the cluster observed for verification, downgrades and purges.
  recorded.k8sGitops = (
    await withApi(async (server, url) => {
      const runtime = await k8sService('gitops', url);
      try {
        expect(await runtime.ready()).toBe(true);
        const tenant = testTenant(randomBytes(3).toString('hex'), 'premium');
        let pruned: Promise<void> | undefined;
        await tenantLifecycle(createK8sHandlers(runtime.deps), tenant, {
          beforeVerify: () => argoSyncs(server, url, tenant),
          beforeRemoveNamespace: async () => {
            pruned = argoPrunes(server, tenant);
          },
        });
        await pruned;
      } finally {
        await runtime.close();
      }
    })
  ).server.authorizations(K8S);

  recorded.k8sDirect = (
    await withApi(async (_server, url) => {
      const runtime = await k8sService('direct', url);
      try {
        expect(await runtime.ready()).toBe(true);
        await tenantLifecycle(
          createK8sHandlers(runtime.deps),
          testTenant(randomBytes(3).toString('hex'), 'premium'),
        );
      } finally {
        await runtime.close();
      }
    })
  ).server.authorizations(K8S);

  for (const delivery of ['gitops', 'direct'] as const) {
    const { server } = await withApi(async (_server, url) => {
      const runtime = await monitoringRuntime(
        monitoringConfigSchema.parse({
          MONITORING_DELIVERY: delivery,
          KUBE_API_SERVER: url,
          KUBE_TOKEN: MONITORING,
          GITOPS_REMOTE: bare,
          GITOPS_WORKDIR: join(base, `monitoring-${delivery}`),
          GRAFANA_URL: grafanaUrl,
          GRAFANA_ADMIN_TOKEN: 'grafana-token',
          SECRET_STORE_URL: 'memory:',
        }),
        logger,
      );
      try {
        const tenant = testTenant(randomBytes(3).toString('hex'));
        await new KubeClient({ server: url, token: OTHERS }, 'test').apply({
          apiVersion: 'v1',
          kind: 'Namespace',
          metadata: { name: namespaceName(tenant.tenantId) },
        });
        expect(await runtime.ready()).toBe(true);
        await run(createMonitoringHandlers(runtime.deps), 'ProvisionMonitoring', tenant, {});
        await run(createMonitoringHandlers(runtime.deps), 'ProvisionMonitoring', tenant, {});
        await run(createMonitoringHandlers(runtime.deps), 'RemoveMonitoring', tenant, {});
      } finally {
        await runtime.close();
      }
    });
    recorded[delivery === 'gitops' ? 'monitoringGitops' : 'monitoringDirect'] =
      server.authorizations(MONITORING);
  }
}, 120000);

describe('RBAC of the control plane against the requests its services make', () => {
  it('production (GitOps): the k8s-service may make every request it made, and is granted nothing else', () => {
    expect(recorded.k8sGitops.length).toBeGreaterThan(0);
    expect(deniedRequests(production, 'k8s-service', recorded.k8sGitops)).toEqual([]);
    expect(unusedGrants(production, 'k8s-service', recorded.k8sGitops)).toEqual([]);
  });

  it('production (GitOps): the monitoring-service calls no API and is granted nothing', () => {
    expect(recorded.monitoringGitops).toEqual([]);
    // Its only rules are the secret store's Role (test/deploy/rbac-secret-store.spec.ts).
    expect(rulesFor(production, 'monitoring-service').filter(clusterWide)).toEqual([]);
  });

  it('direct delivery (the component): both services may make every request they made, nothing else', () => {
    expect(deniedRequests(direct, 'k8s-service', recorded.k8sDirect)).toEqual([]);
    expect(unusedGrants(direct, 'k8s-service', recorded.k8sDirect)).toEqual([]);
    expect(recorded.monitoringDirect.length).toBeGreaterThan(0);
    expect(deniedRequests(direct, 'monitoring-service', recorded.monitoringDirect)).toEqual([]);
    expect(unusedGrants(direct, 'monitoring-service', recorded.monitoringDirect, clusterWide)).toEqual([]);
  });

  it('a server-side apply that creates an object was authorized as create too, one that updates as patch only', () => {
    const namespaceVerbs = recorded.k8sDirect
      .filter((a) => a.resource === 'namespaces' && ['patch', 'create'].includes(a.verb))
      .map((a) => a.verb);
    expect(namespaceVerbs.slice(0, 2)).toEqual(['patch', 'create']);
    expect(namespaceVerbs.filter((verb) => verb === 'create')).toHaveLength(1);
    expect(namespaceVerbs.filter((verb) => verb === 'patch').length).toBeGreaterThan(1);
  });

  it('grants no wildcard, only to provisioning:<app> roles bound to the apps’ ServiceAccounts', () => {
    for (const policy of [production, direct]) {
      expect(wildcards(policy)).toEqual([]);
      for (const [role] of policy.roles) expect(role).toMatch(/^(ClusterRole\/provisioning:|Role\/)/);
      for (const binding of policy.bindings) {
        for (const subject of binding.subjects) {
          expect(subject).toMatchObject({ kind: 'ServiceAccount', namespace: 'provisioning-system' });
        }
        if (binding.roleRef.kind === 'ClusterRole') {
          expect(binding.roleRef.name).toBe(`provisioning:${binding.subjects[0].name}`);
          expect(binding.subjects).toHaveLength(1);
        }
      }
    }
  });

  it('the direct-delivery component switches both Deployments to direct delivery', () => {
    const env = (objects: ReturnType<typeof renderDeploy>, app: string) => {
      const deployment = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === app);
      const containers = (
        deployment?.spec as {
          template: { spec: { containers: { env?: { name: string; value?: string }[] }[] } };
        }
      ).template.spec.containers;
      expect(containers).toHaveLength(1);
      return Object.fromEntries((containers[0].env ?? []).map((e) => [e.name, e.value]));
    };
    const rendered = renderDeploy({ components: [DIRECT_DELIVERY_COMPONENT] });
    expect(env(rendered, 'k8s-service')).toMatchObject({ K8S_DELIVERY: 'direct' });
    expect(env(rendered, 'monitoring-service')).toMatchObject({ MONITORING_DELIVERY: 'direct' });
    const productionRender = renderDeploy();
    expect(env(productionRender, 'k8s-service').K8S_DELIVERY).not.toBe('direct');
    expect(env(productionRender, 'monitoring-service').MONITORING_DELIVERY).not.toBe('direct');
  });
});

describe('the comparison reports a rule that is too narrow or too wide', () => {
  /** The production policy with the k8s-service's ClusterRole rewritten. */
  function mutated(edit: (rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[]) => void) {
    const roles = new Map(production.roles);
    const rules = structuredClone(roles.get('ClusterRole/provisioning:k8s-service')!) as {
      apiGroups: string[];
      resources: string[];
      verbs: string[];
    }[];
    edit(rules);
    roles.set('ClusterRole/provisioning:k8s-service', rules);
    return { ...production, roles };
  }
  type Rule = { apiGroups: string[]; resources: string[]; verbs: string[] };
  const ruleFor = (rules: Rule[], resource: string) =>
    rules.find((rule) => rule.resources.includes(resource))!;

  it('a verb removed: the request that needed it is denied', () => {
    const policy = mutated((rules) => {
      const rule = ruleFor(rules, 'pods');
      rule.verbs = rule.verbs.filter((verb) => verb !== 'list');
    });
    expect(deniedRequests(policy, 'k8s-service', recorded.k8sGitops)).toContainEqual(
      expect.stringMatching(/^list core\/pods in namespace e-commerce-test-co-/),
    );
    expect(() => assertRbacCovers(policy, 'k8s-service', recorded.k8sGitops)).toThrow(
      /k8s-service would be forbidden to:\n {2}list core\/pods/,
    );
  });

  it('a resource removed: every request on it is denied', () => {
    const policy = mutated((rules) => {
      const rule = ruleFor(rules, 'jobs');
      rule.resources = rule.resources.filter((resource) => resource !== 'jobs');
    });
    expect(deniedRequests(policy, 'k8s-service', recorded.k8sGitops)).toEqual([
      expect.stringMatching(/^get batch\/jobs tenant-migration-test-co-\w+ in namespace e-commerce-test-co-/),
    ]);
  });

  it('an unused verb or resource added: reported as unused', () => {
    const policy = mutated((rules) => {
      ruleFor(rules, 'pods').verbs.push('watch');
      rules.push({ apiGroups: [''], resources: ['secrets'], verbs: ['get'] });
    });
    expect(unusedGrants(policy, 'k8s-service', recorded.k8sGitops)).toEqual([
      expect.stringMatching(/^watch core\/pods cluster-wide \(ClusterRole\/provisioning:k8s-service via/),
      expect.stringMatching(/^get core\/secrets cluster-wide/),
    ]);
    expect(deniedRequests(policy, 'k8s-service', recorded.k8sGitops)).toEqual([]);
  });

  it('a wildcard is reported', () => {
    const policy = mutated((rules) => {
      ruleFor(rules, 'pods').verbs = ['*'];
    });
    expect(wildcards(policy)).toEqual([expect.stringMatching(/provisioning:k8s-service rule \d+: verbs/)]);
  });
});
