import { postgresTimeouts } from '@app/event-store';
import { Pool } from 'pg';
import type { SeenSignatures } from './seen-signatures';

const SCHEMA_PATTERN = /^[a-z_][a-z0-9_]{0,62}$/;
/** Expired rows are deleted by the next insert after this long, so the table stays the size of one window. */
const PURGE_INTERVAL_MS = 60_000;

/** The part of a pino logger the store uses. */
interface StoreLogger {
  warn(details: object, message: string): void;
}

/**
 * `webhook_signatures` in the read model's schema: one row per accepted signed request, with its expiry. The
 * primary key makes `INSERT ... ON CONFLICT` the atomic check-and-set every replica runs.
 */
export class PostgresSeenSignatures implements SeenSignatures {
  private readonly pool: Pool;
  private readonly table: string;
  private nextPurgeMs = 0;

  constructor(
    connectionString: string,
    private readonly schema: string,
    options: { logger: StoreLogger; statementTimeoutMs?: number },
  ) {
    if (!SCHEMA_PATTERN.test(schema))
      throw new Error(`webhook signature schema must match ${SCHEMA_PATTERN}`);
    this.table = `"${schema}".webhook_signatures`;
    this.pool = new Pool({
      connectionString,
      max: 2,
      application_name: 'provisioning-api-webhook-replay',
      // Connect, server-side statement and client-side query bounds, as every pool of the control plane.
      ...postgresTimeouts({
        connectTimeoutMs: options.statementTimeoutMs ?? 5000,
        statementTimeoutMs: options.statementTimeoutMs ?? 5000,
      }),
    });
    // An idle client killed by a server restart emits here; without a listener the process would exit. Only
    // the code and message are logged: the error carries the connection string.
    this.pool.on('error', (error: Error & { code?: unknown }) =>
      options.logger.warn(
        { code: typeof error.code === 'string' ? error.code : undefined, err: error.message },
        'idle webhook replay store connection lost',
      ),
    );
  }

  async migrate(): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      // The read model's own start-up lock: both create the schema, and CREATE ... IF NOT EXISTS still races.
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`read-model:${this.schema}`]);
      await client.query(`CREATE SCHEMA IF NOT EXISTS "${this.schema}"`);
      await client.query(`CREATE TABLE IF NOT EXISTS ${this.table} (
          signature text PRIMARY KEY, expires_at timestamptz NOT NULL)`);
      await client.query(
        `CREATE INDEX IF NOT EXISTS webhook_signatures_expiry_idx ON ${this.table} (expires_at)`,
      );
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  async remember(key: string, expiresAtMs: number, nowMs: number): Promise<boolean> {
    if (nowMs >= this.nextPurgeMs) {
      this.nextPurgeMs = nowMs + PURGE_INTERVAL_MS;
      await this.pool.query(`DELETE FROM ${this.table} WHERE expires_at <= $1`, [new Date(nowMs)]);
    }
    // An expired row not yet purged does not make a new request a replay: it is taken over.
    const result = await this.pool.query(
      `INSERT INTO ${this.table} AS seen (signature, expires_at) VALUES ($1, $2)
       ON CONFLICT (signature) DO UPDATE SET expires_at = EXCLUDED.expires_at WHERE seen.expires_at <= $3`,
      [key, new Date(expiresAtMs), new Date(nowMs)],
    );
    return result.rowCount === 1;
  }

  async forget(key: string): Promise<void> {
    await this.pool.query(`DELETE FROM ${this.table} WHERE signature = $1`, [key]);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
