import type { KubeObject } from '@app/kube';
import { type Ipv4Cidr, cidrWithin, parseIpv4Cidr } from '../network-policy';

/**
 * Reads `networking.k8s.io/v1` NetworkPolicy objects into the rules the evaluator applies, strictly: a field it
 * does not model, or a value the API server would refuse, throws `InvalidPolicy` naming where it is, and the
 * API server's defaults (`policyTypes`, the TCP protocol) are filled in.
 */

export type Protocol = 'TCP' | 'UDP' | 'SCTP';
const PROTOCOLS: readonly string[] = ['TCP', 'UDP', 'SCTP'];

interface Requirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  values: string[];
}
export interface Selector {
  matchLabels: Record<string, string>;
  matchExpressions: Requirement[];
}
export interface Peer {
  podSelector?: Selector;
  namespaceSelector?: Selector;
  ipBlock?: { cidr: Ipv4Cidr; except: Ipv4Cidr[] };
}
export interface PortSpec {
  protocol: Protocol;
  port?: number | string;
  endPort?: number;
}
interface Rule {
  /** Undefined: the rule matches every peer (empty or missing `from`/`to`). */
  peers?: Peer[];
  /** Undefined: the rule matches every port. */
  ports?: PortSpec[];
}
export type Direction = 'Ingress' | 'Egress';
export interface Policy {
  id: string;
  namespace: string;
  podSelector: Selector;
  types: Direction[];
  ingress: Rule[];
  egress: Rule[];
}

/** A policy, pod or flow the API server would refuse, or that this evaluator does not model. */
export class InvalidPolicy extends Error {}

function fail(where: string, message: string): never {
  throw new InvalidPolicy(`${where}: ${message}`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function onlyKeys(value: Record<string, unknown>, allowed: string[], where: string): void {
  const unknown = Object.keys(value).filter((key) => !allowed.includes(key));
  if (unknown.length > 0) fail(where, `unsupported field(s) ${unknown.join(', ')}`);
}

function parseSelector(raw: unknown, where: string): Selector {
  if (!isRecord(raw)) fail(where, 'a label selector must be an object');
  onlyKeys(raw, ['matchLabels', 'matchExpressions'], where);
  const matchLabels = raw.matchLabels ?? {};
  if (!isRecord(matchLabels) || Object.values(matchLabels).some((value) => typeof value !== 'string')) {
    fail(where, 'matchLabels must map strings to strings');
  }
  const expressions = raw.matchExpressions ?? [];
  if (!Array.isArray(expressions)) fail(where, 'matchExpressions must be a list');
  const matchExpressions = expressions.map((expression: unknown, index): Requirement => {
    const at = `${where}.matchExpressions[${index}]`;
    if (!isRecord(expression) || typeof expression.key !== 'string') fail(at, 'needs a key');
    const operator = expression.operator;
    const values = expression.values ?? [];
    if (!Array.isArray(values) || values.some((value) => typeof value !== 'string')) {
      fail(at, 'values must be strings');
    }
    if (operator === 'In' || operator === 'NotIn') {
      if (values.length === 0) fail(at, `${operator} needs values`);
    } else if (operator === 'Exists' || operator === 'DoesNotExist') {
      if (values.length > 0) fail(at, `${operator} takes no values`);
    } else {
      fail(at, `unknown operator ${String(operator)}`);
    }
    return { key: expression.key, operator, values: values as string[] };
  });
  return { matchLabels: matchLabels as Record<string, string>, matchExpressions };
}

function parseCidr(raw: unknown, where: string): Ipv4Cidr {
  const cidr = typeof raw === 'string' ? parseIpv4Cidr(raw) : undefined;
  if (!cidr) fail(where, `${JSON.stringify(raw)} is not an IPv4 CIDR`);
  return cidr;
}

function parsePeer(raw: unknown, where: string): Peer {
  if (!isRecord(raw)) fail(where, 'a peer must be an object');
  onlyKeys(raw, ['podSelector', 'namespaceSelector', 'ipBlock'], where);
  if (raw.ipBlock !== undefined) {
    if (raw.podSelector !== undefined || raw.namespaceSelector !== undefined) {
      fail(where, 'ipBlock excludes podSelector and namespaceSelector');
    }
    if (!isRecord(raw.ipBlock)) fail(`${where}.ipBlock`, 'must be an object');
    onlyKeys(raw.ipBlock, ['cidr', 'except'], `${where}.ipBlock`);
    const cidr = parseCidr(raw.ipBlock.cidr, `${where}.ipBlock.cidr`);
    const exceptRaw = raw.ipBlock.except ?? [];
    if (!Array.isArray(exceptRaw)) fail(`${where}.ipBlock.except`, 'must be a list');
    const except = exceptRaw.map((entry: unknown, index) => {
      const at = `${where}.ipBlock.except[${index}]`;
      const parsed = parseCidr(entry, at);
      // The API server refuses an except that is not strictly inside the block.
      if (!cidrWithin(parsed, cidr) || parsed.prefix === cidr.prefix)
        fail(at, 'must lie strictly inside cidr');
      return parsed;
    });
    return { ipBlock: { cidr, except } };
  }
  if (raw.podSelector === undefined && raw.namespaceSelector === undefined) fail(where, 'empty peer');
  return {
    ...(raw.podSelector !== undefined
      ? { podSelector: parseSelector(raw.podSelector, `${where}.podSelector`) }
      : {}),
    ...(raw.namespaceSelector !== undefined
      ? { namespaceSelector: parseSelector(raw.namespaceSelector, `${where}.namespaceSelector`) }
      : {}),
  };
}

function parsePort(raw: unknown, where: string): PortSpec {
  if (!isRecord(raw)) fail(where, 'a port must be an object');
  onlyKeys(raw, ['protocol', 'port', 'endPort'], where);
  const protocol = raw.protocol ?? 'TCP';
  if (typeof protocol !== 'string' || !PROTOCOLS.includes(protocol))
    fail(where, `protocol ${String(protocol)}`);
  const { port, endPort } = raw;
  if (port !== undefined && typeof port !== 'number' && typeof port !== 'string') fail(where, 'port type');
  if (typeof port === 'number' && (!Number.isInteger(port) || port < 1 || port > 65535))
    fail(where, 'port range');
  if (typeof port === 'string' && !/^[a-z0-9]([-a-z0-9]{0,13}[a-z0-9])?$/.test(port))
    fail(where, 'port name');
  if (endPort !== undefined) {
    if (typeof port !== 'number') fail(where, 'endPort needs a numeric port');
    if (typeof endPort !== 'number' || !Number.isInteger(endPort) || endPort < port || endPort > 65535) {
      fail(where, 'endPort must be an integer from port to 65535');
    }
  }
  return { protocol: protocol as Protocol, port, endPort: endPort as number | undefined };
}

function parseRules(raw: unknown, peersKey: 'from' | 'to', where: string): Rule[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) fail(where, 'must be a list');
  return raw.map((rule: unknown, index): Rule => {
    const at = `${where}[${index}]`;
    if (!isRecord(rule)) fail(at, 'a rule must be an object');
    onlyKeys(rule, [peersKey, 'ports'], at);
    const peers = rule[peersKey];
    const ports = rule.ports;
    if (peers !== undefined && !Array.isArray(peers)) fail(at, `${peersKey} must be a list`);
    if (ports !== undefined && !Array.isArray(ports)) fail(at, 'ports must be a list');
    return {
      peers:
        peers && peers.length > 0
          ? peers.map((peer: unknown, i) => parsePeer(peer, `${at}.${peersKey}[${i}]`))
          : undefined,
      ports:
        ports && ports.length > 0
          ? ports.map((port: unknown, i) => parsePort(port, `${at}.ports[${i}]`))
          : undefined,
    };
  });
}

export function parsePolicy(object: KubeObject): Policy {
  const namespace = object.metadata.namespace;
  const id = `${namespace}/${object.metadata.name}`;
  if (object.apiVersion !== 'networking.k8s.io/v1' || object.kind !== 'NetworkPolicy') {
    fail(id, `not a networking.k8s.io/v1 NetworkPolicy: ${object.apiVersion} ${object.kind}`);
  }
  if (!namespace) fail(id, 'metadata.namespace is required');
  const spec = object.spec;
  if (!isRecord(spec)) fail(id, 'spec is required');
  onlyKeys(spec, ['podSelector', 'policyTypes', 'ingress', 'egress'], `${id} spec`);
  const ingress = parseRules(spec.ingress, 'from', `${id} ingress`);
  const egress = parseRules(spec.egress, 'to', `${id} egress`);
  // API server defaulting: Ingress always, Egress when the policy has egress rules.
  const types = spec.policyTypes ?? ['Ingress', ...(egress.length > 0 ? ['Egress'] : [])];
  if (!Array.isArray(types) || types.some((type) => type !== 'Ingress' && type !== 'Egress')) {
    fail(id, 'policyTypes must be a list of Ingress and Egress');
  }
  return {
    id,
    namespace,
    podSelector: parseSelector(spec.podSelector, `${id} podSelector`),
    types: types as Direction[],
    ingress,
    egress,
  };
}
