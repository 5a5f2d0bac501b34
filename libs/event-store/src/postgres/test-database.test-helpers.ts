import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

/** Tests use this database (created on first use); its name must mark it as a test database. */
export const TEST_DATABASE_URL =
  process.env['EVENT_STORE_TEST_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/provisioning_test';

export function uniqueSchema(prefix = 'es_test'): string {
  return `${prefix}_${randomBytes(5).toString('hex')}`;
}

/** Refuses any database whose name does not contain `test`, then creates it if it is missing. */
export async function ensureTestDatabase(url = TEST_DATABASE_URL): Promise<string> {
  const parsed = new URL(url);
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  if (!/test/i.test(database)) {
    throw new Error(
      `Refusing to run event store tests against database "${database}": its name must contain "test"`,
    );
  }
  if (!/^[a-z_][a-z0-9_]*$/.test(database)) throw new Error(`Unexpected test database name "${database}"`);
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (exists.rowCount === 0) {
      try {
        await client.query(`CREATE DATABASE "${database}"`);
      } catch (error) {
        // Another suite created it at the same moment.
        const code = (error as { code?: string }).code;
        if (code !== '42P04' && code !== '23505') throw error;
      }
    }
  } finally {
    await client.end();
  }
  return url;
}

export async function withClient<T>(url: string, run: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

export async function dropSchema(url: string, schema: string): Promise<void> {
  if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`Unexpected schema name ${schema}`);
  await withClient(url, (client) => client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
}

/** Terminates every session with this application_name, from another connection; returns how many. */
export async function terminateSessions(url: string, applicationName: string): Promise<number> {
  return withClient(url, async (client) => {
    const result = await client.query<{ killed: string }>(
      `SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))::text AS killed
         FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()`,
      [applicationName],
    );
    return Number(result.rows[0].killed);
  });
}
