import type { KubeObject } from '@app/kube';
import { cidrContains, parseIpv4 } from '../network-policy';
import {
  type Direction,
  type Peer,
  type Policy,
  type PortSpec,
  type Protocol,
  type Selector,
  InvalidPolicy,
  parsePolicy,
} from './network-policy-parser';

/**
 * Decides whether a flow is allowed by a set of `networking.k8s.io/v1` NetworkPolicies, as the Kubernetes
 * documentation and API reference define them, so unit tests can state flows instead of object shapes. No
 * library does this (network plugins enforce policies inside the dataplane, they do not answer questions), so it
 * is hand-written, small and strict: anything it does not understand, or that the API server would refuse, throws
 * instead of being guessed.
 *
 * Modelled: isolation per direction (a pod is isolated for Ingress/Egress only if a policy selecting it lists
 * that type; `policyTypes` defaults to Ingress, plus Egress when egress rules exist); a flow needs egress allowed
 * at its source and ingress at its destination, each only where that pod is isolated; peers (podSelector alone:
 * the policy's namespace; namespaceSelector alone: every pod of the matching namespaces; both: AND; ipBlock with
 * except on the address); empty `from`/`to`/`ports` match everything; ports with the TCP default, numbers, named
 * container ports and endPort; matchLabels and matchExpressions (In, NotIn, Exists, DoesNotExist); the automatic
 * `kubernetes.io/metadata.name` namespace label; a pod always reaching itself.
 * Not modelled: node-originated traffic (always allowed upstream), hostNetwork pods, Service IP translation
 * (flows name the backend pod and its target port, which is what policies see), IPv6.
 * ipBlock is matched against pod addresses too (as Calico and iptables-based plugins do; Cilium does not apply
 * CIDR rules to pods): the tenant policies except the pod CIDRs, so both readings give the same answers.
 */

const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

export interface ClusterNamespace {
  name: string;
  labels?: Record<string, string>;
}
export interface ContainerPort {
  containerPort: number;
  name?: string;
  protocol?: Protocol;
}
export interface ClusterPod {
  namespace: string;
  name: string;
  ip: string;
  labels?: Record<string, string>;
  ports?: ContainerPort[];
}
/** A pod by `namespace/name`, or an address (a pod's address resolves to that pod). */
export type Endpoint = { pod: string } | { ip: string };
export interface Flow {
  from: Endpoint;
  to: Endpoint;
  /** Default TCP. */
  protocol?: Protocol;
  port: number;
}

export interface DirectionVerdict {
  /** False when no policy selecting the pod has this policy type (or the end is not a pod). */
  isolated: boolean;
  allowed: boolean;
  /** `policy/ingress[i]` or `policy/egress[i]`: the first rule that allowed the flow. */
  rule?: string;
}
export interface FlowVerdict {
  allowed: boolean;
  egress: DirectionVerdict;
  ingress: DirectionVerdict;
}

interface ResolvedEnd {
  pod?: ClusterPod;
  address: number;
}

export class NetworkPolicyEvaluator {
  private readonly namespaceLabels = new Map<string, Record<string, string>>();
  private readonly pods = new Map<string, ClusterPod>();
  private readonly podsByIp = new Map<number, ClusterPod>();
  private readonly policies: Policy[];

  constructor(cluster: { namespaces: ClusterNamespace[]; pods: ClusterPod[]; policies: KubeObject[] }) {
    for (const namespace of cluster.namespaces) {
      // The API server sets this label on every namespace and keeps it equal to the name.
      this.namespaceLabels.set(namespace.name, {
        ...namespace.labels,
        [NAMESPACE_NAME_LABEL]: namespace.name,
      });
    }
    for (const pod of cluster.pods) {
      const key = `${pod.namespace}/${pod.name}`;
      const address = parseIpv4(pod.ip);
      if (!this.namespaceLabels.has(pod.namespace)) throw new InvalidPolicy(`${key}: unknown namespace`);
      if (address === undefined) throw new InvalidPolicy(`${key}: ${pod.ip} is not an IPv4 address`);
      if (this.pods.has(key) || this.podsByIp.has(address))
        throw new InvalidPolicy(`${key}: duplicate pod or IP`);
      this.pods.set(key, pod);
      this.podsByIp.set(address, pod);
    }
    this.policies = cluster.policies.map(parsePolicy);
    for (const policy of this.policies) {
      if (!this.namespaceLabels.has(policy.namespace))
        throw new InvalidPolicy(`${policy.id}: unknown namespace`);
    }
  }

  allows(flow: Flow): boolean {
    return this.evaluate(flow).allowed;
  }

  evaluate(flow: Flow): FlowVerdict {
    const source = this.resolve(flow.from);
    const destination = this.resolve(flow.to);
    const protocol = flow.protocol ?? 'TCP';
    if (!Number.isInteger(flow.port) || flow.port < 1 || flow.port > 65535) {
      throw new InvalidPolicy(`flow port ${flow.port}`);
    }
    if (source.pod && source.pod === destination.pod) {
      const self = { isolated: false, allowed: true, rule: 'a pod always reaches itself' };
      return { allowed: true, egress: self, ingress: self };
    }
    const egress = this.direction('Egress', source, destination, protocol, flow.port);
    const ingress = this.direction('Ingress', destination, source, protocol, flow.port);
    return { allowed: egress.allowed && ingress.allowed, egress, ingress };
  }

  private resolve(endpoint: Endpoint): ResolvedEnd {
    if ('pod' in endpoint) {
      const pod = this.pods.get(endpoint.pod);
      if (!pod) throw new InvalidPolicy(`unknown pod ${endpoint.pod}`);
      return { pod, address: parseIpv4(pod.ip)! };
    }
    const address = parseIpv4(endpoint.ip);
    if (address === undefined) throw new InvalidPolicy(`${endpoint.ip} is not an IPv4 address`);
    return { pod: this.podsByIp.get(address), address };
  }

  /**
   * The verdict at `self` (the source for Egress, the destination for Ingress) about `other`. The port is always
   * the destination's, so named ports resolve against the destination pod.
   */
  private direction(
    direction: Direction,
    self: ResolvedEnd,
    other: ResolvedEnd,
    protocol: Protocol,
    port: number,
  ): DirectionVerdict {
    const pod = self.pod;
    if (!pod) return { isolated: false, allowed: true };
    const selecting = this.policies.filter(
      (policy) =>
        policy.namespace === pod.namespace &&
        policy.types.includes(direction) &&
        selectorMatches(policy.podSelector, pod.labels ?? {}),
    );
    if (selecting.length === 0) return { isolated: false, allowed: true };
    const destinationPod = direction === 'Ingress' ? pod : other.pod;
    for (const policy of selecting) {
      const rules = direction === 'Ingress' ? policy.ingress : policy.egress;
      const index = rules.findIndex(
        (rule) =>
          (rule.peers === undefined || rule.peers.some((peer) => this.peerMatches(peer, policy, other))) &&
          (rule.ports === undefined ||
            rule.ports.some((spec) => portMatches(spec, protocol, port, destinationPod))),
      );
      if (index >= 0) {
        return { isolated: true, allowed: true, rule: `${policy.id}/${direction.toLowerCase()}[${index}]` };
      }
    }
    return { isolated: true, allowed: false };
  }

  private peerMatches(peer: Peer, policy: Policy, other: ResolvedEnd): boolean {
    if (peer.ipBlock) {
      const { cidr, except } = peer.ipBlock;
      return cidrContains(cidr, other.address) && !except.some((block) => cidrContains(block, other.address));
    }
    // Selectors only ever match pods: an address outside the cluster is reached through ipBlock alone.
    const pod = other.pod;
    if (!pod) return false;
    const podOk = peer.podSelector === undefined || selectorMatches(peer.podSelector, pod.labels ?? {});
    const namespaceOk = peer.namespaceSelector
      ? selectorMatches(peer.namespaceSelector, this.namespaceLabels.get(pod.namespace)!)
      : pod.namespace === policy.namespace;
    return podOk && namespaceOk;
  }
}

function portMatches(spec: PortSpec, protocol: Protocol, port: number, destination?: ClusterPod): boolean {
  if (spec.protocol !== protocol) return false;
  if (spec.port === undefined) return true;
  if (typeof spec.port === 'number') {
    return spec.endPort === undefined ? port === spec.port : port >= spec.port && port <= spec.endPort;
  }
  // A named port is the destination pod's container port of that name and protocol; no address outside the
  // cluster has one.
  return (destination?.ports ?? []).some(
    (container) =>
      container.name === spec.port &&
      container.containerPort === port &&
      (container.protocol ?? 'TCP') === protocol,
  );
}

/** Standard label selector semantics: every matchLabels pair and every expression (an empty selector: all). */
function selectorMatches(selector: Selector, labels: Record<string, string>): boolean {
  const has = (key: string) => Object.prototype.hasOwnProperty.call(labels, key);
  return (
    Object.entries(selector.matchLabels).every(([key, value]) => has(key) && labels[key] === value) &&
    selector.matchExpressions.every(({ key, operator, values }) => {
      switch (operator) {
        case 'In':
          return has(key) && values.includes(labels[key]);
        case 'NotIn':
          return !has(key) || !values.includes(labels[key]);
        case 'Exists':
          return has(key);
        case 'DoesNotExist':
          return !has(key);
      }
    })
  );
}
