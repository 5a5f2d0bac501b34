import { createCipheriv, randomBytes } from 'node:crypto';
import { Pool, type QueryConfig } from 'pg';
import { EncryptedPostgresSecretStore } from './encrypted-postgres.secret-store';
import { parseSecretStoreKeys } from './secret-cipher';

const URL = process.env.SECRET_STORE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

const oldKey = randomBytes(32).toString('base64');
const newKey = randomBytes(32).toString('base64');
const prefix = '/e-commerce/tenants/rotate-co-a1b2c3';

/** Exactly what the store wrote before key ids: the path alone as additional data, no key id column. */
function sealAsBefore(key: string, path: string, values: object) {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', Buffer.from(key, 'base64'), iv, { authTagLength: 16 });
  cipher.setAAD(Buffer.from(path, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(JSON.stringify(values), 'utf8'), cipher.final()]);
  return [path, iv, cipher.getAuthTag(), ciphertext];
}

describe('EncryptedPostgresSecretStore key ids and rotation (real PostgreSQL)', () => {
  const schema = `test_secrets_rot_${randomBytes(4).toString('hex')}`;
  const table = `"${schema}".secrets`;
  const pool = new Pool({ connectionString: URL, max: 8 });
  const storeWith = (settings: { key?: string; keys?: string; keyId?: string }, on: Pool = pool) =>
    new EncryptedPostgresSecretStore({ pool: on, schema, keys: parseSecretStoreKeys(settings) });
  const legacyOnly = storeWith({ key: oldKey });
  const both = storeWith({ key: oldKey, keys: `k2:${newKey}` });
  const newOnly = storeWith({ keys: `k2:${newKey}` });
  const keyIds = async () =>
    (
      await pool.query<{ path: string; key_id: string | null }>(
        `SELECT path, key_id FROM ${table} ORDER BY path`,
      )
    ).rows;

  beforeAll(async () => {
    // The table as the code before key ids created it, holding rows that code wrote.
    await pool.query(`CREATE SCHEMA "${schema}"`);
    await pool.query(
      `CREATE TABLE ${table} (path text PRIMARY KEY, iv bytea NOT NULL, tag bytea NOT NULL, ciphertext bytea NOT NULL,
         created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now())`,
    );
    for (let i = 0; i < 7; i += 1) {
      await pool.query(
        `INSERT INTO ${table} (path, iv, tag, ciphertext) VALUES ($1, $2, $3, $4)`,
        sealAsBefore(oldKey, `${prefix}/old-${i}`, { password: `old-value-${i}` }),
      );
    }
  });

  afterAll(async () => {
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool.end();
  });

  it('reads rows from before key ids, adding the key_id column, and keeps writing them under SECRET_STORE_KEY alone', async () => {
    expect(await legacyOnly.get(`${prefix}/old-3`)).toEqual({ password: 'old-value-3' });
    expect(await both.get(`${prefix}/old-4`)).toEqual({ password: 'old-value-4' });
    await legacyOnly.put(`${prefix}/legacy-write`, { password: 'legacy-write' });
    expect((await keyIds()).every((row) => row.key_id === null)).toBe(true);
  });

  it('writes under the newest key with its id, and both keys read', async () => {
    await both.put(`${prefix}/new-write`, { password: 'new-write' });
    expect(await both.putIfAbsent(`${prefix}/new-if-absent`, { password: 'n' })).toEqual({ password: 'n' });
    const rows = await keyIds();
    expect(rows.filter((row) => row.key_id === 'k2').map((row) => row.path)).toEqual([
      `${prefix}/new-if-absent`,
      `${prefix}/new-write`,
    ]);
    expect(await both.get(`${prefix}/new-write`)).toEqual({ password: 'new-write' });
    expect(await both.get(`${prefix}/legacy-write`)).toEqual({ password: 'legacy-write' });
    // A reader without the new key names the key id it lacks, not a value.
    await expect(legacyOnly.get(`${prefix}/new-write`)).rejects.toMatchObject({
      code: 'SECRETS.UNKNOWN_KEY',
      message: expect.stringContaining('key id "k2"'),
    });
    await expect(newOnly.get(`${prefix}/old-1`)).rejects.toMatchObject({ code: 'SECRETS.UNKNOWN_KEY' });
  });

  it('refuses a relabelled key id and a tampered one (the key id is authenticated)', async () => {
    const path = `${prefix}/tamper`;
    const sameBytes = storeWith({ keys: `k1:${newKey},k2:${newKey}` });
    await sameBytes.put(path, { password: 'tamper-me' });
    await pool.query(`UPDATE ${table} SET key_id = 'k1' WHERE path = $1`, [path]);
    await expect(sameBytes.get(path)).rejects.toMatchObject({ code: 'SECRETS.DECRYPTION_FAILED' });
    await pool.query(`UPDATE ${table} SET key_id = NULL WHERE path = $1`, [path]);
    await expect(storeWith({ key: newKey }).get(path)).rejects.toMatchObject({
      code: 'SECRETS.DECRYPTION_FAILED',
    });
    await pool.query(`DELETE FROM ${table} WHERE path = $1`, [path]);
  });

  it('rotate-key moves every row to the newest key in batches, with progress; then the old key can go', async () => {
    const progress: string[] = [];
    const report = await both.rotateKey({
      batchSize: 3,
      onProgress: ({ done, total }) => progress.push(`${done}/${total}`),
    });
    // 7 rows from before key ids and 1 written under SECRET_STORE_KEY alone.
    expect(progress).toEqual(['3/8', '6/8', '8/8']);
    expect(report).toMatchObject({
      keyId: 'k2',
      total: 8,
      rotated: 8,
      rewritten: 0,
      deleted: 0,
      failed: [],
      remaining: {},
      interrupted: false,
    });
    expect((await keyIds()).every((row) => row.key_id === 'k2')).toBe(true);
    for (let i = 0; i < 7; i += 1) {
      expect(await newOnly.get(`${prefix}/old-${i}`)).toEqual({ password: `old-value-${i}` });
    }
    expect(await newOnly.get(`${prefix}/legacy-write`)).toEqual({ password: 'legacy-write' });
    const again = await both.rotateKey({ batchSize: 3 });
    expect(again).toMatchObject({ total: 0, rotated: 0, remaining: {} });
  });

  it('never overwrites a concurrent write with the older value, and reports rows it cannot open', async () => {
    const raced = `${prefix}/raced`;
    const stale = `${prefix}/stale-writer`;
    await legacyOnly.put(raced, { password: 'before' });
    await legacyOnly.put(stale, { password: 'before' });
    await pool.query(
      `INSERT INTO ${table} (path, key_id, iv, tag, ciphertext) SELECT $2, 'k9', iv, tag, ciphertext FROM ${table} WHERE path = $1`,
      [raced, `${prefix}/unknown-key`],
    );
    // A pool that lets writers in just before the rotation's first update of each row: one writer with the
    // new key, one still running with the old key only (a process not yet restarted with the new keys).
    const writers: Record<string, () => Promise<void>> = {
      [raced]: () => both.put(raced, { password: 'written-during-rotation' }),
      [stale]: () => legacyOnly.put(stale, { password: 'stale-writer-value' }),
    };
    const racing = Object.create(pool) as Pool;
    racing.query = (async (text: string | QueryConfig, values?: unknown[]) => {
      const path = Array.isArray(values) ? values[0] : undefined;
      if (typeof text === 'string' && text.trim().startsWith('UPDATE') && typeof path === 'string') {
        const writer = writers[path];
        delete writers[path];
        await writer?.();
      }
      return pool.query(text as string, values);
    }) as Pool['query'];
    const report = await storeWith({ key: oldKey, keys: `k2:${newKey}` }, racing).rotateKey();
    expect(report).toMatchObject({
      total: 3,
      rotated: 1,
      rewritten: 1,
      failed: [{ path: `${prefix}/unknown-key`, code: 'SECRETS.UNKNOWN_KEY' }],
      remaining: { k9: 1 },
    });
    expect(await newOnly.get(raced)).toEqual({ password: 'written-during-rotation' });
    expect(await newOnly.get(stale)).toEqual({ password: 'stale-writer-value' });
    expect(JSON.stringify(report)).not.toContain('before');
  });
});
