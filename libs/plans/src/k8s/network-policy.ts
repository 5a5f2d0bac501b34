import { type TenantProfile, namespaceName } from '@app/contracts';
import type { KubeObject } from '@app/kube';
import { permanent } from '@app/platform';
import { API_GATEWAY, API_GATEWAY_PORT, METRICS_PORT, commonLabels } from './manifests';
import type { NetworkRenderOptions, RenderOptions } from './render-options';

/**
 * The tenant's NetworkPolicies (spec 2.3, made to work on a real cluster). Policies are additive: a pod may send
 * or receive what any policy selecting it allows, so the set is a default deny plus one small policy per need.
 * `tenant-isolation` keeps the spec's name and denies everything both ways except traffic inside the namespace;
 * the others each open one thing. Namespaces are matched by `kubernetes.io/metadata.name`, the only label every
 * namespace carries. Pure: no I/O.
 */

export const TENANT_ISOLATION = 'tenant-isolation';
export const ALLOW_DNS = 'allow-dns-egress';
export const ALLOW_SHARED_SERVICES = 'allow-shared-services-egress';
export const ALLOW_INTERNET_HTTPS = 'allow-internet-https-egress';
export const ALLOW_INGRESS_CONTROLLER = 'allow-ingress-controller';
export const ALLOW_ACME_SOLVER = 'allow-acme-http01-solver';
export const ALLOW_MONITORING = 'allow-monitoring-scrape';

/** Set by the API server on every namespace (Kubernetes 1.21+); no other namespace label can be relied on. */
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';
export const KUBE_DNS = { namespace: 'kube-system', podLabels: { 'k8s-app': 'kube-dns' }, port: 53 } as const;
/** Spec 2.3's shared endpoints: pods `app: <app>` in the shared namespace. */
export const SHARED_ENDPOINTS = [
  { app: 'mysql', port: 3306 },
  { app: 'rabbitmq', port: 5672 },
  { app: 'minio', port: 9000 },
] as const;
export type SharedEndpoint = (typeof SHARED_ENDPOINTS)[number]['app'];
export const HTTPS_PORT = 443;
export const ANY_IPV4 = '0.0.0.0/0';
/** Link-local holds the cloud metadata endpoint (169.254.169.254), which hands out node credentials. */
export const LINK_LOCAL = '169.254.0.0/16';
/**
 * cert-manager's HTTP-01 solver pods, which it runs in the Certificate's namespace and the ingress controller
 * routes `/.well-known/acme-challenge/` to: without this the tenant's certificate is never issued.
 */
export const ACME_HTTP01_SOLVER = {
  podLabels: { 'acme.cert-manager.io/http01-solver': 'true' },
  port: 8089,
} as const;

// IPv4 CIDR arithmetic ------------------------------------------------------------------------------------
const OCTET = '(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])';
const IPV4 = new RegExp(`^${OCTET}\\.${OCTET}\\.${OCTET}\\.${OCTET}$`);
const PREFIX = /^(3[0-2]|[12]?[0-9])$/;

export interface Ipv4Cidr {
  /** The network address as an unsigned 32-bit integer (host bits cleared). */
  network: number;
  prefix: number;
  /** False when the text had host bits set (`10.0.0.1/8`), which the API server accepts but we never render. */
  canonical: boolean;
}

/** An IPv4 address as an unsigned 32-bit integer; undefined if not dotted-quad (leading zeros refused, as Go). */
export function parseIpv4(address: string): number | undefined {
  const match = IPV4.exec(address);
  if (!match) return undefined;
  return match.slice(1, 5).reduce((value, octet) => value * 256 + Number(octet), 0);
}

function mask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

export function parseIpv4Cidr(cidr: string): Ipv4Cidr | undefined {
  const [address, prefixText, ...rest] = cidr.split('/');
  if (rest.length > 0 || prefixText === undefined || !PREFIX.test(prefixText)) return undefined;
  const value = parseIpv4(address);
  if (value === undefined) return undefined;
  const prefix = Number(prefixText);
  const network = (value & mask(prefix)) >>> 0;
  return { network, prefix, canonical: network === value };
}

export function cidrContains(cidr: Ipv4Cidr, address: number): boolean {
  return (address & mask(cidr.prefix)) >>> 0 === cidr.network;
}

/** `inner` lies inside `outer` (equal counts). */
export function cidrWithin(inner: Ipv4Cidr, outer: Ipv4Cidr): boolean {
  return inner.prefix >= outer.prefix && cidrContains(outer, inner.network);
}

/**
 * What configuration may hold: a canonical IPv4 CIDR narrower than the whole address space (an `except` of
 * `0.0.0.0/0` would be the whole block, which the API server refuses).
 */
export function isCanonicalIpv4Cidr(value: string): boolean {
  const cidr = parseIpv4Cidr(value);
  return cidr !== undefined && cidr.canonical && cidr.prefix > 0;
}

function checkedCidrs(cidrs: readonly string[]): string[] {
  const invalid = cidrs.filter((cidr) => !isCanonicalIpv4Cidr(cidr));
  if (invalid.length > 0) {
    throw permanent(
      'K8S.INVALID_NETWORK_CIDR',
      `not canonical IPv4 CIDRs (a.b.c.d/n, n 1-32, no host bits): ${invalid.join(', ')}`,
    );
  }
  return [...new Set(cidrs)];
}

// Policies ------------------------------------------------------------------------------------------------
function namespaceSelector(name: string) {
  return { matchLabels: { [NAMESPACE_NAME_LABEL]: name } };
}

/**
 * A pod selector kustomize leaves alone. Its `commonLabels` adds the tenant's labels to every existing
 * `matchLabels` of a NetworkPolicy's `podSelector` and of its `from`/`to` peers, which would demand them of
 * kube-dns, MySQL, ingress-nginx and cert-manager's solver pods; it never touches `matchExpressions`.
 */
function podsLabelled(labels: Readonly<Record<string, string>>) {
  return {
    matchExpressions: Object.entries(labels).map(([key, value]) => ({
      key,
      operator: 'In',
      values: [value],
    })),
  };
}

function policy(
  name: string,
  tenant: TenantProfile,
  options: RenderOptions,
  spec: Record<string, unknown>,
): KubeObject {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name, namespace: namespaceName(tenant.tenantId), labels: commonLabels(tenant, options) },
    spec,
  };
}

/** Excluded from the internet rule: the cluster's own ranges, private and link-local space. */
export function internetExceptions(network: NetworkRenderOptions): string[] {
  return checkedCidrs([...network.podCidrs, ...network.serviceCidrs, ...network.privateCidrs, LINK_LOCAL]);
}

function sharedRule(network: NetworkRenderOptions, app: SharedEndpoint, port: number) {
  const cidrs = checkedCidrs(network.sharedCidrs[app]);
  const to =
    cidrs.length > 0
      ? cidrs.map((cidr) => ({ ipBlock: { cidr } }))
      : [
          {
            namespaceSelector: namespaceSelector(network.sharedNamespace),
            podSelector: podsLabelled({ app }),
          },
        ];
  return { to, ports: [{ protocol: 'TCP', port }] };
}

function fromIngressController(network: NetworkRenderOptions) {
  return {
    namespaceSelector: namespaceSelector(network.ingressControllerNamespace),
    podSelector: podsLabelled(network.ingressControllerPodLabels),
  };
}

/**
 * Every NetworkPolicy of the tenant, `tenant-isolation` first: the content of `network-policy.yaml`. Each object
 * is built from fresh literals: YAML renders an object shared between two places as an anchor and an alias.
 */
export function networkPolicies(tenant: TenantProfile, options: RenderOptions): KubeObject[] {
  const network = options.network;
  return [
    policy(TENANT_ISOLATION, tenant, options, {
      podSelector: {},
      policyTypes: ['Ingress', 'Egress'],
      ingress: [{ from: [{ podSelector: {} }] }],
      egress: [{ to: [{ podSelector: {} }] }],
    }),
    // Large answers and zone transfers fall back to TCP: UDP alone breaks resolution intermittently.
    policy(ALLOW_DNS, tenant, options, {
      podSelector: {},
      policyTypes: ['Egress'],
      egress: [
        {
          to: [
            {
              namespaceSelector: namespaceSelector(KUBE_DNS.namespace),
              podSelector: podsLabelled(KUBE_DNS.podLabels),
            },
          ],
          ports: [
            { protocol: 'UDP', port: KUBE_DNS.port },
            { protocol: 'TCP', port: KUBE_DNS.port },
          ],
        },
      ],
    }),
    policy(ALLOW_SHARED_SERVICES, tenant, options, {
      podSelector: {},
      policyTypes: ['Egress'],
      egress: SHARED_ENDPOINTS.map(({ app, port }) => sharedRule(network, app, port)),
    }),
    // Payment and mail APIs live outside the cluster, which only an ipBlock reaches (`namespaceSelector: {}`
    // matches cluster pods only); the exceptions keep this rule from opening other tenants or cloud metadata.
    policy(ALLOW_INTERNET_HTTPS, tenant, options, {
      podSelector: {},
      policyTypes: ['Egress'],
      egress: [
        {
          to: [{ ipBlock: { cidr: ANY_IPV4, except: internetExceptions(network) } }],
          ports: [{ protocol: 'TCP', port: HTTPS_PORT }],
        },
      ],
    }),
    policy(ALLOW_INGRESS_CONTROLLER, tenant, options, {
      podSelector: { matchLabels: { app: API_GATEWAY } },
      policyTypes: ['Ingress'],
      ingress: [
        { from: [fromIngressController(network)], ports: [{ protocol: 'TCP', port: API_GATEWAY_PORT }] },
      ],
    }),
    policy(ALLOW_ACME_SOLVER, tenant, options, {
      podSelector: podsLabelled(ACME_HTTP01_SOLVER.podLabels),
      policyTypes: ['Ingress'],
      ingress: [
        {
          from: [fromIngressController(network)],
          ports: [{ protocol: 'TCP', port: ACME_HTTP01_SOLVER.port }],
        },
      ],
    }),
    policy(ALLOW_MONITORING, tenant, options, {
      podSelector: {},
      policyTypes: ['Ingress'],
      ingress: [
        {
          from: [{ namespaceSelector: namespaceSelector(network.monitoringNamespace) }],
          ports: [{ protocol: 'TCP', port: METRICS_PORT }],
        },
      ],
    }),
  ];
}
