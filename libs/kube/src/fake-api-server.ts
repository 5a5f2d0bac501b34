import { randomUUID } from 'node:crypto';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse } from 'yaml';
import { type KubeObject, objectViolations } from './schema';

/**
 * A local stand-in for the Kubernetes API server, implementing only the REST calls the k8s and monitoring
 * services make: discovery, server-side apply (PATCH application/apply-patch+yaml with a field manager),
 * GET, LIST, DELETE. Like a real API server it refuses (422) objects that fail their schema or the name
 * rules, refuses (404/403) objects in a missing or Terminating namespace, and keeps a deleted namespace
 * Terminating until its finalizers "clear" after a delay, or forever when told to stick.
 * Besides the tests it is the Kubernetes API of the local demo stack, so it is runtime code and must not
 * import anything from Jest.
 */

interface ResourceType {
  group: string; // '' for core
  version: string;
  kind: string;
  plural: string;
  namespaced: boolean;
}

const RESOURCES: ResourceType[] = [
  { group: '', version: 'v1', kind: 'Namespace', plural: 'namespaces', namespaced: false },
  { group: '', version: 'v1', kind: 'ResourceQuota', plural: 'resourcequotas', namespaced: true },
  { group: '', version: 'v1', kind: 'LimitRange', plural: 'limitranges', namespaced: true },
  { group: '', version: 'v1', kind: 'Service', plural: 'services', namespaced: true },
  { group: '', version: 'v1', kind: 'ConfigMap', plural: 'configmaps', namespaced: true },
  { group: '', version: 'v1', kind: 'Secret', plural: 'secrets', namespaced: true },
  { group: '', version: 'v1', kind: 'Pod', plural: 'pods', namespaced: true },
  { group: 'apps', version: 'v1', kind: 'Deployment', plural: 'deployments', namespaced: true },
  { group: 'batch', version: 'v1', kind: 'Job', plural: 'jobs', namespaced: true },
  {
    group: 'networking.k8s.io',
    version: 'v1',
    kind: 'NetworkPolicy',
    plural: 'networkpolicies',
    namespaced: true,
  },
  { group: 'networking.k8s.io', version: 'v1', kind: 'Ingress', plural: 'ingresses', namespaced: true },
  {
    group: 'argoproj.io',
    version: 'v1alpha1',
    kind: 'Application',
    plural: 'applications',
    namespaced: true,
  },
  {
    group: 'argoproj.io',
    version: 'v1alpha1',
    kind: 'ApplicationSet',
    plural: 'applicationsets',
    namespaced: true,
  },
  { group: 'cert-manager.io', version: 'v1', kind: 'Certificate', plural: 'certificates', namespaced: true },
  {
    group: 'external-secrets.io',
    version: 'v1beta1',
    kind: 'ExternalSecret',
    plural: 'externalsecrets',
    namespaced: true,
  },
  {
    group: 'monitoring.coreos.com',
    version: 'v1',
    kind: 'ServiceMonitor',
    plural: 'servicemonitors',
    namespaced: true,
  },
  {
    group: 'monitoring.coreos.com',
    version: 'v1',
    kind: 'PrometheusRule',
    plural: 'prometheusrules',
    namespaced: true,
  },
];

function apiVersionOf(type: ResourceType): string {
  return type.group ? `${type.group}/${type.version}` : type.version;
}

export interface RecordedRequest {
  method: string;
  path: string;
  contentType?: string;
  fieldManager?: string;
}

export interface FakeApiServerOptions {
  /** How long a deleted namespace stays Terminating before its finalizers clear. */
  terminationDelayMs?: number;
}

type Stored = KubeObject & { status?: Record<string, unknown> };

export class FakeApiServer {
  readonly requests: RecordedRequest[] = [];
  private readonly objects = new Map<string, Stored>();
  private readonly managers = new Map<string, Set<string>>();
  private server?: Server;
  private stuck = false;
  private readonly timers = new Set<NodeJS.Timeout>();
  private resourceVersion = 1;

  constructor(private readonly options: FakeApiServerOptions = {}) {}

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) =>
        send(res, 500, status(500, 'InternalError', String(error))),
      );
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Namespaces deleted from now on stay Terminating (a finalizer that never clears). */
  stickTerminating(stuck: boolean): void {
    this.stuck = stuck;
  }

  /** Inserts an object as a controller would (no validation): pods, Argo CD applications with status. */
  seed(object: Stored): void {
    const type = this.typeOf(object.apiVersion, object.kind)!;
    this.objects.set(
      this.key(type, object.metadata.namespace, object.metadata.name),
      structuredClone(object),
    );
  }

  get(apiVersion: string, kind: string, namespace: string | undefined, name: string): Stored | undefined {
    const type = this.typeOf(apiVersion, kind);
    return type ? this.objects.get(this.key(type, namespace, name)) : undefined;
  }

  list(): Stored[] {
    return [...this.objects.values()];
  }

  // -------------------------------------------------------------------------------------------------------

  private typeOf(apiVersion: string, kind: string): ResourceType | undefined {
    return RESOURCES.find((type) => apiVersionOf(type) === apiVersion && type.kind === kind);
  }

  private key(type: ResourceType, namespace: string | undefined, name: string): string {
    return `${apiVersionOf(type)}|${type.kind}|${type.namespaced ? namespace : ''}|${name}`;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = req.method ?? 'GET';
    this.requests.push({
      method,
      path: url.pathname,
      contentType: req.headers['content-type'],
      fieldManager: url.searchParams.get('fieldManager') ?? undefined,
    });
    const body = await readBody(req);
    const parts = url.pathname.split('/').filter(Boolean);
    // Discovery
    let group = '';
    let version: string;
    let rest: string[];
    if (parts[0] === 'api' && parts.length >= 2) {
      version = parts[1];
      rest = parts.slice(2);
    } else if (parts[0] === 'apis' && parts.length >= 3) {
      group = parts[1];
      version = parts[2];
      rest = parts.slice(3);
    } else return send(res, 404, status(404, 'NotFound', `no route ${url.pathname}`));
    const types = RESOURCES.filter((type) => type.group === group && type.version === version);
    if (types.length === 0)
      return send(res, 404, status(404, 'NotFound', `unknown group version ${group}/${version}`));
    if (rest.length === 0 && method === 'GET') {
      return send(res, 200, {
        kind: 'APIResourceList',
        apiVersion: 'v1',
        groupVersion: group ? `${group}/${version}` : version,
        resources: types.map((type) => ({
          name: type.plural,
          singularName: type.kind.toLowerCase(),
          namespaced: type.namespaced,
          kind: type.kind,
          verbs: ['create', 'delete', 'get', 'list', 'patch', 'update'],
        })),
      });
    }
    let namespace: string | undefined;
    if (rest[0] === 'namespaces' && rest.length >= 3) {
      namespace = rest[1];
      rest = rest.slice(2);
    }
    const type = types.find((candidate) => candidate.plural === rest[0]);
    if (!type || (type.namespaced && namespace === undefined && !(method === 'GET' && rest.length === 1))) {
      return send(res, 404, status(404, 'NotFound', `unknown resource ${url.pathname}`));
    }
    const name = rest[1];
    if (method === 'GET' && name === undefined) return this.handleList(type, namespace, url, res);
    if (name === undefined)
      return send(res, 405, status(405, 'MethodNotAllowed', `${method} on a collection`));
    const key = this.key(type, namespace, name);
    switch (method) {
      case 'GET': {
        const found = this.objects.get(key);
        return found ? send(res, 200, found) : send(res, 404, notFound(type, name));
      }
      case 'PATCH':
        return this.handleApply(type, namespace, name, key, req, url, body, res);
      case 'DELETE':
        return this.handleDelete(type, name, key, res);
      default:
        return send(res, 405, status(405, 'MethodNotAllowed', method));
    }
  }

  private handleList(type: ResourceType, namespace: string | undefined, url: URL, res: ServerResponse): void {
    const selector = url.searchParams.get('fieldSelector');
    const items = [...this.objects.values()].filter((object) => {
      if (apiVersionOf(type) !== object.apiVersion || object.kind !== type.kind) return false;
      if (namespace !== undefined && object.metadata.namespace !== namespace) return false;
      if (selector) {
        const match = /^status\.phase(!=|=)(\w+)$/.exec(selector);
        const phase = (object.status as { phase?: string } | undefined)?.phase;
        if (match && (match[1] === '=' ? phase !== match[2] : phase === match[2])) return false;
      }
      return true;
    });
    send(res, 200, { apiVersion: apiVersionOf(type), kind: `${type.kind}List`, metadata: {}, items });
  }

  private handleApply(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    key: string,
    req: IncomingMessage,
    url: URL,
    body: string,
    res: ServerResponse,
  ): void {
    if (req.headers['content-type'] !== 'application/apply-patch+yaml') {
      return send(res, 415, status(415, 'UnsupportedMediaType', 'only server-side apply is implemented'));
    }
    const manager = url.searchParams.get('fieldManager');
    if (!manager)
      return send(res, 400, status(400, 'BadRequest', 'fieldManager is required for apply patch'));
    let object: Stored;
    try {
      object = parse(body) as Stored;
    } catch {
      return send(res, 400, status(400, 'BadRequest', 'body is not YAML'));
    }
    if (
      object?.apiVersion !== apiVersionOf(type) ||
      object.kind !== type.kind ||
      object.metadata?.name !== name
    ) {
      return send(res, 400, status(400, 'BadRequest', 'apiVersion, kind and name must match the URL'));
    }
    if (
      type.namespaced &&
      object.metadata.namespace !== undefined &&
      object.metadata.namespace !== namespace
    ) {
      return send(res, 400, status(400, 'BadRequest', 'the namespace of the object does not match the URL'));
    }
    const violations = objectViolations({ ...object, metadata: { ...object.metadata, namespace } });
    if (violations.length > 0) {
      return send(res, 422, {
        ...status(422, 'Invalid', `${type.kind} "${name}" is invalid: ${violations.join('; ')}`),
        details: { name, kind: type.kind, causes: violations.map((message) => ({ message })) },
      });
    }
    if (type.namespaced) {
      const ns = this.objects.get(this.key(RESOURCES[0], undefined, namespace!));
      if (!ns) return send(res, 404, notFound(RESOURCES[0], namespace!));
      if ((ns.status as { phase?: string } | undefined)?.phase === 'Terminating') {
        return send(
          res,
          403,
          status(
            403,
            'Forbidden',
            `${type.plural} "${name}" is forbidden: unable to create new content in namespace ${namespace} because it is being terminated`,
          ),
        );
      }
    }
    const existing = this.objects.get(key);
    if (existing?.metadata.deletionTimestamp) {
      return send(res, 409, status(409, 'Conflict', `${type.kind} ${name} is being deleted`));
    }
    const owners = this.managers.get(key) ?? new Set<string>();
    if (existing && owners.size > 0 && !owners.has(manager) && url.searchParams.get('force') !== 'true') {
      return send(
        res,
        409,
        status(409, 'Conflict', `Apply failed with conflicts with ${[...owners].join(',')}`),
      );
    }
    owners.add(manager);
    this.managers.set(key, owners);
    const stored: Stored = {
      ...object,
      metadata: {
        ...object.metadata,
        ...(type.namespaced ? { namespace } : {}),
        uid: (existing?.metadata.uid as string | undefined) ?? randomUUID(),
        resourceVersion: String(this.resourceVersion++),
        creationTimestamp:
          (existing?.metadata.creationTimestamp as string | undefined) ?? new Date().toISOString(),
        managedFields: [...owners].map((owner) => ({ manager: owner, operation: 'Apply' })),
        ...(type.kind === 'Namespace' ? { finalizers: undefined } : {}),
      },
      ...(type.kind === 'Namespace'
        ? { spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' } }
        : {}),
      ...(existing?.status && type.kind !== 'Namespace' ? { status: existing.status } : {}),
    };
    delete (stored.metadata as Record<string, unknown>).finalizers;
    this.objects.set(key, stored);
    send(res, existing ? 200 : 201, stored);
  }

  private handleDelete(type: ResourceType, name: string, key: string, res: ServerResponse): void {
    const existing = this.objects.get(key);
    if (!existing) return send(res, 404, notFound(type, name));
    if (type.kind !== 'Namespace') {
      this.objects.delete(key);
      this.managers.delete(key);
      return send(res, 200, {
        kind: 'Status',
        apiVersion: 'v1',
        status: 'Success',
        details: { name, kind: type.plural },
      });
    }
    // A namespace: Terminating now, gone once its content is removed and its finalizers clear.
    if (!existing.metadata.deletionTimestamp) {
      existing.metadata.deletionTimestamp = new Date().toISOString();
      existing.status = {
        phase: 'Terminating',
        ...(this.stuck
          ? {
              conditions: [
                {
                  type: 'NamespaceDeletionDiscoveryFailure',
                  status: 'True',
                  reason: 'DiscoveryFailed',
                  message:
                    'Discovery failed for some groups: metrics.k8s.io/v1beta1: the server is currently unable to handle the request',
                },
              ],
            }
          : {}),
      };
      if (!this.stuck) {
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          for (const [otherKey, object] of this.objects) {
            if (object.metadata.namespace === name) this.objects.delete(otherKey);
          }
          this.objects.delete(key);
          this.managers.delete(key);
        }, this.options.terminationDelayMs ?? 50);
        this.timers.add(timer);
      }
    }
    send(res, 200, existing);
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function status(code: number, reason: string, message: string) {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}
function notFound(type: ResourceType, name: string) {
  return status(404, 'NotFound', `${type.plural} "${name}" not found`);
}
function send(res: ServerResponse, code: number, body: unknown): void {
  res.writeHead(code, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
