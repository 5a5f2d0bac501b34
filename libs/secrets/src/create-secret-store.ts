import { createRequire } from 'node:module';
import { EncryptedPostgresSecretStore, type SecretStoreLogger } from './encrypted-postgres.secret-store';
import { SecretStoreError } from './errors';
import { InMemorySecretStore } from './in-memory.secret-store';
import { KubernetesSecretStore } from './kubernetes.secret-store';
import { parseSecretStoreKeys, type SecretKeySettings } from './secret-cipher';
import type { SecretStore } from './secret-store.port';

/**
 * `key` (SECRET_STORE_KEY), `keys` (SECRET_STORE_KEYS) and `keyId` (SECRET_STORE_KEY_ID): at least one key is
 * required for the PostgreSQL store only (see `parseSecretStoreKeys`).
 */
export interface CreateSecretStoreOptions extends SecretKeySettings {
  /** Where the PostgreSQL store reports lost connections (default: a pino logger on stdout). */
  logger?: SecretStoreLogger;
  /** For tests: the Kubernetes API to use instead of the default kubeconfig. */
  kubernetesApi?: ConstructorParameters<typeof KubernetesSecretStore>[0];
}

/**
 * `postgres://user@host:port/db?schema=secret_store&pool_size=4` (encrypted in PostgreSQL; its connections are
 * named `secret-store` unless the URL sets `application_name`; `connect_timeout_ms` and `statement_timeout_ms`
 * bound its waits, 10 s and 30 s by default), `kubernetes://<namespace>`
 * (Secrets in that namespace, via the default kubeconfig or in-cluster account), or `memory:` (tests).
 */
export function createSecretStore(url: string, options: CreateSecretStoreOptions = {}): SecretStore {
  if (url === 'memory:' || url === 'memory://') return new InMemorySecretStore();
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new SecretStoreError('SECRETS.BAD_URL', 'SECRET_STORE_URL is not a valid URL');
  }
  switch (parsed.protocol) {
    case 'postgres:':
    case 'postgresql:': {
      const keys = parseSecretStoreKeys(options);
      const schema = parsed.searchParams.get('schema') ?? undefined;
      const poolSize = parsePoolSize(parsed.searchParams.get('pool_size'));
      const connectTimeoutMs = parseTimeout(
        parsed.searchParams.get('connect_timeout_ms'),
        'connect_timeout_ms',
      );
      const statementTimeoutMs = parseTimeout(
        parsed.searchParams.get('statement_timeout_ms'),
        'statement_timeout_ms',
      );
      for (const name of ['schema', 'pool_size', 'connect_timeout_ms', 'statement_timeout_ms'])
        parsed.searchParams.delete(name);
      if (!parsed.searchParams.has('application_name'))
        parsed.searchParams.set('application_name', 'secret-store');
      return new EncryptedPostgresSecretStore({
        connectionString: parsed.toString(),
        schema,
        poolSize,
        keys,
        logger: options.logger,
        connectTimeoutMs,
        statementTimeoutMs,
      });
    }
    case 'kubernetes:': {
      const namespace = parsed.hostname;
      if (options.kubernetesApi) return new KubernetesSecretStore(options.kubernetesApi, namespace);
      return new KubernetesSecretStore(defaultKubernetesApi(), namespace);
    }
    default:
      throw new SecretStoreError(
        'SECRETS.UNSUPPORTED_URL',
        `SECRET_STORE_URL scheme ${JSON.stringify(parsed.protocol)} is not one of postgres:, kubernetes:, memory:`,
      );
  }
}

/**
 * @kubernetes/client-node v2 is ESM-only: loaded lazily through Node's own `require(esm)`, so processes and
 * Jest suites that never pick the Kubernetes store do not load it at all.
 */
function defaultKubernetesApi(): ConstructorParameters<typeof KubernetesSecretStore>[0] {
  const k8s = createRequire(__filename)(
    '@kubernetes/client-node',
  ) as typeof import('@kubernetes/client-node');
  const config = new k8s.KubeConfig();
  config.loadFromDefault();
  return config.makeApiClient(k8s.CoreV1Api);
}

function parsePoolSize(value: string | null): number | undefined {
  if (value === null) return undefined;
  const size = Number(value);
  if (!Number.isInteger(size) || size < 1 || size > 100) {
    throw new SecretStoreError(
      'SECRETS.BAD_URL',
      'SECRET_STORE_URL pool_size must be an integer from 1 to 100',
    );
  }
  return size;
}

function parseTimeout(value: string | null, name: string): number | undefined {
  if (value === null) return undefined;
  const ms = Number(value);
  if (!Number.isInteger(ms) || ms < 100 || ms > 3_600_000) {
    throw new SecretStoreError(
      'SECRETS.BAD_URL',
      `SECRET_STORE_URL ${name} must be an integer from 100 to 3600000`,
    );
  }
  return ms;
}
