import { randomBytes } from 'node:crypto';
import { Pool } from 'pg';
import { EncryptedPostgresSecretStore } from './encrypted-postgres.secret-store';

const URL = process.env.SECRET_STORE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

describe('EncryptedPostgresSecretStore (real PostgreSQL)', () => {
  const schema = `test_secrets_${randomBytes(4).toString('hex')}`;
  const pool = new Pool({ connectionString: URL, max: 8 });
  const key = randomBytes(32);
  const store = new EncryptedPostgresSecretStore({ pool, schema, key });
  const path = '/e-commerce/tenants/test-co-a1b2c3/auth-db';

  afterAll(async () => {
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool.end();
  });

  it('creates its schema and table and round-trips values', async () => {
    await store.put(path, { username: 'u1', password: 'first-Secret-Value' });
    expect(await store.get(path)).toEqual({ username: 'u1', password: 'first-Secret-Value' });
    await store.put(path, { username: 'u1', password: 'second-Secret-Value' });
    expect(await store.get(path)).toEqual({ username: 'u1', password: 'second-Secret-Value' });
    expect(await store.get('/e-commerce/tenants/test-co-a1b2c3/missing')).toBeUndefined();
    const tables = await pool.query(`SELECT 1 FROM information_schema.tables WHERE table_schema = $1`, [
      schema,
    ]);
    expect(tables.rowCount).toBe(1);
  });

  it('answers a ping, and a store whose server is gone refuses it', async () => {
    await expect(store.ping()).resolves.toBeUndefined();
    const gone = new Pool({ connectionString: 'postgres://postgres@127.0.0.1:1/postgres', max: 1 });
    const unreachable = new EncryptedPostgresSecretStore({ pool: gone, schema, key });
    await expect(unreachable.ping()).rejects.toThrow();
    await gone.end();
  });

  it('stores ciphertext only', async () => {
    const rows = await pool.query<{ ciphertext: Buffer; iv: Buffer; tag: Buffer }>(
      `SELECT ciphertext, iv, tag FROM "${schema}".secrets WHERE path = $1`,
      [path],
    );
    const row = rows.rows[0];
    expect(row.iv).toHaveLength(12);
    expect(row.tag).toHaveLength(16);
    expect(row.ciphertext.toString('latin1')).not.toContain('second-Secret-Value');
    expect(row.ciphertext.toString('latin1')).not.toContain('password');
  });

  it('putIfAbsent: 20 concurrent writers, one value wins and everyone gets it', async () => {
    const racePath = '/e-commerce/tenants/test-co-a1b2c3/race';
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => store.putIfAbsent(racePath, { password: `candidate-${i}` })),
    );
    const winners = new Set(results.map((r) => r.password));
    expect(winners.size).toBe(1);
    expect(await store.get(racePath)).toEqual(results[0]);
    expect(await store.putIfAbsent(racePath, { password: 'late' })).toEqual(results[0]);
  });

  it('detects tampering and rows moved to another path', async () => {
    const tamperPath = '/e-commerce/tenants/test-co-a1b2c3/tamper';
    await store.put(tamperPath, { password: 'tamper-me' });
    await pool.query(
      `UPDATE "${schema}".secrets SET ciphertext = set_byte(ciphertext, 0, get_byte(ciphertext, 0) # 1) WHERE path = $1`,
      [tamperPath],
    );
    await expect(store.get(tamperPath)).rejects.toMatchObject({ code: 'SECRETS.DECRYPTION_FAILED' });

    const movedPath = '/e-commerce/tenants/test-co-a1b2c3/moved';
    await pool.query(
      `INSERT INTO "${schema}".secrets (path, iv, tag, ciphertext) SELECT $2, iv, tag, ciphertext FROM "${schema}".secrets WHERE path = $1`,
      [path, movedPath],
    );
    await expect(store.get(movedPath)).rejects.toMatchObject({ code: 'SECRETS.DECRYPTION_FAILED' });
  });

  it('refuses to read with another key', async () => {
    const other = new EncryptedPostgresSecretStore({ pool, schema, key: randomBytes(32) });
    await expect(other.get(path)).rejects.toMatchObject({ code: 'SECRETS.DECRYPTION_FAILED' });
  });

  it('lists by prefix (no LIKE wildcards) and deletes (absent is success)', async () => {
    await store.put('/e-commerce/tenants/test-co-a1b2c3/x_y', { a: '1' });
    await store.put('/e-commerce/tenants/test-co-a1b2c3/xzy', { a: '1' });
    expect(await store.list('/e-commerce/tenants/test-co-a1b2c3/x_')).toEqual([
      '/e-commerce/tenants/test-co-a1b2c3/x_y',
    ]);
    await store.delete('/e-commerce/tenants/test-co-a1b2c3/x_y');
    await store.delete('/e-commerce/tenants/test-co-a1b2c3/x_y');
    expect(await store.get('/e-commerce/tenants/test-co-a1b2c3/x_y')).toBeUndefined();
    expect(await store.list('/e-commerce/tenants/test-co-a1b2c3/')).toContain(path);
  });
});
