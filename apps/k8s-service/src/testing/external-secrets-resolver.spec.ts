import type { KubeObject } from '@app/kube';
import { resolveExternalSecrets, type Problem, type RemoteSecret } from './external-secrets-resolver';

const NS = 'e-commerce-shop';

function store(
  kubernetes: Record<string, unknown> | undefined,
  extra: Record<string, unknown> = {},
): KubeObject {
  return {
    apiVersion: 'external-secrets.io/v1',
    kind: 'ClusterSecretStore',
    metadata: { name: 'tenant-secrets' },
    spec: { provider: kubernetes ? { kubernetes } : { aws: { service: 'SecretsManager' } }, ...extra },
  };
}
const kubeStore = store({ remoteNamespace: 'shared', auth: { serviceAccount: { name: 'reader' } } });

function externalSecret(name: string, spec: Record<string, unknown>, namespace = NS): KubeObject {
  return {
    apiVersion: 'external-secrets.io/v1',
    kind: 'ExternalSecret',
    metadata: { name, namespace },
    spec: {
      secretStoreRef: { kind: 'ClusterSecretStore', name: 'tenant-secrets' },
      target: { name },
      ...spec,
    },
  };
}

function remote(name: string, values: Record<string, string>, namespace = 'shared'): RemoteSecret {
  return {
    metadata: { name, namespace },
    data: Object.fromEntries(Object.entries(values).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
  };
}

function deployment(container: Record<string, unknown>, volumes: unknown[] = []): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'api', namespace: NS },
    spec: { template: { spec: { containers: [{ name: 'api', ...container }], volumes } } },
  };
}

const dbSecret = externalSecret('db', {
  data: [
    { secretKey: 'DB_USER', remoteRef: { key: 'db-remote', property: 'username' } },
    { secretKey: 'DB_PASSWORD', remoteRef: { key: 'db-remote', property: 'password' } },
  ],
});
const dbRemote = remote('db-remote', { username: 'shop', password: 'pw' });

function kinds(problems: Problem[]): string[] {
  return problems.map((p) => p.kind);
}

describe('resolveExternalSecrets (ESO kubernetes provider model)', () => {
  it('resolves data by property and dataFrom.extract by whole Secret, in the ExternalSecret namespace', () => {
    const resolution = resolveExternalSecrets({
      tree: [dbSecret, externalSecret('mq', { dataFrom: [{ extract: { key: 'mq-remote' } }] })],
      stores: [kubeStore],
      remoteSecrets: [dbRemote, remote('mq-remote', { HOST: 'h', PORT: '5672' })],
    });
    expect(resolution.problems).toEqual([]);
    expect(resolution.targets).toEqual(
      new Map([
        [`${NS}/db`, { DB_USER: 'shop', DB_PASSWORD: 'pw' }],
        [`${NS}/mq`, { HOST: 'h', PORT: '5672' }],
      ]),
    );
  });

  it('reports a store that does not exist, one of another kind, and a namespaced store of another namespace', () => {
    const namespaced: KubeObject = {
      ...kubeStore,
      kind: 'SecretStore',
      metadata: { name: 'local', namespace: 'other' },
    };
    const problems = resolveExternalSecrets({
      tree: [
        dbSecret,
        externalSecret('by-kind', { secretStoreRef: { kind: 'SecretStore', name: 'tenant-secrets' } }),
        externalSecret('by-ns', { secretStoreRef: { name: 'local' } }),
      ],
      stores: [store(undefined), namespaced],
      remoteSecrets: [dbRemote],
    }).problems;
    expect(problems).toEqual([
      expect.objectContaining({ kind: 'store-not-kubernetes', at: `ExternalSecret ${NS}/db` }),
      expect.objectContaining({ kind: 'store-missing', at: `ExternalSecret ${NS}/by-kind` }),
      expect.objectContaining({ kind: 'store-missing', at: `ExternalSecret ${NS}/by-ns` }),
    ]);
  });

  it("applies a ClusterSecretStore's conditions to the namespace's labels", () => {
    const guarded = store(
      { remoteNamespace: 'shared' },
      { conditions: [{ namespaceSelector: { matchExpressions: [{ key: 'tenant', operator: 'Exists' }] } }] },
    );
    const namespace = (labels: Record<string, string>): KubeObject => ({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: NS, labels },
    });
    const refused = resolveExternalSecrets({
      tree: [namespace({}), dbSecret],
      stores: [guarded],
      remoteSecrets: [dbRemote],
    });
    expect(kinds(refused.problems)).toEqual(['store-refuses-namespace']);
    expect(refused.targets.size).toBe(0);
    const admitted = resolveExternalSecrets({
      tree: [namespace({ tenant: 'shop' }), dbSecret],
      stores: [guarded],
      remoteSecrets: [dbRemote],
    });
    expect(admitted.problems).toEqual([]);
  });

  it('reports a missing remote Secret, a missing key and a Secret in another namespace, and writes no target', () => {
    const resolution = resolveExternalSecrets({
      tree: [
        dbSecret,
        externalSecret('by-path', { dataFrom: [{ extract: { key: '/e-commerce/tenants/shop/minio' } }] }),
      ],
      stores: [kubeStore],
      remoteSecrets: [remote('db-remote', { username: 'shop' }), remote('by-path', { A: '1' }, 'default')],
    });
    expect(resolution.problems).toEqual([
      {
        kind: 'key-missing',
        at: `ExternalSecret ${NS}/db`,
        detail: 'Secret shared/db-remote has no key password',
      },
      {
        kind: 'secret-missing',
        at: `ExternalSecret ${NS}/by-path`,
        detail: 'Secret shared//e-commerce/tenants/shop/minio not found',
      },
    ]);
    expect(resolution.targets.size).toBe(0);
  });

  it('reports keys of a referenced remote Secret that no ExternalSecret reads, and ignores unreferenced Secrets', () => {
    const problems = resolveExternalSecrets({
      tree: [dbSecret],
      stores: [kubeStore],
      remoteSecrets: [
        remote('db-remote', { username: 'shop', password: 'pw', host: 'mysql', port: '3306' }),
        remote('grafana', { password: 'not for pods' }),
      ],
    }).problems;
    expect(problems).toEqual([
      { kind: 'unused-key', at: 'Secret shared/db-remote', detail: 'key host is read by no ExternalSecret' },
      { kind: 'unused-key', at: 'Secret shared/db-remote', detail: 'key port is read by no ExternalSecret' },
    ]);
  });

  it('reports every pod reference no resolved Secret satisfies: env key, envFrom, volume', () => {
    const problems = resolveExternalSecrets({
      tree: [
        dbSecret,
        deployment(
          {
            env: [
              { name: 'DB_USER', valueFrom: { secretKeyRef: { name: 'db', key: 'DB_USER' } } },
              { name: 'DB_HOST', valueFrom: { secretKeyRef: { name: 'db', key: 'DB_HOST' } } },
              { name: 'OPTIONAL', valueFrom: { secretKeyRef: { name: 'nope', key: 'X', optional: true } } },
            ],
            envFrom: [{ secretRef: { name: 'db' } }, { secretRef: { name: 'admin-credentials' } }],
          },
          [{ name: 'certs', secret: { secretName: 'db', items: [{ key: 'ca.crt', path: 'ca.crt' }] } }],
        ),
      ],
      stores: [kubeStore],
      remoteSecrets: [dbRemote],
    }).problems;
    expect(problems).toEqual([
      {
        kind: 'unsatisfied-reference',
        at: `Deployment ${NS}/api`,
        detail: 'container api env DB_HOST: secretKeyRef db/DB_HOST',
      },
      {
        kind: 'unsatisfied-reference',
        at: `Deployment ${NS}/api`,
        detail: 'container api envFrom secretRef admin-credentials',
      },
      { kind: 'unsatisfied-reference', at: `Deployment ${NS}/api`, detail: 'volume certs: secret db' },
    ]);
  });

  it('counts the Secret a cert-manager Certificate issues as present, and checks Job pod templates too', () => {
    const certificate: KubeObject = {
      apiVersion: 'cert-manager.io/v1',
      kind: 'Certificate',
      metadata: { name: 'tls', namespace: NS },
      spec: { secretName: 'tenant-tls-secret' },
    };
    const job: KubeObject = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'migrate', namespace: NS },
      spec: {
        template: { spec: { containers: [{ name: 'm', envFrom: [{ secretRef: { name: 'seed' } }] }] } },
      },
    };
    const problems = resolveExternalSecrets({
      tree: [
        certificate,
        job,
        deployment({}, [
          { name: 'tls', secret: { secretName: 'tenant-tls-secret', items: [{ key: 'tls.crt' }] } },
        ]),
      ],
      stores: [kubeStore],
      remoteSecrets: [],
    }).problems;
    expect(problems).toEqual([
      {
        kind: 'unsatisfied-reference',
        at: `Job ${NS}/migrate`,
        detail: 'container m envFrom secretRef seed',
      },
    ]);
  });

  it('reports what it does not model instead of passing it unchecked', () => {
    const problems = resolveExternalSecrets({
      tree: [externalSecret('found', { dataFrom: [{ find: { name: { regexp: 'tls-.*' } } }] })],
      stores: [kubeStore],
      remoteSecrets: [],
    }).problems;
    expect(kinds(problems)).toEqual(['unsupported']);
  });
});
