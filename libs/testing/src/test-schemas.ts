import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

/** The PostgreSQL database integration specs write to: PROVISIONING_TEST_DATABASE_URL, or the local one. */
export const TEST_DATABASE_URL =
  process.env['PROVISIONING_TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/provisioning_test';

export interface TestSchemas {
  databaseUrl: string;
  /** `<prefix>_es_<hex>`: for an event store. */
  eventSchema: string;
  /** `<prefix>_rm_<hex>`: for a read model. */
  readSchema: string;
  /** Drops both schemas (either may never have been created). */
  drop(): Promise<void>;
}

/**
 * A fresh pair of schema names in the test database, so that specs running at once never share tables.
 * Refuses a database whose name does not end in `_test`: the specs drop what they create.
 */
export function testSchemas(prefix: string): TestSchemas {
  const { pathname } = new URL(TEST_DATABASE_URL);
  if (!/_test$/.test(pathname)) {
    throw new Error(`refusing to run against ${pathname}: not a test database`);
  }
  if (!/^[a-z][a-z0-9]{0,15}$/.test(prefix)) {
    throw new Error(`schema prefix ${JSON.stringify(prefix)}: expected up to 16 [a-z0-9]`);
  }
  const suffix = randomBytes(4).toString('hex');
  const eventSchema = `${prefix}_es_${suffix}`;
  const readSchema = `${prefix}_rm_${suffix}`;
  const drop = async () => {
    const sql = new Client({ connectionString: TEST_DATABASE_URL });
    await sql.connect();
    try {
      await sql.query(`DROP SCHEMA IF EXISTS "${eventSchema}" CASCADE`);
      await sql.query(`DROP SCHEMA IF EXISTS "${readSchema}" CASCADE`);
    } finally {
      await sql.end();
    }
  };
  return { databaseUrl: TEST_DATABASE_URL, eventSchema, readSchema, drop };
}
