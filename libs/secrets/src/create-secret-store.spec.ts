import { randomBytes } from 'node:crypto';
import { createSecretStore } from './create-secret-store';
import { EncryptedPostgresSecretStore } from './encrypted-postgres.secret-store';
import { InMemorySecretStore } from './in-memory.secret-store';
import { KubernetesSecretStore, type SecretsApi } from './kubernetes.secret-store';

describe('createSecretStore', () => {
  it('builds the in-memory store', () => {
    expect(createSecretStore('memory:')).toBeInstanceOf(InMemorySecretStore);
  });
  it('builds the encrypted PostgreSQL store with the schema from the URL (no connection until used)', async () => {
    const store = createSecretStore('postgres://postgres@127.0.0.1:5432/postgres?schema=my_secrets', {
      key: randomBytes(32).toString('base64'),
    });
    expect(store).toBeInstanceOf(EncryptedPostgresSecretStore);
    expect((store as EncryptedPostgresSecretStore).schema).toBe('my_secrets');
    await store.close?.();
  });
  it('refuses the PostgreSQL store without a valid key, naming the variable', () => {
    expect(() => createSecretStore('postgres://x@127.0.0.1/db')).toThrow(/SECRET_STORE_KEY is not set/);
    expect(() => createSecretStore('postgres://x@127.0.0.1/db', { key: 'AAAA' })).toThrow(
      /SECRET_STORE_KEY decodes/,
    );
  });
  it('sizes and names the PostgreSQL pool from the URL, refusing a bad pool_size', async () => {
    const key = randomBytes(32).toString('base64');
    const store = createSecretStore('postgres://x@127.0.0.1/db?schema=s&pool_size=2', { key });
    const pool = (store as unknown as { pool: { options: { max: number; connectionString: string } } }).pool;
    expect(pool.options.max).toBe(2);
    expect(new URL(pool.options.connectionString).searchParams.get('application_name')).toBe('secret-store');
    expect(new URL(pool.options.connectionString).searchParams.has('pool_size')).toBe(false);
    await store.close?.();
    for (const bad of ['0', '1.5', 'many', '101']) {
      expect(() => createSecretStore(`postgres://x@127.0.0.1/db?pool_size=${bad}`, { key })).toThrow(
        /pool_size must be an integer from 1 to 100/,
      );
    }
  });
  it('builds the keyring from SECRET_STORE_KEY, SECRET_STORE_KEYS and SECRET_STORE_KEY_ID', async () => {
    const key = randomBytes(32).toString('base64');
    const keys = `k1:${randomBytes(32).toString('base64')},k2:${randomBytes(32).toString('base64')}`;
    const url = 'postgres://x@127.0.0.1/db?schema=s';
    const newest = createSecretStore(url, { key, keys }) as EncryptedPostgresSecretStore;
    expect([newest.keyIds, newest.writeKeyId]).toEqual([['legacy', 'k1', 'k2'], 'k2']);
    const pinned = createSecretStore(url, { key, keys, keyId: 'legacy' }) as EncryptedPostgresSecretStore;
    expect(pinned.writeKeyId).toBe('legacy');
    await Promise.all([newest.close(), pinned.close()]);
    expect(() => createSecretStore(url, { keys, keyId: 'k3' })).toThrow(/SECRET_STORE_KEY_ID "k3"/);
  });
  it('refuses a bad schema name', () => {
    expect(() =>
      createSecretStore('postgres://x@127.0.0.1/db?schema=a";drop', {
        key: randomBytes(32).toString('base64'),
      }),
    ).toThrow(expect.objectContaining({ code: 'SECRETS.INVALID_SCHEMA' }));
  });
  it('builds the Kubernetes store for the namespace in the URL', () => {
    const store = createSecretStore('kubernetes://e-commerce-shared', { kubernetesApi: {} as SecretsApi });
    expect(store).toBeInstanceOf(KubernetesSecretStore);
    expect((store as KubernetesSecretStore).namespace).toBe('e-commerce-shared');
  });
  it('refuses other schemes', () => {
    expect(() => createSecretStore('vault://x')).toThrow(
      expect.objectContaining({ code: 'SECRETS.UNSUPPORTED_URL' }),
    );
    expect(() => createSecretStore('nonsense')).toThrow(expect.objectContaining({ code: 'SECRETS.BAD_URL' }));
  });
});
