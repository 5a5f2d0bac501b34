import { type TenantProfile, namespaceName } from '@app/contracts';
import { type KubeObject, assertValidObject } from '@app/kube';
import { parseAllDocuments } from 'yaml';
import { abcCorporation, suffixedTenant } from '../testing/fixtures';
import {
  type ClusterNamespace,
  type ClusterPod,
  type Endpoint,
  NetworkPolicyEvaluator,
} from './testing/network-policy-evaluator';
import type { Protocol } from './testing/network-policy-parser';
import { commonLabels, deployments, namespace, services } from './manifests';
import {
  TENANT_ISOLATION,
  cidrContains,
  isCanonicalIpv4Cidr,
  networkPolicies,
  parseIpv4,
  parseIpv4Cidr,
} from './network-policy';
import { DEFAULT_RENDER_OPTIONS, type RenderOptions } from './render-options';
import { KUSTOMIZATION, fileContent, namespaceFiles, renderIndexes } from './tenant-tree';

const options = DEFAULT_RENDER_OPTIONS;
const tenant = abcCorporation('premium');
const neighbour = suffixedTenant('1a2b3c');
const T = namespaceName(tenant.tenantId);
const N = namespaceName(neighbour.tenantId);

/** One pod per rendered Deployment, with the template's labels and container ports, at `10.244.<subnet>.<n>`. */
function workloadPods(profile: TenantProfile, subnet: number): ClusterPod[] {
  return deployments(profile, options).map((deployment, index) => {
    const template = (
      deployment.spec as {
        template: { metadata: { labels: Record<string, string> }; spec: { containers: { ports: [] }[] } };
      }
    ).template;
    return {
      namespace: namespaceName(profile.tenantId),
      name: `${deployment.metadata.name}-0`,
      ip: `10.244.${subnet}.${index + 10}`,
      labels: template.metadata.labels,
      ports: template.spec.containers.flatMap((container) => container.ports),
    };
  });
}

const namespaces: ClusterNamespace[] = [
  { name: T, labels: namespace(tenant, options).metadata.labels },
  { name: N, labels: namespace(neighbour, options).metadata.labels },
  { name: 'kube-system' },
  { name: 'e-commerce-shared' },
  // Carries the custom `name` label the spec's policy matched on: anyone who can label a namespace gets in.
  { name: 'lookalike', labels: { name: 'e-commerce-shared' } },
  { name: 'ingress-nginx' },
  { name: 'monitoring' },
  { name: 'default' },
];

const pods: ClusterPod[] = [
  ...workloadPods(tenant, 1),
  ...workloadPods(neighbour, 2),
  {
    namespace: T,
    name: 'cm-acme-http-solver-0',
    ip: '10.244.1.200',
    labels: { 'acme.cert-manager.io/http01-solver': 'true' },
    ports: [{ name: 'http', containerPort: 8089 }],
  },
  {
    namespace: 'kube-system',
    name: 'coredns-0',
    ip: '10.244.0.2',
    labels: { 'k8s-app': 'kube-dns' },
    ports: [
      { name: 'dns', containerPort: 53, protocol: 'UDP' },
      { name: 'dns-tcp', containerPort: 53, protocol: 'TCP' },
      { name: 'metrics', containerPort: 9153 },
    ],
  },
  { namespace: 'kube-system', name: 'node-local-thing-0', ip: '10.244.0.3', labels: { 'k8s-app': 'other' } },
  { namespace: 'e-commerce-shared', name: 'mysql-0', ip: '10.244.3.2', labels: { app: 'mysql' } },
  { namespace: 'e-commerce-shared', name: 'rabbitmq-0', ip: '10.244.3.3', labels: { app: 'rabbitmq' } },
  { namespace: 'e-commerce-shared', name: 'minio-0', ip: '10.244.3.4', labels: { app: 'minio' } },
  { namespace: 'lookalike', name: 'mysql-0', ip: '10.244.4.2', labels: { app: 'mysql' } },
  {
    namespace: 'ingress-nginx',
    name: 'ingress-nginx-controller-0',
    ip: '10.244.5.2',
    labels: { 'app.kubernetes.io/name': 'ingress-nginx', 'app.kubernetes.io/component': 'controller' },
  },
  { namespace: 'ingress-nginx', name: 'debug-0', ip: '10.244.5.3', labels: { app: 'debug' } },
  {
    namespace: 'monitoring',
    name: 'prometheus-0',
    ip: '10.244.6.2',
    labels: { 'app.kubernetes.io/name': 'prometheus' },
  },
  { namespace: 'default', name: 'curl-0', ip: '10.244.7.2', labels: { run: 'curl' } },
];

function cluster(policies: KubeObject[], podList: ClusterPod[] = pods): NetworkPolicyEvaluator {
  return new NetworkPolicyEvaluator({ namespaces, pods: podList, policies });
}
/** Both tenants with their own policies, as on a shared cluster. */
const rendered = (opts: RenderOptions = options) => [
  ...networkPolicies(tenant, opts),
  ...networkPolicies(neighbour, opts),
];

const pod = (namespaceOf: string, name: string): Endpoint => ({ pod: `${namespaceOf}/${name}` });
const ip = (address: string): Endpoint => ({ ip: address });
const gateway = pod(T, 'api-gateway-0');
const products = pod(T, 'products-service-0');
const orders = pod(T, 'orders-service-0');
const solver = pod(T, 'cm-acme-http-solver-0');
const kubeDns = pod('kube-system', 'coredns-0');
const otherKubeSystem = pod('kube-system', 'node-local-thing-0');
const mysql = pod('e-commerce-shared', 'mysql-0');
const rabbitmq = pod('e-commerce-shared', 'rabbitmq-0');
const minio = pod('e-commerce-shared', 'minio-0');
const lookalikeMysql = pod('lookalike', 'mysql-0');
const ingressController = pod('ingress-nginx', 'ingress-nginx-controller-0');
const ingressNamespaceOther = pod('ingress-nginx', 'debug-0');
const prometheus = pod('monitoring', 'prometheus-0');
const otherNamespace = pod('default', 'curl-0');
const neighbourGateway = pod(N, 'api-gateway-0');
const neighbourProducts = pod(N, 'products-service-0');

type Row = [string, Endpoint, Endpoint, Protocol, number, 'allowed' | 'refused'];

/** The flows a shop needs, and the ones isolation must refuse. */
const FLOWS: Row[] = [
  ['api-gateway → products-service', gateway, products, 'TCP', 8000, 'allowed'],
  ['a service → another service', products, orders, 'TCP', 8000, 'allowed'],
  ['pod → kube-dns over UDP', products, kubeDns, 'UDP', 53, 'allowed'],
  ['pod → kube-dns over TCP (large answers)', products, kubeDns, 'TCP', 53, 'allowed'],
  ['pod → kube-dns on another port', products, kubeDns, 'TCP', 80, 'refused'],
  ['pod → another kube-system pod on 53', products, otherKubeSystem, 'UDP', 53, 'refused'],
  ['pod → shared MySQL', products, mysql, 'TCP', 3306, 'allowed'],
  ['pod → shared RabbitMQ', products, rabbitmq, 'TCP', 5672, 'allowed'],
  ['pod → shared MinIO', products, minio, 'TCP', 9000, 'allowed'],
  ['pod → shared MySQL on 5432', products, mysql, 'TCP', 5432, 'refused'],
  ['pod → shared RabbitMQ on the MySQL port', products, rabbitmq, 'TCP', 3306, 'refused'],
  [
    'pod → a mysql pod in a namespace labelled name=e-commerce-shared',
    products,
    lookalikeMysql,
    'TCP',
    3306,
    'refused',
  ],
  ['pod → internet HTTPS', products, ip('203.0.113.10'), 'TCP', 443, 'allowed'],
  ['pod → internet HTTP', products, ip('203.0.113.10'), 'TCP', 80, 'refused'],
  ['pod → cloud metadata :80', products, ip('169.254.169.254'), 'TCP', 80, 'refused'],
  ['pod → cloud metadata :443', products, ip('169.254.169.254'), 'TCP', 443, 'refused'],
  ['pod → a pod-CIDR address :443', products, ip('10.244.200.7'), 'TCP', 443, 'refused'],
  ['pod → a Service-CIDR address :443', products, ip('10.96.0.1'), 'TCP', 443, 'refused'],
  ['pod → a private address :443', products, ip('192.168.1.20'), 'TCP', 443, 'refused'],
  ['ingress controller → api-gateway', ingressController, gateway, 'TCP', 8100, 'allowed'],
  ['ingress controller → products-service', ingressController, products, 'TCP', 8000, 'refused'],
  ['ingress controller → api-gateway metrics', ingressController, gateway, 'TCP', 9100, 'refused'],
  ['ingress controller → ACME HTTP-01 solver', ingressController, solver, 'TCP', 8089, 'allowed'],
  [
    'another pod of the ingress namespace → api-gateway',
    ingressNamespaceOther,
    gateway,
    'TCP',
    8100,
    'refused',
  ],
  ['a pod of another namespace → api-gateway', otherNamespace, gateway, 'TCP', 8100, 'refused'],
  ['the internet → api-gateway directly', ip('203.0.113.10'), gateway, 'TCP', 8100, 'refused'],
  ['Prometheus → api-gateway metrics', prometheus, gateway, 'TCP', 9100, 'allowed'],
  ['Prometheus → products-service metrics', prometheus, products, 'TCP', 9100, 'allowed'],
  ['Prometheus → products-service application port', prometheus, products, 'TCP', 8000, 'refused'],
  ["neighbour tenant's gateway → products-service", neighbourGateway, products, 'TCP', 8000, 'refused'],
  ["neighbour tenant's service → api-gateway", neighbourProducts, gateway, 'TCP', 8100, 'refused'],
  ["api-gateway → neighbour tenant's service", gateway, neighbourProducts, 'TCP', 8000, 'refused'],
  ["a service → neighbour tenant's gateway on 443", products, neighbourGateway, 'TCP', 443, 'refused'],
];

const rows = FLOWS.map(([what, from, to, protocol, port, expected]) => ({
  what,
  from,
  to,
  protocol,
  port,
  expected,
}));

function checkRow(evaluator: NetworkPolicyEvaluator, row: (typeof rows)[number]): void {
  const verdict = evaluator.evaluate({ from: row.from, to: row.to, protocol: row.protocol, port: row.port });
  // The verdict rides along so a failure shows which side refused and which rule allowed.
  expect({ result: verdict.allowed ? 'allowed' : 'refused', verdict }).toEqual({
    result: row.expected,
    verdict: expect.anything(),
  });
}

describe('spec 2.3 NetworkPolicies: the flow table, evaluated on the rendered objects', () => {
  const evaluator = cluster(rendered());

  it.each(rows)('$what: $protocol/$port is $expected', (row) => checkRow(evaluator, row));

  it('isolates every tenant pod both ways, so the table is not passing by default-allow', () => {
    for (const target of [gateway, products, solver]) {
      const verdict = evaluator.evaluate({ from: otherNamespace, to: target, port: 1 });
      expect(verdict.ingress).toEqual({ isolated: true, allowed: false });
      expect(evaluator.evaluate({ from: target, to: otherNamespace, port: 1 }).egress).toEqual({
        isolated: true,
        allowed: false,
      });
    }
  });
});

/**
 * What `kustomize build` makes of a tenant's tree (GitOps mode): the labels its kustomization puts into
 * selectors are added to each NetworkPolicy's `spec.podSelector.matchLabels` and to its `from`/`to` peers'
 * `podSelector.matchLabels`, where those exist (kustomize's built-in field specs, `create: false`), and to the
 * pod templates of the Deployments. Pods other controllers create (cert-manager's solver) get none of them.
 */
function kustomizeLabels(profile: TenantProfile): {
  selectors: Record<string, string>;
  pods: Record<string, string>;
} {
  const index = renderIndexes(profile, options, new Set(['network-policy.yaml']))[KUSTOMIZATION]!;
  const document = parseAllDocuments(index)[0].toJSON() as {
    commonLabels?: Record<string, string>;
    labels?: { pairs: Record<string, string>; includeSelectors?: boolean; includeTemplates?: boolean }[];
  };
  const entries = document.labels ?? [];
  const selectors = Object.assign(
    {},
    document.commonLabels,
    ...entries.filter((entry) => entry.includeSelectors).map((entry) => entry.pairs),
  ) as Record<string, string>;
  const templates = Object.assign(
    {},
    ...entries.filter((entry) => entry.includeTemplates).map((entry) => entry.pairs),
  ) as Record<string, string>;
  return { selectors, pods: { ...templates, ...selectors } };
}

function asKustomizeBuilds(policy: KubeObject, selectorLabels: Record<string, string>): KubeObject {
  const withLabels = (selector: { matchLabels?: Record<string, string> } | undefined) =>
    selector?.matchLabels
      ? { ...selector, matchLabels: { ...selector.matchLabels, ...selectorLabels } }
      : selector;
  type Peer = { podSelector?: { matchLabels?: Record<string, string> } };
  const peers = (list: Peer[] | undefined) =>
    list?.map((peer) => (peer.podSelector ? { ...peer, podSelector: withLabels(peer.podSelector) } : peer));
  const spec = policy.spec as {
    podSelector: { matchLabels?: Record<string, string> };
    ingress?: { from?: Peer[] }[];
    egress?: { to?: Peer[] }[];
  };
  return {
    ...policy,
    spec: {
      ...spec,
      podSelector: withLabels(spec.podSelector),
      ...(spec.ingress ? { ingress: spec.ingress.map((rule) => ({ ...rule, from: peers(rule.from) })) } : {}),
      ...(spec.egress ? { egress: spec.egress.map((rule) => ({ ...rule, to: peers(rule.to) })) } : {}),
    },
  };
}

describe('spec 2.3 NetworkPolicies: the flow table, as kustomize builds the tree (GitOps)', () => {
  const built = [tenant, neighbour].map((profile) => ({ profile, labels: kustomizeLabels(profile) }));
  const policies = built.flatMap(({ profile, labels }) =>
    networkPolicies(profile, options).map((policy) => asKustomizeBuilds(policy, labels.selectors)),
  );
  const workloadNamespaces = new Map(
    built.map(({ profile, labels }) => [namespaceName(profile.tenantId), labels]),
  );
  const builtPods = pods.map((pod) =>
    workloadNamespaces.has(pod.namespace) && !pod.name.startsWith('cm-acme')
      ? { ...pod, labels: { ...pod.labels, ...workloadNamespaces.get(pod.namespace)!.pods } }
      : pod,
  );
  const evaluator = cluster(policies, builtPods);

  it.each(rows)('$what: $protocol/$port is $expected', (row) => checkRow(evaluator, row));
});

describe('spec 2.3 NetworkPolicies: objects', () => {
  const policies = networkPolicies(tenant, options);

  it('keeps the spec name for the default-deny policy and validates every object with the common labels', () => {
    expect(policies[0].metadata.name).toBe(TENANT_ISOLATION);
    expect(policies[0].spec).toMatchObject({ podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
    expect(new Set(policies.map((p) => p.metadata.name)).size).toBe(policies.length);
    for (const object of policies) {
      expect(() => assertValidObject(object)).not.toThrow();
      expect(object.metadata.namespace).toBe(T);
      expect(object.metadata.labels).toEqual(commonLabels(tenant, options));
    }
  });

  it('matches namespaces only by kubernetes.io/metadata.name, never by a custom label', () => {
    const selectors: unknown[] = [];
    const collect = (value: unknown): void => {
      if (Array.isArray(value)) value.forEach(collect);
      else if (value && typeof value === 'object') {
        for (const [key, inner] of Object.entries(value)) {
          if (key === 'namespaceSelector') selectors.push(inner);
          else collect(inner);
        }
      }
    };
    collect(policies);
    expect(selectors.length).toBeGreaterThanOrEqual(5);
    for (const selector of selectors) {
      expect(selector).toEqual({ matchLabels: { 'kubernetes.io/metadata.name': expect.any(String) } });
    }
  });

  it('network-policy.yaml holds every policy as plain YAML (no anchors or aliases)', () => {
    const file = namespaceFiles(tenant, options).find((f) => f.path === 'network-policy.yaml')!;
    const content = fileContent(file);
    expect(content).not.toMatch(/[&*]a\d/);
    expect(parseAllDocuments(content).map((doc) => doc.toJSON())).toEqual(policies);
  });

  it('every Service metrics port targets a container port named metrics (9100), which Prometheus scrapes', () => {
    for (const service of services(tenant, options)) {
      const ports = (service.spec as { ports: { name: string; port: number; targetPort: unknown }[] }).ports;
      expect(ports.find((p) => p.name === 'metrics')).toEqual({
        name: 'metrics',
        port: 9100,
        targetPort: 'metrics',
      });
    }
    for (const pod of workloadPods(tenant, 1)) {
      expect(pod.ports).toContainEqual({ name: 'metrics', containerPort: 9100 });
      expect(pod.ports!.filter((p) => p.containerPort === 9100)).toHaveLength(1);
    }
  });
});

describe('spec 2.3 NetworkPolicies: configuration', () => {
  const withNetwork = (network: Partial<RenderOptions['network']>): RenderOptions => ({
    ...options,
    network: { ...options.network, ...network },
  });

  it('excepts the configured pod CIDR from the internet rule, even outside the private ranges', () => {
    const podAddress = ip('198.18.7.9');
    expect(
      cluster(rendered(withNetwork({ podCidrs: [] }))).allows({ from: products, to: podAddress, port: 443 }),
    ).toBe(true);
    expect(
      cluster(rendered(withNetwork({ podCidrs: ['198.18.0.0/15'] }))).allows({
        from: products,
        to: podAddress,
        port: 443,
      }),
    ).toBe(false);
  });

  it('keeps link-local (cloud metadata) out of the internet rule whatever the private ranges say', () => {
    const evaluator = cluster(rendered(withNetwork({ privateCidrs: [] })));
    expect(evaluator.allows({ from: products, to: ip('169.254.169.254'), port: 443 })).toBe(false);
    expect(evaluator.allows({ from: products, to: ip('10.1.2.3'), port: 443 })).toBe(true);
  });

  it('reaches a shared endpoint outside the cluster by CIDR instead of the pod selector', () => {
    const evaluator = cluster(
      rendered(withNetwork({ sharedCidrs: { mysql: ['10.20.0.0/24'], rabbitmq: [], minio: [] } })),
    );
    expect(evaluator.allows({ from: products, to: ip('10.20.0.5'), port: 3306 })).toBe(true);
    expect(evaluator.allows({ from: products, to: mysql, port: 3306 })).toBe(false);
    expect(evaluator.allows({ from: products, to: rabbitmq, port: 5672 })).toBe(true);
  });

  it('follows the configured ingress controller, monitoring and shared namespaces', () => {
    const evaluator = cluster(
      rendered(
        withNetwork({
          ingressControllerNamespace: 'default',
          ingressControllerPodLabels: { run: 'curl' },
          monitoringNamespace: 'ingress-nginx',
          sharedNamespace: 'lookalike',
        }),
      ),
    );
    expect(evaluator.allows({ from: otherNamespace, to: gateway, port: 8100 })).toBe(true);
    expect(evaluator.allows({ from: ingressController, to: gateway, port: 8100 })).toBe(false);
    expect(evaluator.allows({ from: ingressNamespaceOther, to: products, port: 9100 })).toBe(true);
    expect(evaluator.allows({ from: prometheus, to: products, port: 9100 })).toBe(false);
    expect(evaluator.allows({ from: products, to: lookalikeMysql, port: 3306 })).toBe(true);
    expect(evaluator.allows({ from: products, to: mysql, port: 3306 })).toBe(false);
  });

  it('refuses to render a CIDR that is not canonical IPv4', () => {
    expect(() => networkPolicies(tenant, withNetwork({ podCidrs: ['10.244.0.1/16'] }))).toThrow(
      expect.objectContaining({ code: 'K8S.INVALID_NETWORK_CIDR' }),
    );
  });
});

describe('IPv4 CIDR arithmetic', () => {
  it('parses dotted quads strictly', () => {
    expect(parseIpv4('203.0.113.10')).toBe(0xcb00710a);
    expect(parseIpv4('255.255.255.255')).toBe(0xffffffff);
    for (const bad of ['256.0.0.1', '01.2.3.4', '1.2.3', '1.2.3.4.5', ' 1.2.3.4', '::1']) {
      expect(parseIpv4(bad)).toBeUndefined();
    }
  });

  it('contains, with /0 and /32 edges', () => {
    const contains = (cidr: string, address: string) =>
      cidrContains(parseIpv4Cidr(cidr)!, parseIpv4(address)!);
    expect(contains('0.0.0.0/0', '255.255.255.255')).toBe(true);
    expect(contains('172.16.0.0/12', '172.31.255.255')).toBe(true);
    expect(contains('172.16.0.0/12', '172.32.0.0')).toBe(false);
    expect(contains('169.254.169.254/32', '169.254.169.254')).toBe(true);
    expect(contains('169.254.169.254/32', '169.254.169.253')).toBe(false);
    expect(contains('128.0.0.0/1', '200.0.0.1')).toBe(true);
    expect(contains('128.0.0.0/1', '127.255.255.255')).toBe(false);
  });

  it('accepts only canonical CIDRs narrower than /0 as configuration', () => {
    expect(isCanonicalIpv4Cidr('10.96.0.0/12')).toBe(true);
    expect(isCanonicalIpv4Cidr('10.96.0.1/12')).toBe(false);
    expect(isCanonicalIpv4Cidr('0.0.0.0/0')).toBe(false);
    expect(isCanonicalIpv4Cidr('10.0.0.0/33')).toBe(false);
    expect(isCanonicalIpv4Cidr('10.0.0.0/08')).toBe(false);
    expect(isCanonicalIpv4Cidr('10.0.0.0')).toBe(false);
    expect(isCanonicalIpv4Cidr('fd00::/8')).toBe(false);
  });
});
