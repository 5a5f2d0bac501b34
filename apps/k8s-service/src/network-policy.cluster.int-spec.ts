import { namespaceName } from '@app/contracts';
import { KubeClient, type KubeObject } from '@app/kube';
import { loadConfig } from '@app/platform';
import { randomBytes } from 'node:crypto';
import { configSchema } from './config';
import { networkPolicies, type RenderOptions, namespaceFiles } from '@app/plans';
import { testTenant } from './testing/fixtures';
import { renderOptionsFrom } from './wiring';

/**
 * The tenant NetworkPolicies on a real cluster whose network plugin enforces them (Calico or Cilium on kind or
 * k3d): fresh namespaces stand in for the tenant, a neighbour tenant, the shared services, the ingress controller,
 * monitoring and an unpoliced outsider; probe pods (`agnhost connect`, `dig`) try a few rows of the flow table
 * in network-policy.spec.ts. Every refusal is paired with a control that reaches the same server from a pod no
 * policy restricts, so a refusal means the policy, not a server that is down. Everything is deleted at the end.
 * Cluster facts come from the service's own NETWORK_POLICY_* variables (config.ts).
 */

const kubeconfig = process.env.KUBECONFIG;
const AGNHOST = process.env.NETWORK_POLICY_AGNHOST_IMAGE ?? 'registry.k8s.io/e2e-test-images/agnhost:2.52';
/** `host:port` of an HTTPS server on the internet; without it the internet rows are skipped, saying so. */
const internetTarget = process.env.NETWORK_POLICY_INTERNET_PROBE;
const POD_TIMEOUT_MS = 180_000;
const POLL_MS = 1000;
// Resources inside the tenant LimitRange's minimum, so probes fit any tier's quota.
const SMALL = { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '100m', memory: '128Mi' } };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface PodStatus {
  phase?: string;
  podIP?: string;
}

(kubeconfig ? describe : describe.skip)('tenant NetworkPolicies on a real cluster (KUBECONFIG)', () => {
  // Built in beforeAll: jest runs a skipped describe's body too, and there is no cluster then.
  let client: KubeClient;
  let options: RenderOptions;
  const suffix = randomBytes(3).toString('hex');
  const tenant = testTenant(suffix);
  const neighbour = testTenant(randomBytes(3).toString('hex'));
  const T = namespaceName(tenant.tenantId);
  const N = namespaceName(neighbour.tenantId);
  const shared = `np-shared-${suffix}`;
  const ingressNs = `np-ingress-${suffix}`;
  const monitoring = `np-monitoring-${suffix}`;
  const outside = `np-outside-${suffix}`;
  const created: KubeObject[] = [];
  const ips: Record<string, string> = {};
  let probes = 0;

  async function apply(object: KubeObject): Promise<void> {
    await client.apply(object);
    if (object.kind === 'Namespace') created.push(object);
  }

  async function waitForPod(namespace: string, name: string, done: (status: PodStatus) => boolean) {
    const deadline = Date.now() + POD_TIMEOUT_MS;
    for (;;) {
      const pod = await client.read('v1', 'Pod', name, namespace);
      const status = (pod?.status ?? {}) as PodStatus;
      if (done(status)) return status;
      if (Date.now() > deadline)
        throw new Error(`pod ${namespace}/${name} still ${status.phase ?? 'absent'}`);
      await sleep(POLL_MS);
    }
  }

  /** An agnhost `porter` serving each port, labelled as the workload it stands for; returns its IP. */
  async function server(namespace: string, name: string, labels: Record<string, string>, ports: number[]) {
    await apply({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace, labels },
      spec: {
        containers: [
          {
            name: 'server',
            image: AGNHOST,
            args: ['porter'],
            env: ports.map((port) => ({ name: `SERVE_PORT_${port}`, value: `${name}-${port}` })),
            ports: ports.map((port) => ({ containerPort: port })),
            resources: SMALL,
          },
        ],
      },
    });
    const status = await waitForPod(namespace, name, (s) => s.phase === 'Running' && Boolean(s.podIP));
    ips[`${namespace}/${name}`] = status.podIP!;
    return status.podIP!;
  }

  /** Runs one probe pod to completion: true when its command exited 0. */
  async function probe(namespace: string, labels: Record<string, string>, image: string, command: string[]) {
    const name = `probe-${++probes}`;
    await apply({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace, labels },
      spec: {
        restartPolicy: 'Never',
        containers: [{ name: 'probe', image, command, resources: SMALL }],
      },
    });
    const status = await waitForPod(namespace, name, (s) => s.phase === 'Succeeded' || s.phase === 'Failed');
    await client.delete({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace } });
    return status.phase === 'Succeeded';
  }

  const tcp = (namespace: string, labels: Record<string, string>, target: string) =>
    probe(namespace, labels, AGNHOST, ['/agnhost', 'connect', target, '--timeout=3s', '--protocol=tcp']);

  /** Policies reach the dataplane a moment after the API accepts them: retry before judging. */
  async function expectFlow(what: string, attempt: () => Promise<boolean>, expected: boolean) {
    let outcome = await attempt();
    for (let retry = 0; outcome !== expected && retry < 3; retry++) {
      await sleep(3000);
      outcome = await attempt();
    }
    expect({ flow: what, allowed: outcome }).toEqual({ flow: what, allowed: expected });
  }

  const tenantProbe = { role: 'np-probe' };
  const at = (ref: string, port: number) => `${ips[ref]}:${port}`;

  beforeAll(async () => {
    client = new KubeClient({ kubeconfig }, 'network-policy-int-spec');
    const base = renderOptionsFrom(loadConfig(configSchema, process.env));
    options = {
      ...base,
      managedBy: 'network-policy-int-spec',
      network: {
        ...base.network,
        sharedNamespace: shared,
        ingressControllerNamespace: ingressNs,
        monitoringNamespace: monitoring,
      },
    };
    for (const name of [shared, ingressNs, monitoring, outside]) {
      await apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
    }
    for (const profile of [tenant, neighbour]) {
      const [namespaceFile, ...rest] = namespaceFiles(profile, options);
      for (const object of namespaceFile.objects) await apply(object);
      for (const object of rest.flatMap((file) => file.objects)) await apply(object);
    }
    await Promise.all([
      server(T, 'api-gateway', { app: 'api-gateway' }, [8100, 9100]),
      server(T, 'products-service', { app: 'products-service' }, [8000, 9100]),
      server(N, 'products-service', { app: 'products-service' }, [8000]),
      server(shared, 'mysql', { app: 'mysql' }, [3306, 5432]),
    ]);
  }, 10 * POD_TIMEOUT_MS);

  afterAll(async () => {
    // Namespace deletion takes every pod and policy with it.
    for (const object of created.reverse()) await client?.delete(object);
  }, POD_TIMEOUT_MS);

  it('renders the policies the namespaces got', async () => {
    const names = (await client.list('networking.k8s.io/v1', 'NetworkPolicy', T)).map((p) => p.metadata.name);
    expect(names.sort()).toEqual(
      networkPolicies(tenant, options)
        .map((p) => p.metadata.name)
        .sort(),
    );
  });

  it(
    'inside the tenant: service to service is allowed; an outsider and the neighbour are refused',
    async () => {
      const products = at(`${T}/products-service`, 8000);
      const neighbourProducts = at(`${N}/products-service`, 8000);
      // Each server answers a pod of its own namespace, so a refusal below is the policy, not a server down.
      await expectFlow('tenant → products-service:8000', () => tcp(T, tenantProbe, products), true);
      await expectFlow(
        'neighbour → its own products-service:8000',
        () => tcp(N, tenantProbe, neighbourProducts),
        true,
      );
      await expectFlow(
        'the CNI enforces NetworkPolicy (an outsider must not reach an isolated tenant: use Calico or Cilium)',
        () => tcp(outside, {}, products),
        false,
      );
      await expectFlow(
        'neighbour → tenant products-service:8000',
        () => tcp(N, tenantProbe, products),
        false,
      );
      await expectFlow(
        'tenant → neighbour products-service:8000',
        () => tcp(T, tenantProbe, neighbourProducts),
        false,
      );
    },
    20 * POD_TIMEOUT_MS,
  );

  it(
    'DNS over UDP and TCP reaches kube-dns',
    async () => {
      // dig asks the resolver of the pod's resolv.conf: the kube-dns Service, which leads to the kube-dns pods.
      const dig = (transport: string) => [
        'dig',
        transport,
        '+time=2',
        '+tries=1',
        'kubernetes.default.svc.cluster.local',
      ];
      await expectFlow(
        'tenant → kube-dns over UDP',
        () => probe(T, tenantProbe, AGNHOST, dig('+notcp')),
        true,
      );
      await expectFlow('tenant → kube-dns over TCP', () => probe(T, tenantProbe, AGNHOST, dig('+tcp')), true);
    },
    10 * POD_TIMEOUT_MS,
  );

  it(
    'the shared MySQL on 3306 only',
    async () => {
      const mysql = `${shared}/mysql`;
      await expectFlow('tenant → shared mysql:3306', () => tcp(T, tenantProbe, at(mysql, 3306)), true);
      await expectFlow(
        'control: outsider → shared mysql:5432',
        () => tcp(outside, {}, at(mysql, 5432)),
        true,
      );
      await expectFlow('tenant → shared mysql:5432', () => tcp(T, tenantProbe, at(mysql, 5432)), false);
    },
    10 * POD_TIMEOUT_MS,
  );

  it(
    'the ingress controller reaches the api-gateway only; monitoring reaches the metrics port only',
    async () => {
      const controller = { ...options.network.ingressControllerPodLabels };
      await expectFlow(
        'ingress controller → api-gateway:8100',
        () => tcp(ingressNs, controller, at(`${T}/api-gateway`, 8100)),
        true,
      );
      await expectFlow(
        'ingress controller → products-service:8000',
        () => tcp(ingressNs, controller, at(`${T}/products-service`, 8000)),
        false,
      );
      await expectFlow(
        'monitoring → products-service:9100',
        () => tcp(monitoring, {}, at(`${T}/products-service`, 9100)),
        true,
      );
      await expectFlow(
        'monitoring → products-service:8000',
        () => tcp(monitoring, {}, at(`${T}/products-service`, 8000)),
        false,
      );
    },
    20 * POD_TIMEOUT_MS,
  );

  (internetTarget ? it : it.skip)(
    'HTTPS to the internet, not HTTP',
    async () => {
      const host = internetTarget!.split(':')[0];
      await expectFlow(`tenant → ${internetTarget}`, () => tcp(T, tenantProbe, internetTarget!), true);
      await expectFlow(`control: outsider → ${host}:80`, () => tcp(outside, {}, `${host}:80`), true);
      await expectFlow(`tenant → ${host}:80`, () => tcp(T, tenantProbe, `${host}:80`), false);
    },
    10 * POD_TIMEOUT_MS,
  );
});

if (!kubeconfig) {
  // eslint-disable-next-line no-console
  console.info(
    'tenant NetworkPolicy real-cluster suite skipped: KUBECONFIG is not set (it needs a cluster whose CNI enforces NetworkPolicy)',
  );
} else if (!internetTarget) {
  // eslint-disable-next-line no-console
  console.info('internet HTTPS rows skipped: set NETWORK_POLICY_INTERNET_PROBE=<ip-or-host>:443 to run them');
}
