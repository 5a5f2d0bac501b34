import { permanent, retryable, StepError } from '@app/platform';
import type { KubeConfig, KubernetesObjectApi } from '@kubernetes/client-node';
import { loadPackage } from './esm';
import type { KubeObject } from './schema';

type ClientModule = typeof import('@kubernetes/client-node');

export interface KubeConnection {
  /** Path to a kubeconfig; empty = in-cluster or $KUBECONFIG (loadFromDefault). */
  kubeconfig?: string;
  /** Direct server URL (local API double); takes precedence over kubeconfig. */
  server?: string;
  token?: string;
  /** Bound on each API request (KUBE_REQUEST_TIMEOUT_MS); a silent server fails the call as retryable. */
  requestTimeoutMs?: number;
}

export const DEFAULT_KUBE_REQUEST_TIMEOUT_MS = 30_000;

/** Thin wrapper over `KubernetesObjectApi`: typed errors with stable codes, 404 as undefined. */
export class KubeClient {
  private readonly api: KubernetesObjectApi;
  private readonly timeoutMs: number;

  /** `fieldManager`: one stable server-side apply manager per service (DESIGN.md section 6). */
  constructor(
    connection: KubeConnection,
    private readonly fieldManager: string,
  ) {
    const k8s = loadPackage<ClientModule>('@kubernetes/client-node');
    const kc: KubeConfig = new k8s.KubeConfig();
    if (connection.server) {
      kc.loadFromOptions({
        // client-node refuses plain HTTP unless TLS verification is off; only the local double speaks HTTP.
        clusters: [
          { name: 'target', server: connection.server, skipTLSVerify: connection.server.startsWith('http:') },
        ],
        users: [{ name: 'user', token: connection.token }],
        contexts: [{ name: 'target', cluster: 'target', user: 'user' }],
        currentContext: 'target',
      });
    } else if (connection.kubeconfig) kc.loadFromFile(connection.kubeconfig);
    else kc.loadFromDefault();
    this.api = k8s.KubernetesObjectApi.makeApiClient(kc);
    this.timeoutMs = connection.requestTimeoutMs ?? DEFAULT_KUBE_REQUEST_TIMEOUT_MS;
  }

  /**
   * The call, or a retryable K8S.API_TIMEOUT once `timeoutMs` passes without an answer. The generated client
   * takes no abort signal on these methods, so the late request is left to its socket; its answer is ignored.
   */
  private bounded<T>(call: () => Promise<T>, action: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            retryable('K8S.API_TIMEOUT', `${action}: no answer from the API server in ${this.timeoutMs} ms`),
          ),
        this.timeoutMs,
      );
    });
    const request = call();
    request.catch(() => undefined); // a late failure after the timeout must not be unhandled
    return Promise.race([request, timeout]).finally(() => clearTimeout(timer));
  }

  /** Server-side apply with this service's field manager (force: we own every field we render). */
  async apply(object: KubeObject): Promise<KubeObject> {
    try {
      return (await this.bounded(
        () =>
          this.api.patch(
            object,
            undefined,
            undefined,
            this.fieldManager,
            true,
            'application/apply-patch+yaml',
          ),
        `apply ${object.kind}/${object.metadata.name}`,
      )) as KubeObject;
    } catch (error) {
      throw mapError(error, `apply ${object.kind}/${object.metadata.name}`);
    }
  }

  async read(
    apiVersion: string,
    kind: string,
    name: string,
    namespace?: string,
  ): Promise<KubeObject | undefined> {
    try {
      return (await this.bounded(
        () => this.api.read({ apiVersion, kind, metadata: { name, namespace } }),
        `read ${kind}/${name}`,
      )) as KubeObject;
    } catch (error) {
      if (statusCode(error) === 404) return undefined;
      throw mapError(error, `read ${kind}/${name}`);
    }
  }

  async list(apiVersion: string, kind: string, namespace?: string): Promise<KubeObject[]> {
    try {
      return (await this.bounded(() => this.api.list(apiVersion, kind, namespace), `list ${kind}`))
        .items as KubeObject[];
    } catch (error) {
      throw mapError(error, `list ${kind}`);
    }
  }

  /** Whether the API server answers (a namespace list: the cheapest call every service may make). */
  async reachable(): Promise<boolean> {
    try {
      await this.list('v1', 'Namespace');
      return true;
    } catch {
      return false;
    }
  }

  /** Absent is success; returns whether a DELETE was accepted. */
  async delete(object: Pick<KubeObject, 'apiVersion' | 'kind' | 'metadata'>): Promise<boolean> {
    try {
      await this.bounded(
        () => this.api.delete(object as KubeObject, undefined, undefined, undefined, undefined, 'Background'),
        `delete ${object.kind}/${object.metadata.name}`,
      );
      return true;
    } catch (error) {
      if (statusCode(error) === 404) return false;
      throw mapError(error, `delete ${object.kind}/${object.metadata.name}`);
    }
  }
}

function statusCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

function serverMessage(error: unknown): string {
  const body = (error as { body?: unknown } | null)?.body;
  if (typeof body === 'string') {
    try {
      const parsed = JSON.parse(body) as { message?: string };
      if (parsed.message) return parsed.message;
    } catch {
      return body.slice(0, 300);
    }
  }
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message.split('\n')[0].slice(0, 300) : String(error);
}

/** API errors to stable codes: invalid objects are permanent, everything transient is retryable. */
export function mapError(error: unknown, action: string): StepError {
  if (error instanceof StepError) return error;
  const code = statusCode(error);
  const message = `${action}: ${serverMessage(error)}`;
  switch (code) {
    case 400:
    case 422:
      return permanent('K8S.REJECTED', message, error);
    case 401:
    case 403:
      return /being terminated/.test(message)
        ? retryable('K8S.NAMESPACE_TERMINATING', message, error)
        : permanent('K8S.FORBIDDEN', message, error);
    case 404:
      return retryable('K8S.NOT_FOUND', message, error);
    case 409:
      return retryable('K8S.CONFLICT', message, error);
    default:
      return retryable('K8S.API_UNAVAILABLE', message, error);
  }
}
