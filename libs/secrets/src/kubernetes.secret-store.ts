import { createHash } from 'node:crypto';
import type { CoreV1Api, V1Secret } from '@kubernetes/client-node';
import { SecretStoreError } from './errors';
import { assertSecretPath } from './encrypted-postgres.secret-store';
import type { SecretStore, SecretValues } from './secret-store.port';

export const SECRET_PATH_ANNOTATION = 'collectverything.com/secret-path';
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY_VALUE = 'provisioning-secret-store';
export const TENANT_LABEL = 'tenant';
const DNS_SUBDOMAIN_MAX = 253;
const HASH_LENGTH = 10;
const TENANT_PATH = /^\/e-commerce\/tenants\/([a-z0-9](?:[a-z0-9-]{0,18}[a-z0-9])?-[0-9a-f]{6})\//;
const NAMESPACE_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** The calls this store makes; a structural subset of CoreV1Api so tests can hand in a fake. */
export type SecretsApi = Pick<
  CoreV1Api,
  | 'createNamespacedSecret'
  | 'readNamespacedSecret'
  | 'replaceNamespacedSecret'
  | 'deleteNamespacedSecret'
  | 'listNamespacedSecret'
>;

/**
 * A DNS-1123 subdomain derived from the path: the readable part (lowercased, runs of other characters
 * turned into '-') plus a hash of the exact path, because the readable part alone is not injective
 * (`/a_b` and `/a-b` would collide) and may need cutting to fit 253 characters.
 */
export function secretNameForPath(path: string): string {
  assertSecretPath(path);
  const hash = createHash('sha256').update(path, 'utf8').digest('hex').slice(0, HASH_LENGTH);
  const readable = path
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, DNS_SUBDOMAIN_MAX - HASH_LENGTH - 1)
    .replace(/-+$/g, '');
  return readable.length > 0 ? `${readable}-${hash}` : `secret-${hash}`;
}

/** The tenant a path belongs to (spec 3.3 layout), used for the `tenant` label. */
export function tenantOfPath(path: string): string | undefined {
  return TENANT_PATH.exec(path)?.[1];
}

export function buildSecretManifest(namespace: string, path: string, values: SecretValues): V1Secret {
  const tenant = tenantOfPath(path);
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'Opaque',
    metadata: {
      name: secretNameForPath(path),
      namespace,
      labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE, ...(tenant ? { [TENANT_LABEL]: tenant } : {}) },
      annotations: { [SECRET_PATH_ANNOTATION]: path },
    },
    data: Object.fromEntries(
      Object.entries(values).map(([k, v]) => [k, Buffer.from(v, 'utf8').toString('base64')]),
    ),
  };
}

function statusOf(error: unknown): number | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const code = (error as { code: unknown }).code;
    if (typeof code === 'number') return code;
  }
  return undefined;
}

function decode(secret: V1Secret): SecretValues {
  return Object.fromEntries(
    Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]),
  );
}

/**
 * One Kubernetes Secret per path in a shared namespace (e.g. e-commerce-shared), labelled `tenant=<id>` so
 * the spec's `kubectl delete secret -n e-commerce-shared -l tenant=<id>` removes a tenant's secrets.
 */
export class KubernetesSecretStore implements SecretStore {
  constructor(
    private readonly api: SecretsApi,
    readonly namespace: string,
  ) {
    if (!NAMESPACE_PATTERN.test(namespace)) {
      throw new SecretStoreError(
        'SECRETS.INVALID_NAMESPACE',
        `invalid namespace ${JSON.stringify(namespace)}`,
      );
    }
  }

  async put(path: string, values: SecretValues): Promise<void> {
    const body = buildSecretManifest(this.namespace, path, values);
    const name = body.metadata!.name!;
    try {
      await this.api.createNamespacedSecret({ namespace: this.namespace, body });
    } catch (error) {
      if (statusOf(error) !== 409) throw this.wrap('write', path, error);
      await this.api
        .replaceNamespacedSecret({ name, namespace: this.namespace, body })
        .catch((e: unknown) => Promise.reject(this.wrap('write', path, e)));
    }
  }

  async putIfAbsent(path: string, values: SecretValues): Promise<SecretValues> {
    const body = buildSecretManifest(this.namespace, path, values);
    try {
      // Create is atomic on the API server: a 409 means another writer won, and its value is the truth.
      await this.api.createNamespacedSecret({ namespace: this.namespace, body });
      return { ...values };
    } catch (error) {
      if (statusOf(error) !== 409) throw this.wrap('write', path, error);
    }
    const stored = await this.get(path);
    if (!stored) {
      throw new SecretStoreError(
        'SECRETS.CONCURRENT_DELETE',
        `secret at ${path} was deleted while being written`,
      );
    }
    return stored;
  }

  async get(path: string): Promise<SecretValues | undefined> {
    const name = secretNameForPath(path);
    try {
      const secret = await this.api.readNamespacedSecret({ name, namespace: this.namespace });
      if (secret.metadata?.annotations?.[SECRET_PATH_ANNOTATION] !== path) {
        throw new SecretStoreError('SECRETS.PATH_MISMATCH', `secret ${name} does not belong to path ${path}`);
      }
      return decode(secret);
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      if (error instanceof SecretStoreError) throw error;
      throw this.wrap('read', path, error);
    }
  }

  async delete(path: string): Promise<void> {
    const name = secretNameForPath(path);
    try {
      await this.api.deleteNamespacedSecret({ name, namespace: this.namespace });
    } catch (error) {
      if (statusOf(error) !== 404) throw this.wrap('delete', path, error);
    }
  }

  async ping(): Promise<void> {
    await this.api
      .listNamespacedSecret({
        namespace: this.namespace,
        labelSelector: `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`,
        limit: 1,
      })
      .catch((e: unknown) => Promise.reject(this.wrap('list', '(ping)', e)));
  }

  async list(prefix: string): Promise<string[]> {
    const tenant = tenantOfPath(prefix);
    const selector = [
      `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`,
      ...(tenant ? [`${TENANT_LABEL}=${tenant}`] : []),
    ];
    const paths: string[] = [];
    let continueToken: string | undefined;
    do {
      const page = await this.api
        .listNamespacedSecret({
          namespace: this.namespace,
          labelSelector: selector.join(','),
          _continue: continueToken,
        })
        .catch((e: unknown) => Promise.reject(this.wrap('list', prefix, e)));
      for (const item of page.items) {
        const path = item.metadata?.annotations?.[SECRET_PATH_ANNOTATION];
        if (path !== undefined && path.startsWith(prefix)) paths.push(path);
      }
      continueToken = page.metadata?._continue || undefined;
    } while (continueToken);
    return paths.sort();
  }

  private wrap(action: string, path: string, error: unknown): SecretStoreError {
    const status = statusOf(error);
    // Only the status goes into the message: an API error body may echo the request, values included.
    return new SecretStoreError(
      'SECRETS.KUBERNETES_API',
      `kubernetes ${action} of secret for ${path} failed${status ? ` (HTTP ${status})` : ''}`,
    );
  }
}
