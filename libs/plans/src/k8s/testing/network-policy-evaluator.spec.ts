import type { KubeObject } from '@app/kube';
import {
  type ClusterNamespace,
  type ClusterPod,
  type Endpoint,
  NetworkPolicyEvaluator,
} from './network-policy-evaluator';
import { InvalidPolicy } from './network-policy-parser';

/**
 * The evaluator against the Kubernetes documentation's own examples (concepts page "Network Policies" and its
 * example files, task "Declare Network Policy"), with the outcomes the documentation states for them.
 */

function policy(name: string, namespace: string, spec: Record<string, unknown>): KubeObject {
  return { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace }, spec };
}
const pod = (ref: string): Endpoint => ({ pod: ref });
const ip = (address: string): Endpoint => ({ ip: address });

function evaluator(
  policies: KubeObject[],
  pods: ClusterPod[],
  namespaces: ClusterNamespace[] = [...new Set(pods.map((p) => p.namespace))].map((name) => ({ name })),
): NetworkPolicyEvaluator {
  return new NetworkPolicyEvaluator({ namespaces, pods, policies });
}

describe('the concepts page example (test-network-policy)', () => {
  const testNetworkPolicy = policy('test-network-policy', 'default', {
    podSelector: { matchLabels: { role: 'db' } },
    policyTypes: ['Ingress', 'Egress'],
    ingress: [
      {
        from: [
          { ipBlock: { cidr: '172.17.0.0/16', except: ['172.17.1.0/24'] } },
          { namespaceSelector: { matchLabels: { project: 'myproject' } } },
          { podSelector: { matchLabels: { role: 'frontend' } } },
        ],
        ports: [{ protocol: 'TCP', port: 6379 }],
      },
    ],
    egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/24' } }], ports: [{ protocol: 'TCP', port: 5978 }] }],
  });
  const cluster = evaluator(
    [testNetworkPolicy],
    [
      { namespace: 'default', name: 'db', ip: '10.1.0.10', labels: { role: 'db' } },
      { namespace: 'default', name: 'frontend', ip: '10.1.0.11', labels: { role: 'frontend' } },
      { namespace: 'default', name: 'backend', ip: '10.1.0.12', labels: { role: 'backend' } },
      { namespace: 'mine', name: 'anything', ip: '10.1.1.10', labels: { role: 'whatever' } },
      { namespace: 'elsewhere', name: 'frontend', ip: '10.1.2.10', labels: { role: 'frontend' } },
    ],
    [
      { name: 'default' },
      { name: 'mine', labels: { project: 'myproject' } },
      { name: 'elsewhere', labels: { project: 'theirs' } },
    ],
  );
  const db = pod('default/db');

  it('allows TCP 6379 to role=db from role=frontend pods of its own namespace only', () => {
    expect(cluster.allows({ from: pod('default/frontend'), to: db, port: 6379 })).toBe(true);
    expect(cluster.allows({ from: pod('elsewhere/frontend'), to: db, port: 6379 })).toBe(false);
    expect(cluster.allows({ from: pod('default/backend'), to: db, port: 6379 })).toBe(false);
  });

  it('allows any pod of a namespace labelled project=myproject', () => {
    expect(cluster.allows({ from: pod('mine/anything'), to: db, port: 6379 })).toBe(true);
  });

  it('allows 172.17.0.0–172.17.0.255 and 172.17.2.0–172.17.255.255, not 172.17.1.0/24', () => {
    expect(cluster.allows({ from: ip('172.17.0.255'), to: db, port: 6379 })).toBe(true);
    expect(cluster.allows({ from: ip('172.17.1.0'), to: db, port: 6379 })).toBe(false);
    expect(cluster.allows({ from: ip('172.17.1.255'), to: db, port: 6379 })).toBe(false);
    expect(cluster.allows({ from: ip('172.17.2.0'), to: db, port: 6379 })).toBe(true);
    expect(cluster.allows({ from: ip('172.17.255.255'), to: db, port: 6379 })).toBe(true);
    expect(cluster.allows({ from: ip('172.18.0.0'), to: db, port: 6379 })).toBe(false);
  });

  it('matches traffic on protocol TCP and port 6379 only', () => {
    expect(cluster.allows({ from: pod('default/frontend'), to: db, port: 6380 })).toBe(false);
    expect(cluster.allows({ from: pod('default/frontend'), to: db, protocol: 'UDP', port: 6379 })).toBe(
      false,
    );
  });

  it('allows role=db egress to 10.0.0.0/24 on TCP 5978 only', () => {
    expect(cluster.allows({ from: db, to: ip('10.0.0.7'), port: 5978 })).toBe(true);
    expect(cluster.allows({ from: db, to: ip('10.0.0.7'), port: 5979 })).toBe(false);
    expect(cluster.allows({ from: db, to: ip('10.0.1.7'), port: 5978 })).toBe(false);
    expect(cluster.allows({ from: db, to: pod('default/frontend'), port: 5978 })).toBe(false);
  });

  it('leaves pods it does not select non-isolated', () => {
    const verdict = cluster.evaluate({ from: pod('default/frontend'), to: pod('default/backend'), port: 1 });
    expect(verdict).toEqual({
      allowed: true,
      egress: { isolated: false, allowed: true },
      ingress: { isolated: false, allowed: true },
    });
  });

  it('names the rule that allowed a flow', () => {
    expect(cluster.evaluate({ from: pod('default/frontend'), to: db, port: 6379 }).ingress).toEqual({
      isolated: true,
      allowed: true,
      rule: 'default/test-network-policy/ingress[0]',
    });
  });
});

describe('the concepts page on namespaceSelector and podSelector in one peer or two', () => {
  const pods: ClusterPod[] = [
    { namespace: 'default', name: 'target', ip: '10.2.0.1', labels: { app: 'target' } },
    { namespace: 'default', name: 'client', ip: '10.2.0.2', labels: { role: 'client' } },
    { namespace: 'alice', name: 'client', ip: '10.2.1.1', labels: { role: 'client' } },
    { namespace: 'alice', name: 'server', ip: '10.2.1.2', labels: { role: 'server' } },
    { namespace: 'bob', name: 'client', ip: '10.2.2.1', labels: { role: 'client' } },
  ];
  const namespaces = [{ name: 'default' }, { name: 'alice', labels: { user: 'alice' } }, { name: 'bob' }];
  const target = pod('default/target');
  const withFrom = (from: unknown[]) =>
    evaluator([policy('p', 'default', { podSelector: {}, ingress: [{ from }] })], pods, namespaces);

  it('one element with both selectors: role=client pods in namespaces labelled user=alice', () => {
    const cluster = withFrom([
      {
        namespaceSelector: { matchLabels: { user: 'alice' } },
        podSelector: { matchLabels: { role: 'client' } },
      },
    ]);
    expect(cluster.allows({ from: pod('alice/client'), to: target, port: 80 })).toBe(true);
    expect(cluster.allows({ from: pod('alice/server'), to: target, port: 80 })).toBe(false);
    expect(cluster.allows({ from: pod('default/client'), to: target, port: 80 })).toBe(false);
  });

  it('two elements: role=client pods of the local namespace, or any pod of a user=alice namespace', () => {
    const cluster = withFrom([
      { namespaceSelector: { matchLabels: { user: 'alice' } } },
      { podSelector: { matchLabels: { role: 'client' } } },
    ]);
    expect(cluster.allows({ from: pod('alice/client'), to: target, port: 80 })).toBe(true);
    expect(cluster.allows({ from: pod('alice/server'), to: target, port: 80 })).toBe(true);
    expect(cluster.allows({ from: pod('default/client'), to: target, port: 80 })).toBe(true);
    expect(cluster.allows({ from: pod('bob/client'), to: target, port: 80 })).toBe(false);
  });

  it('an empty namespaceSelector selects every namespace, but no address outside the cluster', () => {
    const cluster = withFrom([{ namespaceSelector: {} }]);
    expect(cluster.allows({ from: pod('bob/client'), to: target, port: 80 })).toBe(true);
    expect(cluster.allows({ from: ip('203.0.113.1'), to: target, port: 80 })).toBe(false);
  });

  it('targets a namespace by its name through the automatic kubernetes.io/metadata.name label', () => {
    const cluster = evaluator(
      [
        policy('p', 'default', {
          podSelector: {},
          ingress: [
            { from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'alice' } } }] },
          ],
        }),
      ],
      pods,
      [{ name: 'default' }, { name: 'alice' }, { name: 'bob', labels: { name: 'alice' } }],
    );
    expect(cluster.allows({ from: pod('alice/server'), to: target, port: 80 })).toBe(true);
    expect(cluster.allows({ from: pod('bob/client'), to: target, port: 80 })).toBe(false);
  });
});

describe('the default policies of the concepts page', () => {
  const pods: ClusterPod[] = [
    { namespace: 'default', name: 'a', ip: '10.3.0.1', labels: { app: 'a' } },
    { namespace: 'default', name: 'b', ip: '10.3.0.2', labels: { app: 'b' } },
    { namespace: 'other', name: 'c', ip: '10.3.1.1', labels: { app: 'c' } },
  ];
  const denyIngress = policy('default-deny-ingress', 'default', {
    podSelector: {},
    policyTypes: ['Ingress'],
  });
  const allowAllIngress = policy('allow-all-ingress', 'default', {
    podSelector: {},
    ingress: [{}],
    policyTypes: ['Ingress'],
  });
  const denyEgress = policy('default-deny-egress', 'default', { podSelector: {}, policyTypes: ['Egress'] });
  const allowAllEgress = policy('allow-all-egress', 'default', {
    podSelector: {},
    egress: [{}],
    policyTypes: ['Egress'],
  });
  const denyAll = policy('default-deny-all', 'default', {
    podSelector: {},
    policyTypes: ['Ingress', 'Egress'],
  });
  const aToB = { from: pod('default/a'), to: pod('default/b'), port: 80 };
  const cToA = { from: pod('other/c'), to: pod('default/a'), port: 80 };
  const aToC = { from: pod('default/a'), to: pod('other/c'), port: 80 };

  it('default deny ingress isolates ingress only (even inside the namespace), egress unchanged', () => {
    const cluster = evaluator([denyIngress], pods);
    expect(cluster.allows(cToA)).toBe(false);
    expect(cluster.allows(aToB)).toBe(false);
    expect(cluster.allows(aToC)).toBe(true);
  });

  it('allow all ingress wins over default deny ingress: policies are additive', () => {
    const cluster = evaluator([denyIngress, allowAllIngress], pods);
    expect(cluster.allows(cToA)).toBe(true);
    expect(cluster.allows({ ...cToA, protocol: 'UDP', port: 9999 })).toBe(true);
  });

  it('default deny egress isolates egress only', () => {
    const cluster = evaluator([denyEgress], pods);
    expect(cluster.allows(aToC)).toBe(false);
    expect(cluster.allows(aToB)).toBe(false);
    expect(cluster.allows(cToA)).toBe(true);
  });

  it('allow all egress wins over default deny egress', () => {
    expect(evaluator([denyEgress, allowAllEgress], pods).allows(aToC)).toBe(true);
  });

  it('default deny all refuses both ways, yet a pod still reaches itself', () => {
    const cluster = evaluator([denyAll], pods);
    expect(cluster.allows(aToB)).toBe(false);
    expect(cluster.allows(aToC)).toBe(false);
    expect(cluster.allows(cToA)).toBe(false);
    expect(cluster.allows({ from: pod('default/a'), to: ip('10.3.0.1'), port: 80 })).toBe(true);
  });

  it('a flow needs both ends: egress allowed at a source is not enough when the destination refuses ingress', () => {
    const cluster = evaluator([allowAllEgress, policy('deny', 'other', { podSelector: {} })], pods);
    const verdict = cluster.evaluate(aToC);
    expect(verdict.egress.allowed).toBe(true);
    expect(verdict.ingress).toEqual({ isolated: true, allowed: false });
    expect(verdict.allowed).toBe(false);
  });
});

describe('the concepts page on port ranges (multi-port-egress)', () => {
  const cluster = evaluator(
    [
      policy('multi-port-egress', 'default', {
        podSelector: { matchLabels: { role: 'db' } },
        policyTypes: ['Egress'],
        egress: [
          {
            to: [{ ipBlock: { cidr: '10.0.0.0/24' } }],
            ports: [{ protocol: 'TCP', port: 32000, endPort: 32768 }],
          },
        ],
      }),
    ],
    [{ namespace: 'default', name: 'db', ip: '10.4.0.1', labels: { role: 'db' } }],
  );
  const db = pod('default/db');

  it('allows 32000 to 32768 inclusive to 10.0.0.0/24', () => {
    expect(cluster.allows({ from: db, to: ip('10.0.0.9'), port: 32000 })).toBe(true);
    expect(cluster.allows({ from: db, to: ip('10.0.0.9'), port: 32768 })).toBe(true);
    expect(cluster.allows({ from: db, to: ip('10.0.0.9'), port: 31999 })).toBe(false);
    expect(cluster.allows({ from: db, to: ip('10.0.0.9'), port: 32769 })).toBe(false);
    expect(cluster.allows({ from: db, to: ip('10.0.0.9'), protocol: 'UDP', port: 32000 })).toBe(false);
  });
});

describe('the Declare Network Policy task (access-nginx, no policyTypes)', () => {
  const cluster = evaluator(
    [
      policy('access-nginx', 'default', {
        podSelector: { matchLabels: { 'app.kubernetes.io/name': 'nginx' } },
        ingress: [{ from: [{ podSelector: { matchLabels: { access: 'true' } } }] }],
      }),
    ],
    [
      { namespace: 'default', name: 'nginx', ip: '10.5.0.1', labels: { 'app.kubernetes.io/name': 'nginx' } },
      { namespace: 'default', name: 'busybox', ip: '10.5.0.2', labels: { run: 'busybox' } },
      { namespace: 'default', name: 'busybox-access', ip: '10.5.0.3', labels: { access: 'true' } },
    ],
  );
  const nginx = pod('default/nginx');

  it('defaults policyTypes to Ingress: only pods labelled access=true reach nginx, nginx egress stays open', () => {
    expect(cluster.allows({ from: pod('default/busybox'), to: nginx, port: 80 })).toBe(false);
    expect(cluster.allows({ from: pod('default/busybox-access'), to: nginx, port: 80 })).toBe(true);
    expect(cluster.evaluate({ from: nginx, to: ip('203.0.113.9'), port: 443 }).egress.isolated).toBe(false);
  });
});

describe('API reference semantics beyond the examples', () => {
  const pods: ClusterPod[] = [
    {
      namespace: 'default',
      name: 'web',
      ip: '10.6.0.1',
      labels: { app: 'web', tier: 'front' },
      ports: [
        { name: 'http', containerPort: 8080 },
        { name: 'dns', containerPort: 5353, protocol: 'UDP' },
      ],
    },
    { namespace: 'default', name: 'client', ip: '10.6.0.2', labels: { app: 'client' } },
    { namespace: 'default', name: 'canary', ip: '10.6.0.3', labels: { app: 'client', track: 'canary' } },
  ];
  const web = pod('default/web');
  const client = pod('default/client');
  const canary = pod('default/canary');

  it('a named port is the destination container port of that name and protocol', () => {
    const cluster = evaluator(
      [
        policy('named', 'default', {
          podSelector: { matchLabels: { app: 'web' } },
          ingress: [{ ports: [{ port: 'http' }, { protocol: 'UDP', port: 'dns' }] }],
        }),
      ],
      pods,
    );
    expect(cluster.allows({ from: client, to: web, port: 8080 })).toBe(true);
    expect(cluster.allows({ from: client, to: web, port: 8081 })).toBe(false);
    expect(cluster.allows({ from: client, to: web, protocol: 'UDP', port: 5353 })).toBe(true);
    expect(cluster.allows({ from: client, to: web, protocol: 'TCP', port: 5353 })).toBe(false);
  });

  it('an egress named port resolves on the destination pod; an outside address has none', () => {
    const cluster = evaluator(
      [
        policy('named-egress', 'default', {
          podSelector: { matchLabels: { app: 'client' } },
          policyTypes: ['Egress'],
          egress: [{ ports: [{ port: 'http' }] }],
        }),
      ],
      pods,
    );
    expect(cluster.allows({ from: client, to: web, port: 8080 })).toBe(true);
    expect(cluster.allows({ from: client, to: ip('203.0.113.9'), port: 8080 })).toBe(false);
  });

  it('matchExpressions: In, NotIn (a missing key matches), Exists, DoesNotExist, ANDed with matchLabels', () => {
    const selecting = (podSelector: unknown) =>
      evaluator([policy('p', 'default', { podSelector, policyTypes: ['Egress'] })], pods);
    const isolated = (podSelector: unknown, from: Endpoint) =>
      selecting(podSelector).evaluate({ from, to: ip('203.0.113.9'), port: 443 }).egress.isolated;
    const inClient = { matchExpressions: [{ key: 'app', operator: 'In', values: ['client', 'x'] }] };
    expect(isolated(inClient, client)).toBe(true);
    expect(isolated(inClient, web)).toBe(false);
    const notCanary = { matchExpressions: [{ key: 'track', operator: 'NotIn', values: ['canary'] }] };
    expect(isolated(notCanary, client)).toBe(true);
    expect(isolated(notCanary, canary)).toBe(false);
    const hasTrack = { matchExpressions: [{ key: 'track', operator: 'Exists' }] };
    expect(isolated(hasTrack, canary)).toBe(true);
    expect(isolated(hasTrack, client)).toBe(false);
    const noTrack = { matchExpressions: [{ key: 'track', operator: 'DoesNotExist' }] };
    expect(isolated(noTrack, client)).toBe(true);
    expect(isolated(noTrack, canary)).toBe(false);
    const both = {
      matchLabels: { app: 'client' },
      matchExpressions: [{ key: 'track', operator: 'DoesNotExist' }],
    };
    expect(isolated(both, client)).toBe(true);
    expect(isolated(both, canary)).toBe(false);
    expect(isolated(both, web)).toBe(false);
  });

  it('rules of a policy type the policy does not list are ignored', () => {
    const cluster = evaluator(
      [
        policy('deny', 'default', { podSelector: {}, policyTypes: ['Ingress'] }),
        policy('egress-only', 'default', {
          podSelector: {},
          policyTypes: ['Egress'],
          ingress: [{}],
          egress: [{}],
        }),
      ],
      pods,
    );
    expect(cluster.allows({ from: client, to: web, port: 8080 })).toBe(false);
  });

  it.each<[string, Record<string, unknown>]>([
    [
      'ipBlock with a selector',
      { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/8' }, podSelector: {} }] }] },
    ],
    [
      'an except outside the block',
      { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['11.0.0.0/8'] } }] }] },
    ],
    [
      'an except equal to the block',
      { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['10.0.0.0/8'] } }] }] },
    ],
    ['an IPv6 block', { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: 'fd00::/8' } }] }] }],
    ['endPort on a named port', { podSelector: {}, ingress: [{ ports: [{ port: 'http', endPort: 9000 }] }] }],
    ['endPort below port', { podSelector: {}, ingress: [{ ports: [{ port: 9000, endPort: 8000 }] }] }],
    ['an unknown protocol', { podSelector: {}, ingress: [{ ports: [{ protocol: 'ICMP' }] }] }],
    [
      'an unknown operator',
      { podSelector: { matchExpressions: [{ key: 'a', operator: 'Gt', values: ['1'] }] } },
    ],
    ['In without values', { podSelector: { matchExpressions: [{ key: 'a', operator: 'In' }] } }],
    ['an empty peer', { podSelector: {}, ingress: [{ from: [{}] }] }],
    ['a field it does not model', { podSelector: {}, ingress: [{ from: [], sources: [] }] }],
  ])('refuses %s instead of guessing', (_what, spec) => {
    expect(() => evaluator([policy('bad', 'default', spec)], pods)).toThrow(InvalidPolicy);
  });
});
