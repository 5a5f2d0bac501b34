import type { KubeObject } from '@app/kube';

/**
 * A test model of External Secrets Operator's `kubernetes` provider, enough to prove that a tenant tree's
 * ExternalSecrets resolve against the Secrets the services write, and that every credential a pod asks for
 * then exists. What it models, as ESO and the kubelet behave:
 * - `secretStoreRef` finds a ClusterSecretStore by name, or a SecretStore by name in the ExternalSecret's
 *   namespace (`kind` defaults to SecretStore); a ClusterSecretStore's `conditions` (namespaceSelector,
 *   namespaces, namespaceRegexes) must admit the ExternalSecret's namespace, whose labels come from the
 *   tree's Namespace object plus the `kubernetes.io/metadata.name` label every namespace carries.
 * - the store reads Secrets of `provider.kubernetes.remoteNamespace` (ESO's default: `default`);
 *   `data[].remoteRef` GETs the Secret named `key` and takes its key `property` (no property: the whole
 *   Secret, JSON-encoded); `dataFrom[].extract` takes every key of the Secret named `key`.
 * - the target Secret is `spec.target.name` (default: the ExternalSecret's name) in its namespace.
 * - a pod template's `env[].valueFrom.secretKeyRef`, `envFrom[].secretRef` and `secret` volumes must find
 *   that Secret (and key) unless marked `optional`; a Secret a cert-manager Certificate of the tree issues
 *   (`spec.secretName`) counts as present, with `tls.crt`, `tls.key` and `ca.crt`.
 * Anything else ESO offers (`find`, templates, metadataPolicy, generators) is reported as unsupported, so a
 * tree that starts using it fails here instead of passing unchecked.
 */

export type ProblemKind =
  | 'store-missing'
  | 'store-not-kubernetes'
  | 'store-refuses-namespace'
  | 'secret-missing'
  | 'key-missing'
  | 'unused-key'
  | 'unsatisfied-reference'
  | 'unsupported';

export interface Problem {
  kind: ProblemKind;
  /** Where: the ExternalSecret, the remote Secret or the pod template concerned (`Kind namespace/name`). */
  at: string;
  detail: string;
}

/** A Secret as the API server returns it (`data` base64) or as written (`stringData`). */
export interface RemoteSecret {
  metadata?: { name?: string; namespace?: string };
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

export interface ResolveInput {
  /** The tenant's objects: ExternalSecrets, Deployments, Jobs, its Namespace, Certificates… */
  tree: KubeObject[];
  /** ClusterSecretStore / SecretStore objects (the cluster's bootstrap). */
  stores: KubeObject[];
  /** The Secrets that exist in the cluster (those of the store's remote namespace at least). */
  remoteSecrets: RemoteSecret[];
  /** Namespace of tree objects that name none (kustomize sets it in GitOps mode). */
  defaultNamespace?: string;
}

export interface Resolution {
  /** Target Secrets ESO would write, by `namespace/name`, with their decoded values. */
  targets: Map<string, Record<string, string>>;
  problems: Problem[];
}

type Json = Record<string, unknown>;

function obj(value: unknown): Json {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : {};
}
function list(value: unknown): Json[] {
  return Array.isArray(value) ? value.map(obj) : [];
}
function str(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

function decode(secret: RemoteSecret): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(secret.data ?? {}))
    out[key] = Buffer.from(value, 'base64').toString('utf8');
  for (const [key, value] of Object.entries(secret.stringData ?? {})) out[key] = value;
  return out;
}

function labelSelectorMatches(selector: Json, labels: Record<string, string>): boolean {
  const matchLabels = obj(selector.matchLabels) as Record<string, string>;
  if (!Object.entries(matchLabels).every(([k, v]) => labels[k] === v)) return false;
  return list(selector.matchExpressions).every((expression) => {
    const key = String(expression.key);
    const values = Array.isArray(expression.values) ? (expression.values as string[]) : [];
    switch (expression.operator) {
      case 'In':
        return key in labels && values.includes(labels[key]);
      case 'NotIn':
        return !(key in labels) || !values.includes(labels[key]);
      case 'Exists':
        return key in labels;
      case 'DoesNotExist':
        return !(key in labels);
      default:
        return false;
    }
  });
}

/** ESO admits an ExternalSecret when the store has no conditions, or when one condition matches. */
function storeAdmits(store: KubeObject, namespace: string, labels: Record<string, string>): boolean {
  const conditions = list(obj(store.spec).conditions);
  if (store.kind !== 'ClusterSecretStore' || conditions.length === 0) return true;
  return conditions.some((condition) => {
    if (condition.namespaceSelector && labelSelectorMatches(obj(condition.namespaceSelector), labels))
      return true;
    if (Array.isArray(condition.namespaces) && (condition.namespaces as string[]).includes(namespace))
      return true;
    return (
      Array.isArray(condition.namespaceRegexes) &&
      (condition.namespaceRegexes as string[]).some((pattern) => new RegExp(pattern).test(namespace))
    );
  });
}

function podSpecOf(object: KubeObject): Json | undefined {
  const spec = obj(object.spec);
  switch (object.kind) {
    case 'Pod':
      return spec;
    case 'Deployment':
    case 'StatefulSet':
    case 'DaemonSet':
    case 'ReplicaSet':
    case 'Job':
      return obj(obj(spec.template).spec);
    case 'CronJob':
      return obj(obj(obj(obj(spec.jobTemplate).spec).template).spec);
    default:
      return undefined;
  }
}

export function resolveExternalSecrets(input: ResolveInput): Resolution {
  const problems: Problem[] = [];
  const targets = new Map<string, Record<string, string>>();
  const fallbackNamespace = input.defaultNamespace ?? 'default';
  const namespaceOf = (object: KubeObject) => object.metadata.namespace ?? fallbackNamespace;
  const where = (object: KubeObject) =>
    `${object.kind} ${object.kind === 'ClusterSecretStore' ? '' : `${namespaceOf(object)}/`}${object.metadata.name}`;

  const remote = new Map<string, Record<string, string>>();
  for (const secret of input.remoteSecrets) {
    const name = secret.metadata?.name;
    if (name) remote.set(`${secret.metadata?.namespace ?? 'default'}/${name}`, decode(secret));
  }
  /** Keys of each remote Secret some ExternalSecret took, for the unused-key report. */
  const consumed = new Map<string, Set<string>>();
  const consume = (secretKey: string, keys: Iterable<string>) => {
    const set = consumed.get(secretKey) ?? new Set<string>();
    for (const key of keys) set.add(key);
    consumed.set(secretKey, set);
  };

  const namespaceLabels = (namespace: string): Record<string, string> => {
    const found = input.tree.find((o) => o.kind === 'Namespace' && o.metadata.name === namespace);
    return { ...(found?.metadata.labels ?? {}), 'kubernetes.io/metadata.name': namespace };
  };

  for (const external of input.tree.filter((o) => o.kind === 'ExternalSecret')) {
    const at = where(external);
    const namespace = namespaceOf(external);
    const spec = obj(external.spec);
    const ref = obj(spec.secretStoreRef);
    const storeKind = str(ref.kind) ?? 'SecretStore';
    const store = input.stores.find(
      (candidate) =>
        candidate.kind === storeKind &&
        candidate.metadata.name === ref.name &&
        (storeKind === 'ClusterSecretStore' || namespaceOf(candidate) === namespace),
    );
    if (!store) {
      problems.push({ kind: 'store-missing', at, detail: `${storeKind} ${String(ref.name)} not found` });
      continue;
    }
    if (!storeAdmits(store, namespace, namespaceLabels(namespace))) {
      problems.push({
        kind: 'store-refuses-namespace',
        at,
        detail: `${where(store)} conditions do not admit namespace ${namespace}`,
      });
      continue;
    }
    const provider = obj(obj(store.spec).provider).kubernetes;
    if (provider === undefined) {
      problems.push({
        kind: 'store-not-kubernetes',
        at,
        detail: `${where(store)} has no kubernetes provider`,
      });
      continue;
    }
    const remoteNamespace = str(obj(provider).remoteNamespace) ?? 'default';
    const fetch = (key: unknown): { id: string; values: Record<string, string> } | undefined => {
      const id = `${remoteNamespace}/${String(key)}`;
      const values = remote.get(id);
      if (!values) problems.push({ kind: 'secret-missing', at, detail: `Secret ${id} not found` });
      return values && { id, values };
    };

    const target: Record<string, string> = {};
    let complete = true;
    if (obj(spec.target).template !== undefined) {
      problems.push({ kind: 'unsupported', at, detail: 'spec.target.template is not modelled' });
    }
    for (const item of list(spec.data)) {
      const remoteRef = obj(item.remoteRef);
      if (remoteRef.metadataPolicy !== undefined && remoteRef.metadataPolicy !== 'None') {
        problems.push({ kind: 'unsupported', at, detail: 'remoteRef.metadataPolicy is not modelled' });
      }
      const found = fetch(remoteRef.key);
      if (!found) {
        complete = false;
        continue;
      }
      const property = str(remoteRef.property);
      if (property === undefined) {
        consume(found.id, Object.keys(found.values));
        target[String(item.secretKey)] = JSON.stringify(found.values);
      } else if (property in found.values) {
        consume(found.id, [property]);
        target[String(item.secretKey)] = found.values[property];
      } else {
        complete = false;
        problems.push({ kind: 'key-missing', at, detail: `Secret ${found.id} has no key ${property}` });
      }
    }
    for (const item of list(spec.dataFrom)) {
      if (!item.extract) {
        problems.push({ kind: 'unsupported', at, detail: `dataFrom ${Object.keys(item).join(',')}` });
        complete = false;
        continue;
      }
      const found = fetch(obj(item.extract).key);
      if (!found) {
        complete = false;
        continue;
      }
      consume(found.id, Object.keys(found.values));
      Object.assign(target, found.values);
    }
    // ESO writes no target while any reference fails (the ExternalSecret reports SecretSyncedError).
    if (complete) {
      const name = str(obj(spec.target).name) ?? external.metadata.name;
      targets.set(`${namespace}/${name}`, target);
    }
  }

  for (const [id, values] of remote) {
    const taken = consumed.get(id);
    if (!taken) continue;
    for (const key of Object.keys(values)
      .filter((k) => !taken.has(k))
      .sort()) {
      problems.push({
        kind: 'unused-key',
        at: `Secret ${id}`,
        detail: `key ${key} is read by no ExternalSecret`,
      });
    }
  }

  const issued = new Set(
    input.tree
      .filter((o) => o.kind === 'Certificate')
      .map((o) => `${namespaceOf(o)}/${String(obj(o.spec).secretName)}`),
  );
  const keysOf = (namespace: string, name: string): Set<string> | undefined => {
    const id = `${namespace}/${name}`;
    if (issued.has(id)) return new Set(['tls.crt', 'tls.key', 'ca.crt']);
    const found = targets.get(id);
    return found && new Set(Object.keys(found));
  };

  for (const object of input.tree) {
    const pod = podSpecOf(object);
    if (!pod) continue;
    const namespace = namespaceOf(object);
    const refuse = (what: string) =>
      problems.push({ kind: 'unsatisfied-reference', at: where(object), detail: what });
    for (const container of [...list(pod.initContainers), ...list(pod.containers)]) {
      const cname = String(container.name);
      for (const env of list(container.env)) {
        const ref = obj(obj(env.valueFrom).secretKeyRef);
        if (!ref.name || ref.optional === true) continue;
        if (!keysOf(namespace, String(ref.name))?.has(String(ref.key))) {
          refuse(
            `container ${cname} env ${String(env.name)}: secretKeyRef ${String(ref.name)}/${String(ref.key)}`,
          );
        }
      }
      for (const source of list(container.envFrom)) {
        const ref = obj(source.secretRef);
        if (!ref.name || ref.optional === true) continue;
        if (!keysOf(namespace, String(ref.name)))
          refuse(`container ${cname} envFrom secretRef ${String(ref.name)}`);
      }
    }
    for (const volume of list(pod.volumes)) {
      const secret = obj(volume.secret);
      if (!secret.secretName || secret.optional === true) continue;
      const keys = keysOf(namespace, String(secret.secretName));
      const missing = !keys || list(secret.items).some((item) => !keys.has(String(item.key)));
      if (missing) refuse(`volume ${String(volume.name)}: secret ${String(secret.secretName)}`);
    }
  }

  return { targets, problems };
}
