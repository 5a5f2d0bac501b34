import { randomUUID } from 'node:crypto';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse } from 'yaml';
import { invalid, notFound, readBody, send, status } from './fake-api-http';
import { NAMESPACE_TYPE, RESOURCES, type ResourceType, apiVersionOf } from './fake-api-resources';
import {
  type Condition,
  type Outcome,
  canonical,
  num,
  omitZero,
  ownerRef,
  podIsReady,
  podStatus,
  shortHash,
  suffix,
  unavailableAllowed,
  withTransition,
} from './fake-kubelet';
import { ANONYMOUS, type AuthorizationAttributes, requestAttributes } from './request-attributes';
import { type KubeObject, objectViolations } from './schema';

/**
 * A local stand-in for the Kubernetes API server, implementing only the REST calls the k8s and monitoring
 * services make: discovery, server-side apply (PATCH application/apply-patch+yaml with a field manager),
 * GET, LIST (with equality label selectors), DELETE, and the POST (create) and PUT (replace) of the
 * Kubernetes secret store. Like a real API server it refuses (422) objects that fail their schema or the name
 * rules, refuses (404/403) objects in a missing or Terminating namespace, sets `metadata.generation`, and
 * ignores the `status` of an applied object whose type has a status subresource.
 *
 * It also plays the controllers whose results the services read back, each on a timer:
 * - the Deployment controller: a ReplicaSet and its pods, then the Deployment's replica counts and its
 *   `Available`/`Progressing` conditions; pods that are never ready, crash-loop, or cannot pull their image;
 * - the Job controller: a pod that runs, then `Succeeded` and the Job `Complete`, or `Failed` and the Job
 *   `Failed` (BackoffLimitExceeded);
 * - cert-manager: a Certificate `Ready` after a delay (and its TLS Secret, if asked);
 * - the namespace controller and the garbage collector: a deleted namespace stays Terminating until its
 *   content is gone (content with finalizers holds it), and deleting an owner deletes what it owns.
 * Besides the tests it is the Kubernetes API of the local demo stack, so it is runtime code and must not
 * import anything from Jest.
 */

export interface RecordedRequest {
  method: string;
  path: string;
  contentType?: string;
  fieldManager?: string;
  /** The bearer token sent ({@link ANONYMOUS} without one): tells the services' requests from the test's. */
  user: string;
  /**
   * Every authorization check the real API server makes for this request: the request's own attributes, then
   * `create` when a server-side apply creates the object (see `handleApply`).
   */
  authorizations: AuthorizationAttributes[];
}

export interface FakeApiServerOptions {
  /** How long a deleted namespace stays Terminating before its content is deleted and it goes. */
  terminationDelayMs?: number;
  /** How long a Deployment's new pods take to become ready, or to show why they cannot (default 20 ms). */
  rolloutDelayMs?: number;
  /** How long a Job's pod runs before it ends (default 20 ms). */
  jobDurationMs?: number;
  /** How long cert-manager takes to issue a Certificate (default 20 ms). */
  certificateDelayMs?: number;
  /** Create the TLS Secret a Certificate names when it becomes Ready, as cert-manager does (default off). */
  issueTlsSecrets?: boolean;
  /** Deployments (by name) whose pods run but never pass their readiness probe. */
  neverAvailable?: string[];
  /** Deployments (by name) whose containers exit at start: `CrashLoopBackOff`. */
  crashLooping?: string[];
  /** Images that cannot be pulled: a substring of the image reference, or a pattern. */
  unpullableImages?: (string | RegExp)[];
  /** Jobs (by name) whose pod exits 1: the Job fails with `BackoffLimitExceeded`. */
  failingJobs?: string[];
  /** Certificates (by name) that never become Ready (an ACME challenge that cannot be solved). */
  pendingCertificates?: string[];
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
  private readonly neverAvailableSet: Set<string>;
  private readonly crashLoopingSet: Set<string>;
  private readonly unpullable: (string | RegExp)[];
  private readonly failingJobSet: Set<string>;
  private readonly pendingCertificateSet: Set<string>;

  constructor(private readonly options: FakeApiServerOptions = {}) {
    this.neverAvailableSet = new Set(options.neverAvailable ?? []);
    this.crashLoopingSet = new Set(options.crashLooping ?? []);
    this.unpullable = [...(options.unpullableImages ?? [])];
    this.failingJobSet = new Set(options.failingJobs ?? []);
    this.pendingCertificateSet = new Set(options.pendingCertificates ?? []);
  }

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
    this.timers.clear();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Namespaces deleted from now on stay Terminating (a finalizer that never clears). */
  stickTerminating(stuck: boolean): void {
    this.stuck = stuck;
  }

  /** Pods of Deployments with this name, applied from now on, run but never become ready. */
  neverAvailable(deployment: string): void {
    this.neverAvailableSet.add(deployment);
  }
  /** Pods of Deployments with this name, applied from now on, crash-loop. */
  crashLoop(deployment: string): void {
    this.crashLoopingSet.add(deployment);
  }
  /** Images matching this (substring or pattern), in pods created from now on, cannot be pulled. */
  failImagePull(image: string | RegExp): void {
    this.unpullable.push(image);
  }
  /** Jobs with this name, created from now on, fail. */
  failJob(job: string): void {
    this.failingJobSet.add(job);
  }
  /** Certificates with this name, applied from now on, are never issued. */
  holdCertificate(certificate: string): void {
    this.pendingCertificateSet.add(certificate);
  }

  /** Inserts an object as a controller would (no validation): pods, Argo CD applications with status. */
  seed(object: Stored): void {
    const type = this.typeOf(object.apiVersion, object.kind)!;
    const copy = structuredClone(object);
    copy.metadata.uid ??= randomUUID();
    this.objects.set(this.key(type, object.metadata.namespace, object.metadata.name), copy);
  }

  get(apiVersion: string, kind: string, namespace: string | undefined, name: string): Stored | undefined {
    const type = this.typeOf(apiVersion, kind);
    return type ? this.objects.get(this.key(type, namespace, name)) : undefined;
  }

  list(): Stored[] {
    return [...this.objects.values()];
  }

  /** The authorization checks of every request served so far, in order; `user` narrows them to one caller. */
  authorizations(user?: string): AuthorizationAttributes[] {
    return this.requests
      .filter((request) => user === undefined || request.user === user)
      .flatMap((request) => request.authorizations);
  }

  /** A DELETE as a client (or Argo CD pruning) would send it; false when absent. */
  delete(apiVersion: string, kind: string, namespace: string | undefined, name: string): boolean {
    const type = this.typeOf(apiVersion, kind);
    const key = type && this.key(type, namespace, name);
    if (!type || !key || !this.objects.has(key)) return false;
    if (type.kind === 'Namespace') this.deleteNamespace(name, key);
    else this.deleteObject(key);
    return true;
  }

  /** Removes an object's finalizers, as the controller that owns them does; a deleted object then goes. */
  clearFinalizers(apiVersion: string, kind: string, namespace: string | undefined, name: string): void {
    const object = this.get(apiVersion, kind, namespace, name);
    if (!object) return;
    delete object.metadata.finalizers;
    if (object.metadata.deletionTimestamp) this.deleteObject(this.keyOf(object));
  }

  // -------------------------------------------------------------------------------------------------------

  private typeOf(apiVersion: string, kind: string): ResourceType | undefined {
    return RESOURCES.find((type) => apiVersionOf(type) === apiVersion && type.kind === kind);
  }

  private key(type: ResourceType, namespace: string | undefined, name: string): string {
    return `${apiVersionOf(type)}|${type.kind}|${type.namespaced ? namespace : ''}|${name}`;
  }
  private keyOf(object: Stored): string {
    return this.key(
      this.typeOf(object.apiVersion, object.kind)!,
      object.metadata.namespace,
      object.metadata.name,
    );
  }

  private later(ms: number, action: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      action();
    }, ms);
    timer.unref();
    this.timers.add(timer);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = req.method ?? 'GET';
    const user = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? ANONYMOUS;
    const record: RecordedRequest = {
      method,
      path: url.pathname,
      contentType: req.headers['content-type'],
      fieldManager: url.searchParams.get('fieldManager') ?? undefined,
      user,
      authorizations: [requestAttributes(method, url, user)],
    };
    this.requests.push(record);
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
    if (method === 'POST' && name === undefined) return this.handleCreate(type, namespace, body, res);
    if (name === undefined)
      return send(res, 405, status(405, 'MethodNotAllowed', `${method} on a collection`));
    const key = this.key(type, namespace, name);
    switch (method) {
      case 'GET': {
        const found = this.objects.get(key);
        return found ? send(res, 200, found) : send(res, 404, notFound(type, name));
      }
      case 'PATCH':
        return this.handleApply(type, namespace, name, key, req, url, body, res, record);
      case 'PUT':
        return this.handleReplace(type, namespace, name, key, body, res);
      case 'DELETE':
        return this.handleDelete(type, name, key, res);
      default:
        return send(res, 405, status(405, 'MethodNotAllowed', method));
    }
  }

  private handleList(type: ResourceType, namespace: string | undefined, url: URL, res: ServerResponse): void {
    const selector = url.searchParams.get('fieldSelector');
    const labels = (url.searchParams.get('labelSelector') ?? '')
      .split(',')
      .filter(Boolean)
      .map((term) => term.split('='));
    const items = [...this.objects.values()].filter((object) => {
      if (apiVersionOf(type) !== object.apiVersion || object.kind !== type.kind) return false;
      if (namespace !== undefined && object.metadata.namespace !== namespace) return false;
      if (labels.some(([key, value]) => object.metadata.labels?.[key] !== value)) return false;
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
    record: RecordedRequest,
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
    if (violations.length > 0) return send(res, 422, invalid(type, name, violations));
    // An apply that creates the object is also authorized as `create` (the patch handler wraps its create
    // validation in withAuthorization: k8s.io/apiserver/pkg/endpoints/handlers/patch.go, PatchResource).
    if (!this.objects.has(key)) record.authorizations.push({ ...record.authorizations[0], verb: 'create' });
    if (type.namespaced) {
      const ns = this.objects.get(this.key(NAMESPACE_TYPE, undefined, namespace!));
      if (!ns) return send(res, 404, notFound(NAMESPACE_TYPE, namespace!));
      if (ns.metadata.deletionTimestamp) {
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
    // A Job's pod template cannot change once created (the API server validates it as immutable).
    if (
      existing &&
      type.kind === 'Job' &&
      canonical((existing.spec as { template?: unknown })?.template) !==
        canonical((object.spec as { template?: unknown })?.template)
    ) {
      return send(res, 422, invalid(type, name, ['spec.template: Invalid value: field is immutable']));
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
    const isNamespace = type.kind === 'Namespace';
    const { status: appliedStatus, ...content } = object;
    // Status belongs to the controllers where the type has a status subresource; elsewhere it is content.
    const nextStatus = type.statusSubresource
      ? isNamespace
        ? (existing?.status ?? { phase: 'Active' })
        : existing?.status
      : (appliedStatus ?? existing?.status);
    const spec = isNamespace ? { spec: { finalizers: ['kubernetes'] } } : {};
    const candidate: Stored = { ...content, ...spec, ...(nextStatus ? { status: nextStatus } : {}) };
    const generation = existing
      ? num(existing.metadata.generation) + (this.specChanged(type, existing, candidate) ? 1 : 0)
      : 1;
    const finalizers = isNamespace ? undefined : (object.metadata.finalizers as string[] | undefined);
    const stored: Stored = {
      ...candidate,
      metadata: {
        ...object.metadata,
        ...(type.namespaced ? { namespace } : {}),
        uid: (existing?.metadata.uid as string | undefined) ?? randomUUID(),
        resourceVersion: String(this.resourceVersion++),
        generation,
        creationTimestamp:
          (existing?.metadata.creationTimestamp as string | undefined) ?? new Date().toISOString(),
        managedFields: [...owners].map((owner) => ({ manager: owner, operation: 'Apply' })),
      },
    };
    delete (stored.metadata as Record<string, unknown>).finalizers;
    if (finalizers && finalizers.length > 0) stored.metadata.finalizers = finalizers;
    this.objects.set(key, stored);
    send(res, existing ? 200 : 201, stored);

    const changed = !existing || generation !== num(existing.metadata.generation);
    if (!changed) return;
    if (type.kind === 'Deployment') this.rollout(key, stored);
    else if (type.kind === 'Job') this.runJob(key, stored);
    else if (type.kind === 'Certificate') this.issue(key, stored);
  }

  /** POST to a collection, as the secret store creates: 409 AlreadyExists when the name is taken. */
  private handleCreate(
    type: ResourceType,
    namespace: string | undefined,
    body: string,
    res: ServerResponse,
  ): void {
    const object = this.parseWritten(type, namespace, undefined, body, res);
    if (!object) return;
    const name = object.metadata.name;
    const key = this.key(type, namespace, name);
    if (this.objects.has(key)) {
      return send(res, 409, status(409, 'AlreadyExists', `${type.plural} "${name}" already exists`));
    }
    if (type.namespaced && !this.namespaceActive(namespace)) {
      return send(res, 404, notFound(NAMESPACE_TYPE, namespace!));
    }
    send(res, 201, this.store(type, namespace, object, undefined));
  }

  /** PUT of a whole object, as the secret store replaces: 404 when absent. */
  private handleReplace(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    key: string,
    body: string,
    res: ServerResponse,
  ): void {
    const object = this.parseWritten(type, namespace, name, body, res);
    if (!object) return;
    const existing = this.objects.get(key);
    if (!existing) return send(res, 404, notFound(type, name));
    send(res, 200, this.store(type, namespace, object, existing));
  }

  /** A JSON body for POST or PUT, checked as the API server does; undefined once the refusal is sent. */
  private parseWritten(
    type: ResourceType,
    namespace: string | undefined,
    name: string | undefined,
    body: string,
    res: ServerResponse,
  ): Stored | undefined {
    let object: Stored;
    try {
      object = JSON.parse(body) as Stored;
    } catch {
      send(res, 400, status(400, 'BadRequest', 'body is not JSON'));
      return undefined;
    }
    if (
      object?.apiVersion !== apiVersionOf(type) ||
      object.kind !== type.kind ||
      !object.metadata?.name ||
      (name !== undefined && object.metadata.name !== name) ||
      (type.namespaced && object.metadata.namespace !== undefined && object.metadata.namespace !== namespace)
    ) {
      send(res, 400, status(400, 'BadRequest', 'apiVersion, kind, name and namespace must match the URL'));
      return undefined;
    }
    const violations = objectViolations({ ...object, metadata: { ...object.metadata, namespace } });
    if (violations.length > 0) {
      send(res, 422, invalid(type, object.metadata.name, violations));
      return undefined;
    }
    return object;
  }

  /** Stores a created or replaced object with the metadata the API server owns. */
  private store(
    type: ResourceType,
    namespace: string | undefined,
    object: Stored,
    existing: Stored | undefined,
  ): Stored {
    const stored: Stored = {
      ...object,
      metadata: {
        ...object.metadata,
        ...(type.namespaced ? { namespace } : {}),
        uid: (existing?.metadata.uid as string | undefined) ?? randomUUID(),
        resourceVersion: String(this.resourceVersion++),
        generation: existing ? num(existing.metadata.generation) + 1 : 1,
        creationTimestamp:
          (existing?.metadata.creationTimestamp as string | undefined) ?? new Date().toISOString(),
      },
    };
    this.objects.set(this.keyOf(stored), stored);
    return stored;
  }

  /** `metadata.generation` moves with the desired state: everything but metadata (and status, if separate). */
  private specChanged(type: ResourceType, before: Stored, after: Stored): boolean {
    const desired = (object: Stored) => {
      const { metadata: _metadata, status: _status, ...rest } = object;
      return type.statusSubresource ? rest : { ...rest, status: object.status };
    };
    return canonical(desired(before)) !== canonical(desired(after));
  }

  private handleDelete(type: ResourceType, name: string, key: string, res: ServerResponse): void {
    const existing = this.objects.get(key);
    if (!existing) return send(res, 404, notFound(type, name));
    if (type.kind === 'Namespace') {
      this.deleteNamespace(name, key);
      return send(res, 200, existing);
    }
    const gone = this.deleteObject(key);
    if (!gone) return send(res, 200, existing);
    send(res, 200, {
      kind: 'Status',
      apiVersion: 'v1',
      status: 'Success',
      details: { name, kind: type.plural },
    });
  }

  /**
   * Deletes one object: held (deletionTimestamp set) while it has finalizers, else removed together with
   * what it owns (background garbage collection). Returns whether it is gone.
   */
  private deleteObject(key: string): boolean {
    const object = this.objects.get(key);
    if (!object) return true;
    const finalizers = (object.metadata.finalizers as string[] | undefined) ?? [];
    if (finalizers.length > 0) {
      object.metadata.deletionTimestamp ??= new Date().toISOString();
      return false;
    }
    this.objects.delete(key);
    this.managers.delete(key);
    const uid = object.metadata.uid;
    for (const [childKey, child] of [...this.objects]) {
      const owners = (child.metadata.ownerReferences as { uid?: string }[] | undefined) ?? [];
      if (uid && owners.some((owner) => owner.uid === uid)) this.deleteObject(childKey);
    }
    return true;
  }

  /** Terminating now; gone once its content is deleted (finalizers permitting) after the termination delay. */
  private deleteNamespace(name: string, key: string): void {
    const namespace = this.objects.get(key)!;
    if (namespace.metadata.deletionTimestamp) return;
    namespace.metadata.deletionTimestamp = new Date().toISOString();
    namespace.status = {
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
    if (!this.stuck) this.later(this.options.terminationDelayMs ?? 50, () => this.finishNamespace(name, key));
  }

  private finishNamespace(name: string, key: string): void {
    const namespace = this.objects.get(key);
    if (!namespace) return;
    for (const [otherKey, object] of [...this.objects]) {
      if (object.metadata.namespace === name && this.objects.has(otherKey)) this.deleteObject(otherKey);
    }
    const left = [...this.objects.values()].filter((object) => object.metadata.namespace === name);
    if (left.length === 0) {
      this.objects.delete(key);
      this.managers.delete(key);
      return;
    }
    // What the namespace controller reports while content with finalizers remains.
    const finalizers = [
      ...new Set(left.flatMap((o) => (o.metadata.finalizers as string[] | undefined) ?? [])),
    ];
    namespace.status = {
      phase: 'Terminating',
      conditions: [
        {
          type: 'NamespaceContentRemaining',
          status: 'True',
          reason: 'SomeResourcesRemain',
          message: `Some resources are remaining: ${left.length} resource instances`,
        },
        {
          type: 'NamespaceFinalizersRemaining',
          status: 'True',
          reason: 'SomeFinalizersRemain',
          message: `Some content in the namespace has finalizers remaining: ${finalizers.join(', ')} in ${left.length} resource instances`,
        },
      ],
    };
    this.later(this.options.terminationDelayMs ?? 50, () => this.finishNamespace(name, key));
  }

  private namespaceActive(name: string | undefined): boolean {
    const namespace = name && this.objects.get(this.key(NAMESPACE_TYPE, undefined, name));
    return Boolean(namespace && !namespace.metadata.deletionTimestamp);
  }

  /** The object at `key` if it is still the one a controller timer was started for. */
  private current(key: string, uid: unknown, generation?: unknown): Stored | undefined {
    const object = this.objects.get(key);
    if (!object || object.metadata.uid !== uid || object.metadata.deletionTimestamp) return undefined;
    if (generation !== undefined && object.metadata.generation !== generation) return undefined;
    if (!this.namespaceActive(object.metadata.namespace)) return undefined;
    return object;
  }

  /** Stores an object a controller creates (no validation, like a controller's own writes). */
  private put(object: Stored): Stored {
    object.metadata.uid ??= randomUUID();
    object.metadata.creationTimestamp ??= new Date().toISOString();
    object.metadata.resourceVersion = String(this.resourceVersion++);
    this.objects.set(this.keyOf(object), object);
    return object;
  }

  private childrenOf(owner: Stored, kind: string): Stored[] {
    return [...this.objects.values()].filter(
      (object) =>
        object.kind === kind &&
        object.metadata.namespace === owner.metadata.namespace &&
        ((object.metadata.ownerReferences as { uid?: string }[] | undefined) ?? []).some(
          (ref) => ref.uid === owner.metadata.uid,
        ),
    );
  }

  private imageUnpullable(image: string | undefined): boolean {
    return (
      image !== undefined &&
      this.unpullable.some((pattern) =>
        typeof pattern === 'string' ? image.includes(pattern) : pattern.test(image),
      )
    );
  }

  // Deployment controller ----------------------------------------------------------------------------------

  private rollout(key: string, deployment: Stored): void {
    const { uid, generation } = deployment.metadata;
    this.later(0, () => this.syncDeployment(key, uid, generation, false));
    this.later(this.options.rolloutDelayMs ?? 20, () => this.syncDeployment(key, uid, generation, true));
  }

  /** One pass of the Deployment controller; `settled`: the rollout delay has passed. */
  private syncDeployment(key: string, uid: unknown, generation: unknown, settled: boolean): void {
    const deployment = this.current(key, uid, generation);
    if (!deployment) return;
    const name = deployment.metadata.name;
    const namespace = deployment.metadata.namespace!;
    const spec = (deployment.spec ?? {}) as {
      replicas?: number;
      selector?: unknown;
      template?: { metadata?: { labels?: Record<string, string> }; spec?: Record<string, unknown> };
      strategy?: { rollingUpdate?: { maxUnavailable?: number | string } };
    };
    const replicas = typeof spec.replicas === 'number' ? spec.replicas : 1;
    const hash = shortHash(spec.template);
    const rsName = `${name}-${hash}`;
    // A new template replaces the old ReplicaSet (and, by garbage collection, its pods) at once.
    for (const old of this.childrenOf(deployment, 'ReplicaSet')) {
      if (old.metadata.name !== rsName) this.deleteObject(this.keyOf(old));
    }
    const labels = { ...(spec.template?.metadata?.labels ?? {}), 'pod-template-hash': hash };
    const replicaSet =
      this.get('apps/v1', 'ReplicaSet', namespace, rsName) ??
      this.put({
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        metadata: {
          name: rsName,
          namespace,
          labels,
          ownerReferences: [ownerRef(deployment)],
        },
        spec: { replicas, selector: spec.selector, template: { ...spec.template, metadata: { labels } } },
      });
    (replicaSet.spec as { replicas: number }).replicas = replicas;

    let pods = this.childrenOf(replicaSet, 'Pod');
    for (const extra of pods.slice(replicas)) this.deleteObject(this.keyOf(extra));
    pods = pods.slice(0, replicas);
    while (pods.length < replicas) {
      pods.push(
        this.put({
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: {
            name: `${rsName}-${suffix()}`,
            generateName: `${rsName}-`,
            namespace,
            labels,
            ownerReferences: [ownerRef(replicaSet)],
          },
          spec: structuredClone(spec.template?.spec ?? {}),
        }),
      );
    }
    for (const pod of pods) {
      if (settled || !pod.status) pod.status = this.deploymentPodStatus(pod, name, settled);
    }
    const ready = pods.filter((pod) => podIsReady(pod)).length;
    (replicaSet as Stored).status = omitZero({
      replicas: pods.length,
      readyReplicas: ready,
      availableReplicas: ready,
      observedGeneration: 1,
    });

    const maxUnavailable = unavailableAllowed(spec.strategy?.rollingUpdate?.maxUnavailable, replicas);
    const available = ready >= replicas - maxUnavailable;
    const previous = (deployment.status?.conditions as Condition[] | undefined) ?? [];
    const progressing: Condition =
      ready === replicas
        ? {
            type: 'Progressing',
            status: 'True',
            reason: 'NewReplicaSetAvailable',
            message: `ReplicaSet "${rsName}" has successfully progressed.`,
          }
        : settled
          ? {
              type: 'Progressing',
              status: 'False',
              reason: 'ProgressDeadlineExceeded',
              message: `ReplicaSet "${rsName}" has timed out progressing.`,
            }
          : {
              type: 'Progressing',
              status: 'True',
              reason: 'ReplicaSetUpdated',
              message: `ReplicaSet "${rsName}" is progressing.`,
            };
    deployment.status = {
      ...omitZero({
        observedGeneration: generation,
        replicas: pods.length,
        updatedReplicas: pods.length,
        readyReplicas: ready,
        availableReplicas: ready,
        unavailableReplicas: replicas - ready,
      }),
      conditions: [
        withTransition(previous, {
          type: 'Available',
          status: available ? 'True' : 'False',
          reason: available ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable',
          message: available
            ? 'Deployment has minimum availability.'
            : 'Deployment does not have minimum availability.',
        }),
        withTransition(previous, progressing),
      ],
    };
    deployment.metadata.resourceVersion = String(this.resourceVersion++);
  }

  private deploymentPodStatus(pod: Stored, deployment: string, settled: boolean): Record<string, unknown> {
    const main: Outcome = !settled
      ? 'creating'
      : this.crashLoopingSet.has(deployment)
        ? 'crash'
        : this.neverAvailableSet.has(deployment)
          ? 'unready'
          : 'ready';
    return podStatus(pod, main, settled, (image) => this.imageUnpullable(image));
  }

  // Job controller -----------------------------------------------------------------------------------------

  private runJob(key: string, job: Stored): void {
    const { uid } = job.metadata;
    this.later(0, () => this.syncJob(key, uid, false));
    this.later(this.options.jobDurationMs ?? 20, () => this.syncJob(key, uid, true));
  }

  private syncJob(key: string, uid: unknown, finished: boolean): void {
    const job = this.current(key, uid);
    if (!job) return;
    const name = job.metadata.name;
    const template = (
      (job.spec ?? {}) as { template?: { metadata?: { labels?: Record<string, string> }; spec?: unknown } }
    ).template;
    const now = new Date().toISOString();
    let pod = this.childrenOf(job, 'Pod')[0];
    if (!pod) {
      pod = this.put({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          name: `${name}-${suffix()}`,
          generateName: `${name}-`,
          namespace: job.metadata.namespace,
          labels: {
            ...(template?.metadata?.labels ?? {}),
            'batch.kubernetes.io/controller-uid': String(uid),
            'batch.kubernetes.io/job-name': name,
            'controller-uid': String(uid),
            'job-name': name,
          },
          ownerReferences: [ownerRef(job)],
        },
        spec: structuredClone(template?.spec ?? {}),
      });
    }
    const failing = this.failingJobSet.has(name);
    pod.status = podStatus(
      pod,
      !finished ? 'creating' : failing ? 'failed' : 'completed',
      finished,
      (image) => this.imageUnpullable(image),
    );
    const phase = (pod.status as { phase: string }).phase;
    const startTime = (job.status?.startTime as string | undefined) ?? now;
    if (phase === 'Succeeded') {
      const done = 'Reached expected number of succeeded pods';
      job.status = {
        startTime,
        completionTime: now,
        succeeded: 1,
        conditions: [
          {
            type: 'SuccessCriteriaMet',
            status: 'True',
            reason: 'CompletionsReached',
            message: done,
            lastTransitionTime: now,
          },
          {
            type: 'Complete',
            status: 'True',
            reason: 'CompletionsReached',
            message: done,
            lastTransitionTime: now,
          },
        ],
      };
    } else if (phase === 'Failed') {
      const reached = 'Job has reached the specified backoff limit';
      job.status = {
        startTime,
        failed: 1,
        conditions: [
          {
            type: 'FailureTarget',
            status: 'True',
            reason: 'BackoffLimitExceeded',
            message: reached,
            lastTransitionTime: now,
          },
          {
            type: 'Failed',
            status: 'True',
            reason: 'BackoffLimitExceeded',
            message: reached,
            lastTransitionTime: now,
          },
        ],
      };
    } else {
      job.status = { startTime, active: 1, ready: 0 };
    }
    job.metadata.resourceVersion = String(this.resourceVersion++);
  }

  // cert-manager ---------------------------------------------------------------------------------------------

  private issue(key: string, certificate: Stored): void {
    const { uid, generation } = certificate.metadata;
    this.later(0, () => this.syncCertificate(key, uid, generation, false));
    this.later(this.options.certificateDelayMs ?? 20, () => this.syncCertificate(key, uid, generation, true));
  }

  private syncCertificate(key: string, uid: unknown, generation: unknown, due: boolean): void {
    const certificate = this.current(key, uid, generation);
    if (!certificate) return;
    const now = new Date();
    const issued = due && !this.pendingCertificateSet.has(certificate.metadata.name);
    const secretName = (certificate.spec as { secretName?: string } | undefined)?.secretName;
    if (!issued) {
      certificate.status = {
        conditions: [
          {
            type: 'Ready',
            status: 'False',
            reason: 'DoesNotExist',
            message: 'Issuing certificate as Secret does not exist',
            observedGeneration: generation,
            lastTransitionTime: now.toISOString(),
          },
          {
            type: 'Issuing',
            status: 'True',
            reason: 'DoesNotExist',
            message: 'Issuing certificate as Secret does not exist',
            observedGeneration: generation,
            lastTransitionTime: now.toISOString(),
          },
        ],
      };
    } else {
      const day = 24 * 3600 * 1000;
      certificate.status = {
        conditions: [
          {
            type: 'Ready',
            status: 'True',
            reason: 'Ready',
            message: 'Certificate is up to date and has not expired',
            observedGeneration: generation,
            lastTransitionTime: now.toISOString(),
          },
        ],
        notBefore: now.toISOString(),
        notAfter: new Date(now.getTime() + 90 * day).toISOString(),
        renewalTime: new Date(now.getTime() + 60 * day).toISOString(),
        revision: 1,
      };
      if (this.options.issueTlsSecrets && secretName) {
        // Placeholder bytes, not a key pair: nothing here reads them as TLS material.
        this.put({
          apiVersion: 'v1',
          kind: 'Secret',
          type: 'kubernetes.io/tls',
          metadata: {
            name: secretName,
            namespace: certificate.metadata.namespace,
            annotations: { 'cert-manager.io/certificate-name': certificate.metadata.name },
          },
          data: {
            'tls.crt': Buffer.from('fake certificate').toString('base64'),
            'tls.key': Buffer.from('fake key').toString('base64'),
          },
        });
      }
    }
    certificate.metadata.resourceVersion = String(this.resourceVersion++);
  }
}
