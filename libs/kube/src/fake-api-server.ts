import { randomUUID } from 'node:crypto';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { notFound, readBody, send, status } from './fake-api-http';
import { RESOURCES, type ResourceType, apiVersionOf } from './fake-api-resources';
import { ObjectStore, type Stored } from './fake-api-store';
import { ObjectWrites } from './fake-api-writes';
import { CertManager } from './fake-cert-manager';
import { DeploymentController } from './fake-deployment-controller';
import { JobController } from './fake-job-controller';
import { NamespaceController } from './fake-namespace-controller';
import { ANONYMOUS, type AuthorizationAttributes, requestAttributes } from './request-attributes';

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
 * This class holds the controls the tests use and routes requests (discovery, GET and LIST here); the writes,
 * the storage and each controller live in the `fake-*` files beside it.
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
   * `create` when a server-side apply creates the object (see `ObjectWrites.apply`).
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

export class FakeApiServer {
  readonly requests: RecordedRequest[] = [];
  private readonly store = new ObjectStore();
  private readonly namespaces: NamespaceController;
  private readonly deployments: DeploymentController;
  private readonly jobs: JobController;
  private readonly certificates: CertManager;
  private readonly writes: ObjectWrites;
  private readonly unpullable: (string | RegExp)[];
  private server?: Server;

  constructor(options: FakeApiServerOptions = {}) {
    const store = this.store;
    this.unpullable = [...(options.unpullableImages ?? [])];
    const unpullable = (image: string | undefined) =>
      image !== undefined &&
      this.unpullable.some((pattern) =>
        typeof pattern === 'string' ? image.includes(pattern) : pattern.test(image),
      );
    this.namespaces = new NamespaceController(store, options.terminationDelayMs ?? 50);
    this.deployments = new DeploymentController(
      store,
      options.rolloutDelayMs ?? 20,
      new Set(options.neverAvailable ?? []),
      new Set(options.crashLooping ?? []),
      unpullable,
    );
    this.jobs = new JobController(
      store,
      options.jobDurationMs ?? 20,
      new Set(options.failingJobs ?? []),
      unpullable,
    );
    this.certificates = new CertManager(
      store,
      options.certificateDelayMs ?? 20,
      new Set(options.pendingCertificates ?? []),
      options.issueTlsSecrets ?? false,
    );
    this.writes = new ObjectWrites(store, this.namespaces, [this.deployments, this.jobs, this.certificates]);
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
    this.store.stopTimers();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Namespaces deleted from now on stay Terminating (a finalizer that never clears). */
  stickTerminating(stuck: boolean): void {
    this.namespaces.stuck = stuck;
  }

  /** Pods of Deployments with this name, applied from now on, run but never become ready. */
  neverAvailable(deployment: string): void {
    this.deployments.neverAvailable.add(deployment);
  }
  /** Pods of Deployments with this name, applied from now on, crash-loop. */
  crashLoop(deployment: string): void {
    this.deployments.crashLooping.add(deployment);
  }
  /** Images matching this (substring or pattern), in pods created from now on, cannot be pulled. */
  failImagePull(image: string | RegExp): void {
    this.unpullable.push(image);
  }
  /** Jobs with this name, created from now on, fail. */
  failJob(job: string): void {
    this.jobs.failing.add(job);
  }
  /** Certificates with this name, applied from now on, are never issued. */
  holdCertificate(certificate: string): void {
    this.certificates.pending.add(certificate);
  }

  /** Inserts an object as a controller would (no validation): pods, Argo CD applications with status. */
  seed(object: Stored): void {
    const type = this.store.typeOf(object.apiVersion, object.kind)!;
    const copy = structuredClone(object);
    copy.metadata.uid ??= randomUUID();
    this.store.objects.set(this.store.key(type, object.metadata.namespace, object.metadata.name), copy);
  }

  get(apiVersion: string, kind: string, namespace: string | undefined, name: string): Stored | undefined {
    return this.store.find(apiVersion, kind, namespace, name);
  }

  list(): Stored[] {
    return [...this.store.objects.values()];
  }

  /** The authorization checks of every request served so far, in order; `user` narrows them to one caller. */
  authorizations(user?: string): AuthorizationAttributes[] {
    return this.requests
      .filter((request) => user === undefined || request.user === user)
      .flatMap((request) => request.authorizations);
  }

  /** A DELETE as a client (or Argo CD pruning) would send it; false when absent. */
  delete(apiVersion: string, kind: string, namespace: string | undefined, name: string): boolean {
    const type = this.store.typeOf(apiVersion, kind);
    const key = type && this.store.key(type, namespace, name);
    if (!type || !key || !this.store.objects.has(key)) return false;
    this.writes.remove(type, name, key);
    return true;
  }

  /** Removes an object's finalizers, as the controller that owns them does; a deleted object then goes. */
  clearFinalizers(apiVersion: string, kind: string, namespace: string | undefined, name: string): void {
    const object = this.get(apiVersion, kind, namespace, name);
    if (!object) return;
    delete object.metadata.finalizers;
    if (object.metadata.deletionTimestamp) this.store.deleteObject(this.store.keyOf(object));
  }

  // -------------------------------------------------------------------------------------------------------

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
    if (method === 'POST' && name === undefined) return this.writes.create(type, namespace, body, res);
    if (name === undefined)
      return send(res, 405, status(405, 'MethodNotAllowed', `${method} on a collection`));
    const target = { type, namespace, name, key: this.store.key(type, namespace, name) };
    switch (method) {
      case 'GET': {
        const found = this.store.objects.get(target.key);
        return found ? send(res, 200, found) : send(res, 404, notFound(type, name));
      }
      case 'PATCH':
        return this.writes.apply(
          target,
          req.headers['content-type'],
          url.searchParams,
          body,
          res,
          record.authorizations,
        );
      case 'PUT':
        return this.writes.replace(target, body, res);
      case 'DELETE':
        return this.writes.delete(target, res);
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
    const items = [...this.store.objects.values()].filter((object) => {
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
}
