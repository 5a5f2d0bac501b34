import { tenantIdFromStream } from '@app/contracts';
import { postgresTimeouts, type Checkpoint, type RecordedEvent } from '@app/event-store';
import { Pool, type PoolClient } from 'pg';
import pino from 'pino';
import {
  PROJECTION_NAME,
  type AppliedChange,
  type TenantListQuery,
  type TenantPage,
  type TenantReadModel,
} from './tenant-read-model';
import {
  evolveTenantSummary,
  TENANT_STATUSES,
  toSummaryEvent,
  type TenantStatus,
  type TenantSummary,
} from './tenant-summary.projection';

const SCHEMA_PATTERN = /^[a-z_][a-z0-9_]{0,62}$/;

export class ReadModelError extends Error {
  constructor(
    readonly code: 'READ_MODEL.INVALID_SCHEMA',
    message: string,
  ) {
    super(message);
    this.name = 'ReadModelError';
  }
}

/** The part of a pino logger the read model uses. */
export interface ReadModelLogger {
  warn(details: object, message: string): void;
}

/** `%`, `_` and `\` are LIKE metacharacters; escaped so `q` is always a plain substring. */
function likePattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

interface SummaryRow {
  summary: TenantSummary;
}

/**
 * The tenant list and status in PostgreSQL: one JSONB document per tenant plus the columns the list filters on.
 * Each event is applied in one transaction that also moves the checkpoint (row-locked), so concurrent
 * projectors (several API replicas) and replays after a crash never apply an event twice.
 */
export class PostgresTenantReadModel implements TenantReadModel {
  private readonly pool: Pool;
  private readonly table: string;
  private readonly checkpoints: string;
  private readonly schemaIdent: string;

  constructor(
    connectionString: string,
    private readonly schema: string,
    options: {
      poolSize?: number;
      applicationName?: string;
      logger?: ReadModelLogger;
      /** Bounds on opening a connection and on one statement (10 s and 30 s by default). */
      connectTimeoutMs?: number;
      statementTimeoutMs?: number;
    } = {},
  ) {
    if (!SCHEMA_PATTERN.test(schema)) {
      throw new ReadModelError('READ_MODEL.INVALID_SCHEMA', `read model schema must match ${SCHEMA_PATTERN}`);
    }
    this.schemaIdent = `"${schema}"`;
    this.table = `${this.schemaIdent}.tenant_summaries`;
    this.checkpoints = `${this.schemaIdent}.projection_checkpoints`;
    this.pool = new Pool({
      connectionString,
      max: options.poolSize ?? 5,
      application_name: options.applicationName ?? 'provisioning-api-read-model',
      ...postgresTimeouts(options),
    });
    const logger =
      options.logger ?? pino({ name: 'tenant-read-model', level: process.env['LOG_LEVEL'] ?? 'info' });
    // An idle client killed by the server (a restart, a failover) emits here; without a listener the process
    // would crash. The pool has already dropped it and connects anew on the next query. The error object
    // carries its client and connection string: only the code and message are logged.
    this.pool.on('error', (error: Error & { code?: unknown }) =>
      logger.warn(
        { code: typeof error.code === 'string' ? error.code : undefined, err: error.message },
        'idle read model connection lost',
      ),
    );
    // A client checked out for a transaction has no pool listener: one killed between two of its queries
    // would end the process. Its next query fails instead, and the pool discards it on release.
    this.pool.on('connect', (client) => client.on('error', () => undefined));
  }

  async migrate(): Promise<void> {
    await this.transaction(async (client) => {
      // Serializes concurrent start-ups: CREATE ... IF NOT EXISTS still races on the catalog.
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`read-model:${this.schema}`]);
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${this.schemaIdent}`);
      await this.createTables(client);
    });
  }

  private async createTables(client: PoolClient): Promise<void> {
    await client.query(`CREATE TABLE IF NOT EXISTS ${this.table} (
        tenant_id text PRIMARY KEY,
        status text NOT NULL,
        tier text NOT NULL,
        company_name text NOT NULL,
        domain text NOT NULL,
        current_step text,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        revision bigint NOT NULL,
        summary jsonb NOT NULL)`);
    await client.query(`CREATE INDEX IF NOT EXISTS tenant_summaries_status_idx ON ${this.table} (status)`);
    await client.query(`CREATE INDEX IF NOT EXISTS tenant_summaries_tier_idx ON ${this.table} (tier)`);
    await client.query(
      `CREATE INDEX IF NOT EXISTS tenant_summaries_created_idx ON ${this.table} (created_at DESC, tenant_id)`,
    );
    await client.query(`CREATE TABLE IF NOT EXISTS ${this.checkpoints} (
        name text PRIMARY KEY, checkpoint text, updated_at timestamptz NOT NULL DEFAULT now())`);
    await client.query(`INSERT INTO ${this.checkpoints} (name) VALUES ($1) ON CONFLICT (name) DO NOTHING`, [
      PROJECTION_NAME,
    ]);
  }

  async checkpoint(): Promise<Checkpoint | undefined> {
    const result = await this.pool.query<{ checkpoint: string | null }>(
      `SELECT checkpoint FROM ${this.checkpoints} WHERE name = $1`,
      [PROJECTION_NAME],
    );
    return result.rows[0]?.checkpoint ?? undefined;
  }

  async apply(event: RecordedEvent): Promise<AppliedChange | undefined> {
    const tenantId = tenantIdFromStream(event.streamName);
    return this.transaction(async (client) => {
      const cp = await client.query<{ checkpoint: string | null }>(
        `SELECT checkpoint FROM ${this.checkpoints} WHERE name = $1 FOR UPDATE`,
        [PROJECTION_NAME],
      );
      const stored = cp.rows[0]?.checkpoint ?? null;
      if (stored !== null && event.position <= stored) return undefined;
      const current = await client.query<SummaryRow>(
        `SELECT summary FROM ${this.table} WHERE tenant_id = $1`,
        [tenantId],
      );
      const before = current.rows[0]?.summary ?? null;
      const after = evolveTenantSummary(before, toSummaryEvent(event));
      if (after) {
        await client.query(
          `INSERT INTO ${this.table}
             (tenant_id, status, tier, company_name, domain, current_step, created_at, updated_at, revision, summary)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
           ON CONFLICT (tenant_id) DO UPDATE SET status = EXCLUDED.status, tier = EXCLUDED.tier,
             company_name = EXCLUDED.company_name, domain = EXCLUDED.domain, current_step = EXCLUDED.current_step,
             created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at, revision = EXCLUDED.revision,
             summary = EXCLUDED.summary`,
          [
            after.tenantId,
            after.status,
            after.tier,
            after.companyName,
            after.domain,
            after.currentStep,
            after.createdAt,
            after.updatedAt,
            after.revision,
            JSON.stringify(after),
          ],
        );
      }
      await client.query(
        `UPDATE ${this.checkpoints} SET checkpoint = $2, updated_at = now() WHERE name = $1`,
        [PROJECTION_NAME, event.position],
      );
      return { before, after };
    });
  }

  async get(tenantId: string): Promise<TenantSummary | undefined> {
    const result = await this.pool.query<SummaryRow>(
      `SELECT summary FROM ${this.table} WHERE tenant_id = $1`,
      [tenantId],
    );
    return result.rows[0]?.summary;
  }

  async list(query: TenantListQuery): Promise<TenantPage> {
    const where: string[] = [];
    const values: unknown[] = [];
    if (query.status) {
      values.push(query.status);
      where.push(`status = $${values.length}`);
    }
    if (query.tier) {
      values.push(query.tier);
      where.push(`tier = $${values.length}`);
    }
    if (query.openDrift) {
      where.push(`jsonb_array_length(COALESCE(summary->'drift'->'open', '[]'::jsonb)) > 0`);
    }
    if (query.q) {
      values.push(likePattern(query.q));
      const p = `$${values.length}`;
      where.push(`(tenant_id ILIKE ${p} OR company_name ILIKE ${p} OR domain ILIKE ${p})`);
    }
    values.push(query.limit, query.offset);
    const result = await this.pool.query<SummaryRow & { total: string }>(
      `SELECT summary, count(*) OVER () AS total FROM ${this.table}
       ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY created_at DESC, tenant_id
       LIMIT $${values.length - 1} OFFSET $${values.length}`,
      values,
    );
    let total = Number(result.rows[0]?.total ?? 0);
    if (result.rows.length === 0 && query.offset > 0) {
      // Past the last page the window function has no row to report the total on.
      const count = await this.pool.query<{ total: string }>(
        `SELECT count(*) AS total FROM ${this.table} ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}`,
        values.slice(0, -2),
      );
      total = Number(count.rows[0]?.total ?? 0);
    }
    return { items: result.rows.map((row) => row.summary), total };
  }

  async countByStatus(): Promise<Record<TenantStatus, number>> {
    const counts = Object.fromEntries(TENANT_STATUSES.map((status) => [status, 0])) as Record<
      TenantStatus,
      number
    >;
    const result = await this.pool.query<{ status: TenantStatus; n: string }>(
      `SELECT status, count(*) AS n FROM ${this.table} GROUP BY status`,
    );
    for (const row of result.rows) if (row.status in counts) counts[row.status] = Number(row.n);
    return counts;
  }

  async countOpenDrifts(): Promise<Record<string, number>> {
    const result = await this.pool.query<{ kind: string; n: string }>(
      `SELECT drift->>'kind' AS kind, count(*) AS n
       FROM ${this.table}, jsonb_array_elements(COALESCE(summary->'drift'->'open', '[]'::jsonb)) AS drift
       WHERE status <> 'purged'
       GROUP BY 1`,
    );
    return Object.fromEntries(result.rows.map((row) => [row.kind, Number(row.n)]));
  }

  async reset(): Promise<void> {
    await this.transaction(async (client) => {
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`read-model:${this.schema}`]);
      await client.query(`DROP TABLE IF EXISTS ${this.table}`);
      await client.query(`DELETE FROM ${this.checkpoints} WHERE name = $1`, [PROJECTION_NAME]);
      await this.createTables(client);
    });
  }

  async ping(): Promise<void> {
    await this.pool.query(`SELECT 1 FROM ${this.checkpoints} LIMIT 1`);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  private async transaction<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }
}
