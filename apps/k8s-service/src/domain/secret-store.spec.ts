import type { V1Secret } from '@kubernetes/client-node';
import {
  ADMIN_INITIAL_SECRET_KEYS,
  BUSINESS_SERVICES,
  adminInitialSecretPath,
  brokerSecretPath,
  databaseSecretPath,
  grafanaSecretPath,
  storageSecretPath,
} from '@app/contracts';
import { assertValidObject, type KubeObject } from '@app/kube';
import { KubernetesSecretStore, buildSecretManifest, type SecretValues, type SecretsApi } from '@app/secrets';
import { abcCorporation } from '../testing/fixtures';
import { resolveExternalSecrets } from '../testing/external-secrets-resolver';
import {
  DEFAULT_RENDER_OPTIONS,
  EXTERNAL_SECRETS_API_VERSION,
  type RenderOptions,
  ingressFiles,
  namespaceFiles,
  workloadFiles,
} from '@app/plans';
import { SECRET_STORE_READER, clusterSecretStore, secretStoreBootstrapObjects } from './secret-store';

const tenant = abcCorporation();
const options: RenderOptions = DEFAULT_RENDER_OPTIONS;
const SHARED = 'e-commerce-shared';

/** Every object of the tenant's tree that can hold or need a credential. */
function tree(renderOptions: RenderOptions = options): KubeObject[] {
  return [
    ...namespaceFiles(tenant, renderOptions),
    ...workloadFiles(tenant, renderOptions),
    ...ingressFiles(tenant, renderOptions),
  ].flatMap((file) => file.objects);
}

/**
 * Exactly the keys each service writes at its path (apps/database-service `DatabaseCredentials`,
 * apps/storage-service `storageSecretValues`, apps/broker-service ProvisionBroker, the database-service's
 * admin-initial secret). Values are placeholders: only names matter to the chain.
 */
function writtenByServices(tenantId: string): [string, SecretValues][] {
  const values = (keys: readonly string[]) => Object.fromEntries(keys.map((key) => [key, `v-${key}`]));
  return [
    ...BUSINESS_SERVICES.map((service): [string, SecretValues] => [
      databaseSecretPath(tenantId, service),
      values(['host', 'port', 'database', 'username', 'password']),
    ]),
    [
      storageSecretPath(tenantId),
      values([
        'MINIO_ENDPOINT',
        'MINIO_ACCESS_KEY',
        'MINIO_SECRET_KEY',
        'MINIO_USE_SSL',
        'MINIO_BUCKET_PRODUCTS',
        'MINIO_BUCKET_SAV',
        'MINIO_BUCKET_NEWSLETTERS',
      ]),
    ],
    [
      brokerSecretPath(tenantId),
      values([
        'RABBITMQ_HOST',
        'RABBITMQ_PORT',
        'RABBITMQ_USER',
        'RABBITMQ_PASSWORD',
        'RABBITMQ_VHOST',
        'RABBITMQ_EXCHANGE',
      ]),
    ],
    [adminInitialSecretPath(tenantId), values(ADMIN_INITIAL_SECRET_KEYS)],
  ];
}

describe('ClusterSecretStore and its reader (ESO kubernetes provider)', () => {
  it('renders objects the API server schemas accept', () => {
    const objects = secretStoreBootstrapObjects(options);
    expect(objects.map((o) => `${o.apiVersion}/${o.kind}`)).toEqual([
      'v1/ServiceAccount',
      'rbac.authorization.k8s.io/v1/Role',
      'rbac.authorization.k8s.io/v1/RoleBinding',
      `${EXTERNAL_SECRETS_API_VERSION}/ClusterSecretStore`,
    ]);
    for (const object of objects) expect(() => assertValidObject(object)).not.toThrow();
  });

  it('reads the namespace the services write to, with a CA and a service account of its own', () => {
    const store = clusterSecretStore(options);
    expect(store.metadata.name).toBe('tenant-secrets');
    expect(store.spec).toMatchObject({
      provider: {
        kubernetes: {
          remoteNamespace: SHARED,
          server: {
            caProvider: { type: 'ConfigMap', name: 'kube-root-ca.crt', key: 'ca.crt', namespace: SHARED },
          },
          auth: { serviceAccount: { name: SECRET_STORE_READER, namespace: SHARED } },
        },
      },
    });
    const renamed = clusterSecretStore({
      clusterSecretStore: 'other-store',
      secretStoreNamespace: 'vault-ns',
    });
    expect(renamed.metadata.name).toBe('other-store');
    expect(JSON.stringify(renamed)).not.toContain(SHARED);
  });

  it('grants read on Secrets of that namespace only, plus the rules review ESO validates the store with', () => {
    const [account, role, binding] = secretStoreBootstrapObjects(options);
    expect(account.metadata).toMatchObject({ name: SECRET_STORE_READER, namespace: SHARED });
    expect(role.kind).toBe('Role');
    expect(role.metadata.namespace).toBe(SHARED);
    expect(role.rules).toEqual([
      { apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectrulesreviews'], verbs: ['create'] },
    ]);
    expect(binding).toMatchObject({
      metadata: { namespace: SHARED },
      subjects: [{ kind: 'ServiceAccount', name: SECRET_STORE_READER, namespace: SHARED }],
      roleRef: { kind: 'Role', name: SECRET_STORE_READER },
    });
  });
});

describe('the secret chain of a rendered tenant tree', () => {
  const stored = writtenByServices(tenant.tenantId);
  const remoteSecrets = stored.map(([path, values]) => buildSecretManifest(SHARED, path, values));

  it('resolves every ExternalSecret against the Secrets the services write: nothing missing, nothing unused', () => {
    const resolution = resolveExternalSecrets({
      tree: tree(),
      stores: secretStoreBootstrapObjects(options),
      remoteSecrets,
    });
    expect(resolution.problems).toEqual([]);
    const namespace = `e-commerce-${tenant.tenantId}`;
    expect(resolution.targets.get(`${namespace}/auth-db-credentials`)).toEqual({
      DB_HOST: 'v-host',
      DB_PORT: 'v-port',
      DB_DATABASE: 'v-database',
      DB_USERNAME: 'v-username',
      DB_PASSWORD: 'v-password',
    });
    expect(Object.keys(resolution.targets.get(`${namespace}/auth-admin-credentials`) ?? {}).sort()).toEqual(
      [...ADMIN_INITIAL_SECRET_KEYS].sort(),
    );
  });

  it('hands the admin credentials to the seeder (migration Job) and to the auth service only', () => {
    const consumers = tree()
      .filter((o) => JSON.stringify(o.spec ?? {}).includes('"auth-admin-credentials"'))
      .map((o) => `${o.kind}/${o.metadata.name}`);
    expect(consumers).toEqual([
      'ExternalSecret/auth-admin-credentials',
      'Deployment/auth-service',
      `Job/tenant-migration-${tenant.tenantId}`,
    ]);
  });

  it('fails without the admin secret, and with a store named elsewhere', () => {
    const withoutAdmin = remoteSecrets.filter(
      (s) =>
        s.metadata?.annotations?.['collectverything.com/secret-path'] !==
        adminInitialSecretPath(tenant.tenantId),
    );
    const kinds = resolveExternalSecrets({
      tree: tree(),
      stores: secretStoreBootstrapObjects(options),
      remoteSecrets: withoutAdmin,
    }).problems.map((p) => p.kind);
    expect(kinds).toContain('secret-missing');
    expect(kinds).toContain('unsatisfied-reference');

    const elsewhere = resolveExternalSecrets({
      tree: tree({ ...options, clusterSecretStore: 'aws-secrets-manager' }),
      stores: secretStoreBootstrapObjects(options),
      remoteSecrets,
    });
    expect(new Set(elsewhere.problems.map((p) => p.kind))).toEqual(
      new Set(['store-missing', 'unsatisfied-reference']),
    );
  });

  it('resolves against the Secrets KubernetesSecretStore.put writes through the Kubernetes API', async () => {
    const api = new RecordingSecretsApi();
    const store = new KubernetesSecretStore(api as unknown as SecretsApi, SHARED);
    for (const [path, values] of stored) await store.put(path, values);
    // Another tenant's and a control-plane secret in the same namespace are not read by this tree.
    for (const [path, values] of writtenByServices('other-shop-0a1b2c')) await store.put(path, values);
    await store.put(grafanaSecretPath(tenant.tenantId), { login: 'x', password: 'y' });

    const resolution = resolveExternalSecrets({
      tree: tree(),
      stores: secretStoreBootstrapObjects(options),
      remoteSecrets: [...api.secrets.values()],
    });
    expect(resolution.problems).toEqual([]);
    expect(resolution.targets.size).toBe(BUSINESS_SERVICES.length + 3);
  });
});

/** The Kubernetes API as the store uses it: create (409 when present), replace, read (404 when absent). */
class RecordingSecretsApi {
  readonly secrets = new Map<string, V1Secret>();
  createNamespacedSecret = async (args: { namespace: string; body: V1Secret }) => {
    const key = `${args.namespace}/${args.body.metadata?.name}`;
    if (this.secrets.has(key)) throw Object.assign(new Error('conflict'), { code: 409 });
    this.secrets.set(key, structuredClone(args.body));
    return args.body;
  };
  replaceNamespacedSecret = async (args: { name: string; namespace: string; body: V1Secret }) => {
    this.secrets.set(`${args.namespace}/${args.name}`, structuredClone(args.body));
    return args.body;
  };
  readNamespacedSecret = async (args: { name: string; namespace: string }) => {
    const found = this.secrets.get(`${args.namespace}/${args.name}`);
    if (!found) throw Object.assign(new Error('not found'), { code: 404 });
    return structuredClone(found);
  };
}
