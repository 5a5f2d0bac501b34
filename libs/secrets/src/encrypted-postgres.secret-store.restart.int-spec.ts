import { randomBytes } from 'node:crypto';
import { PrivatePostgres } from '@app/testing';
import { SecretStoreError } from './errors';
import { EncryptedPostgresSecretStore, type SecretStoreLogger } from './encrypted-postgres.secret-store';

/**
 * The secret store against a PostgreSQL server of its own that the test stops and restarts (as a failover or an
 * operator restart would), never the shared one. A restart terminates every session with 57P01.
 */
describe('EncryptedPostgresSecretStore across a PostgreSQL restart (private server)', () => {
  const password = `pw-${randomBytes(8).toString('hex')}`;
  const warnings: { details: object; message: string }[] = [];
  const logger: SecretStoreLogger = { warn: (details, message) => warnings.push({ details, message }) };
  const path = '/e-commerce/tenants/restart-co-a1b2c3/auth-db';
  let server: PrivatePostgres;
  let store: EncryptedPostgresSecretStore;

  beforeAll(async () => {
    server = await PrivatePostgres.start();
    store = new EncryptedPostgresSecretStore({
      connectionString: server.url('postgres', password),
      schema: 'restart_secrets',
      key: randomBytes(32),
      poolSize: 3,
      logger,
    });
  });

  afterAll(async () => {
    await store?.close();
    await server?.destroy();
  });

  it('keeps the process up when idle connections are terminated, logs it without the URL, and works again', async () => {
    // Three connections in the pool, all idle when the server goes away.
    await Promise.all([1, 2, 3].map((n) => store.put(`${path}-${n}`, { password: `value-${n}` })));
    await server.restart();
    // The terminations reach the idle clients asynchronously: give them time to arrive (and, unheard, to crash).
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(warnings.length).toBeGreaterThanOrEqual(1);
    expect(warnings[0].message).toBe('idle secret store connection lost');
    expect(warnings.map((w) => w.details)).toContainEqual(expect.objectContaining({ code: '57P01' }));
    expect(JSON.stringify(warnings)).not.toContain(password);
    expect(JSON.stringify(warnings)).not.toContain(`127.0.0.1:${server.port}`);
    expect(await store.get(`${path}-2`)).toEqual({ password: 'value-2' });
  });

  it('fails as SECRETS.UNAVAILABLE (retryable for its callers) while the server is down, then recovers', async () => {
    await store.put(path, { password: 'kept' });
    await server.stop();
    try {
      const error = await store.get(path).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(SecretStoreError);
      expect((error as SecretStoreError).code).toBe('SECRETS.UNAVAILABLE');
      expect((error as Error).message).not.toContain(password);
    } finally {
      await server.resume();
    }
    expect(await store.get(path)).toEqual({ password: 'kept' });
  });
});
