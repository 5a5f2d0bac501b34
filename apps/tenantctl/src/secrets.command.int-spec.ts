import { randomBytes } from 'node:crypto';
import { EncryptedPostgresSecretStore, parseSecretStoreKeys } from '@app/secrets';
import { Pool } from 'pg';
import { EXIT, run } from './tenantctl';

const URL = process.env['SECRET_STORE_TEST_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const schema = `test_tc_secrets_${randomBytes(4).toString('hex')}`;
const oldKey = randomBytes(32).toString('base64');
const newKey = randomBytes(32).toString('base64');
const prefix = '/e-commerce/tenants/rotate-cli-a1b2c3';
const ENV: NodeJS.ProcessEnv = {
  SECRET_STORE_URL: `${URL}?schema=${schema}`,
  SECRET_STORE_KEY: oldKey,
  SECRET_STORE_KEYS: `k2:${newKey}`,
  LOG_LEVEL: 'silent',
};

async function tenantctl(argv: string[], env: NodeJS.ProcessEnv = ENV) {
  let stdout = '';
  let stderr = '';
  const code = await run(argv, {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    env,
  });
  return { code, stdout, stderr };
}

describe('tenantctl secrets rotate-key (real PostgreSQL)', () => {
  const pool = new Pool({ connectionString: URL, max: 2 });
  const store = (settings: { key?: string; keys?: string }) =>
    new EncryptedPostgresSecretStore({ pool, schema, keys: parseSecretStoreKeys(settings) });

  beforeAll(async () => {
    const old = store({ key: oldKey });
    for (let i = 0; i < 5; i += 1)
      await old.put(`${prefix}/s-${i}`, { password: `Value-Never-Printed-${i}` });
  });

  afterAll(async () => {
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool.end();
  });

  it('re-encrypts every secret under the newest key, with n/N progress on stderr and a summary, printing no value', async () => {
    const result = await tenantctl(['secrets', 'rotate-key', '--batch', '2']);
    expect(result.code).toBe(EXIT.OK);
    expect(result.stderr).toBe(
      [
        'rotate-key: 5 secrets to re-encrypt under key "k2"',
        'rotate-key: 2/5',
        'rotate-key: 4/5',
        'rotate-key: 5/5',
        '',
      ].join('\n'),
    );
    expect(result.stdout).toContain('done: 5 re-encrypted under key "k2"');
    expect(result.stdout).toContain('every secret is under key "k2": key(s) legacy can be removed');
    expect(result.stdout + result.stderr).not.toMatch(/Value-Never-Printed|password/);
    // With the old key removed, everything still reads.
    const newOnly = store({ keys: `k2:${newKey}` });
    for (let i = 0; i < 5; i += 1) {
      expect(await newOnly.get(`${prefix}/s-${i}`)).toEqual({ password: `Value-Never-Printed-${i}` });
    }
    const again = await tenantctl(['secrets', 'rotate-key', '--json']);
    expect(again.code).toBe(EXIT.OK);
    expect(JSON.parse(again.stdout)).toMatchObject({ keyId: 'k2', total: 0, rotated: 0, remaining: {} });
  });

  it('exits 1 naming the path and key id of a secret it cannot open, and leaves it as it is', async () => {
    const path = `${prefix}/unknown-key`;
    await store({ keys: `k9:${randomBytes(32).toString('base64')}` }).put(path, {
      password: 'Value-Never-Printed',
    });
    const result = await tenantctl(['secrets', 'rotate-key']);
    expect(result.code).toBe(EXIT.ERROR);
    expect(result.stdout).toContain(`FAILED ${path}: SECRETS.UNKNOWN_KEY`);
    expect(result.stdout).toContain('still under other keys: k9 1');
    expect(result.stderr).toContain('1 secrets could not be re-encrypted');
    expect(result.stdout + result.stderr).not.toContain('Value-Never-Printed');
    const row = await pool.query(`SELECT key_id FROM "${schema}".secrets WHERE path = $1`, [path]);
    expect(row.rows[0].key_id).toBe('k9');
  });
});
