import type { V1Secret, V1SecretList } from '@kubernetes/client-node';
import {
  KubernetesSecretStore,
  SECRET_PATH_ANNOTATION,
  secretNameForPath,
  tenantOfPath,
  type SecretsApi,
} from './kubernetes.secret-store';

class HttpError extends Error {
  constructor(readonly code: number) {
    super(`HTTP ${code}`);
  }
}

/** Models the API server's semantics this store relies on: atomic create (409), 404 on missing. */
class FakeCoreV1Api {
  readonly secrets = new Map<string, V1Secret>();
  readonly calls: { method: string; args: Record<string, unknown> }[] = [];

  createNamespacedSecret = async (args: { namespace: string; body: V1Secret }): Promise<V1Secret> => {
    this.calls.push({ method: 'create', args });
    const key = `${args.namespace}/${args.body.metadata?.name}`;
    if (this.secrets.has(key)) throw new HttpError(409);
    this.secrets.set(key, structuredClone(args.body));
    return args.body;
  };
  replaceNamespacedSecret = async (args: {
    name: string;
    namespace: string;
    body: V1Secret;
  }): Promise<V1Secret> => {
    this.calls.push({ method: 'replace', args });
    this.secrets.set(`${args.namespace}/${args.name}`, structuredClone(args.body));
    return args.body;
  };
  readNamespacedSecret = async (args: { name: string; namespace: string }): Promise<V1Secret> => {
    this.calls.push({ method: 'read', args });
    const found = this.secrets.get(`${args.namespace}/${args.name}`);
    if (!found) throw new HttpError(404);
    return structuredClone(found);
  };
  deleteNamespacedSecret = async (args: { name: string; namespace: string }): Promise<V1Secret> => {
    this.calls.push({ method: 'delete', args });
    if (!this.secrets.delete(`${args.namespace}/${args.name}`)) throw new HttpError(404);
    return {};
  };
  listNamespacedSecret = async (args: {
    namespace: string;
    labelSelector?: string;
    limit?: number;
  }): Promise<V1SecretList> => {
    this.calls.push({ method: 'list', args });
    const wanted = (args.labelSelector ?? '')
      .split(',')
      .filter(Boolean)
      .map((pair) => pair.split('='));
    const items = [...this.secrets.entries()]
      .filter(([key]) => key.startsWith(`${args.namespace}/`))
      .map(([, secret]) => secret)
      .filter((secret) => wanted.every(([k, v]) => secret.metadata?.labels?.[k] === v));
    return { items, metadata: {} };
  };
}

const TENANT = 'abc-corporation-7f3a9c';
const PATH = `/e-commerce/tenants/${TENANT}/auth-db`;

function setup() {
  const fake = new FakeCoreV1Api();
  const store = new KubernetesSecretStore(fake as unknown as SecretsApi, 'e-commerce-shared');
  return { fake, store };
}

describe('secretNameForPath', () => {
  it('is a deterministic DNS-1123 subdomain with a hash suffix', () => {
    const name = secretNameForPath(PATH);
    expect(name).toBe(secretNameForPath(PATH));
    expect(name).toMatch(/^e-commerce-tenants-abc-corporation-7f3a9c-auth-db-[0-9a-f]{10}$/);
  });
  it('keeps paths that sanitize alike apart and fits 253 characters', () => {
    expect(secretNameForPath('/a_b')).not.toBe(secretNameForPath('/a-b'));
    const long = secretNameForPath(`/${'x'.repeat(300)}/${'y'.repeat(150)}`);
    expect(long.length).toBeLessThanOrEqual(253);
    expect(long).toMatch(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/);
  });
  it('refuses paths outside the allowed alphabet', () => {
    expect(() => secretNameForPath('/a/../b c')).toThrow(
      expect.objectContaining({ code: 'SECRETS.INVALID_PATH' }),
    );
  });
  it('finds the tenant of a tenant path only', () => {
    expect(tenantOfPath(PATH)).toBe(TENANT);
    expect(tenantOfPath('/platform/grafana')).toBeUndefined();
  });
});

describe('KubernetesSecretStore', () => {
  it('creates one labelled, annotated Secret per path with base64 data', async () => {
    const { fake, store } = setup();
    await store.put(PATH, { password: 's3cret' });
    const create = fake.calls.find((c) => c.method === 'create');
    expect(create?.args.namespace).toBe('e-commerce-shared');
    const body = create?.args.body as V1Secret;
    expect(body.metadata?.labels).toEqual({
      'app.kubernetes.io/managed-by': 'provisioning-secret-store',
      tenant: TENANT,
    });
    expect(body.metadata?.annotations?.[SECRET_PATH_ANNOTATION]).toBe(PATH);
    expect(body.data).toEqual({ password: Buffer.from('s3cret').toString('base64') });
    expect(body.type).toBe('Opaque');
    expect(await store.get(PATH)).toEqual({ password: 's3cret' });
  });

  it('put replaces an existing Secret; putIfAbsent returns the stored one', async () => {
    const { fake, store } = setup();
    await store.put(PATH, { password: 'one' });
    await store.put(PATH, { password: 'two' });
    expect(fake.calls.map((c) => c.method)).toContain('replace');
    expect(await store.putIfAbsent(PATH, { password: 'three' })).toEqual({ password: 'two' });
    expect(await store.get(PATH)).toEqual({ password: 'two' });
  });

  it('absent is success on delete, undefined on get; list filters by tenant label and prefix', async () => {
    const { fake, store } = setup();
    await store.delete(PATH);
    expect(await store.get(PATH)).toBeUndefined();
    await store.put(PATH, { a: '1' });
    await store.put(`/e-commerce/tenants/${TENANT}/rabbitmq`, { a: '2' });
    await store.put('/e-commerce/tenants/other-co-123abc/auth-db', { a: '3' });
    expect(await store.list(`/e-commerce/tenants/${TENANT}/`)).toEqual([
      PATH,
      `/e-commerce/tenants/${TENANT}/rabbitmq`,
    ]);
    const list = fake.calls.filter((c) => c.method === 'list').pop();
    expect(list?.args.labelSelector).toBe(
      `app.kubernetes.io/managed-by=provisioning-secret-store,tenant=${TENANT}`,
    );
    await store.delete(PATH);
    expect(await store.get(PATH)).toBeUndefined();
  });

  it('reports API failures with the status only', async () => {
    const { fake, store } = setup();
    fake.createNamespacedSecret = async () => {
      throw Object.assign(new HttpError(403), { body: 'echo of password=hunter2' });
    };
    await expect(store.put(PATH, { password: 'hunter2' })).rejects.toThrow(/HTTP 403/);
    await expect(store.put(PATH, { password: 'hunter2' })).rejects.not.toThrow(/hunter2/);
  });

  it('pings with one list call of at most one item, and reports a failing API with its status only', async () => {
    const { fake, store } = setup();
    await store.put(PATH, { password: 'hunter2' });
    await store.put(`/e-commerce/tenants/${TENANT}/orders-db`, { password: 'other' });
    fake.calls.length = 0;
    await store.ping();
    expect(fake.calls).toEqual([
      {
        method: 'list',
        args: { namespace: 'e-commerce-shared', labelSelector: expect.any(String), limit: 1 },
      },
    ]);
    fake.listNamespacedSecret = async () => {
      throw Object.assign(new HttpError(503), { body: 'echo of password=hunter2' });
    };
    await expect(store.ping()).rejects.toThrow(/HTTP 503/);
    await expect(store.ping()).rejects.not.toThrow(/hunter2/);
  });

  it('refuses a bad namespace', () => {
    expect(() => new KubernetesSecretStore(new FakeCoreV1Api() as unknown as SecretsApi, 'Bad_NS')).toThrow(
      /invalid namespace/,
    );
  });
});
