import mysql, { type RowDataPacket } from 'mysql2';
import {
  createConnection as createPromiseConnection,
  type Pool,
  type Connection as PromiseConnection,
} from 'mysql2/promise';
import { classifyMysqlError, type DatabaseOperation } from './mysql-errors';

export interface MysqlEndpoint {
  host: string;
  port: number;
  user: string;
  password: string;
}

/** `mysql://user:password@host:port`; the password is URL-decoded and never echoed. */
export function parseMysqlUrl(url: string): MysqlEndpoint {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // Node's TypeError carries the whole URL (password included) in `input`.
    throw new Error('MYSQL_URL is not a valid URL');
  }
  if (parsed.protocol !== 'mysql:') throw new Error('MYSQL_URL must start with mysql://');
  return {
    host: parsed.hostname,
    port: parsed.port ? Number(parsed.port) : 3306,
    user: decodeURIComponent(parsed.username || 'root'),
    password: decodeURIComponent(parsed.password),
  };
}

export interface MysqlServerOptions {
  poolSize?: number;
  connectTimeoutMs?: number;
  /**
   * Client-side bound on one statement of the admin pool (default 60 s). On expiry the statement is killed on
   * the server (`KILL QUERY`), its connection discarded, and the error is retryable.
   */
  queryTimeoutMs?: number;
  /**
   * Session `lock_wait_timeout` of every admin connection (default 30 s; the server's own default is a year):
   * how long DDL such as `DROP DATABASE` waits for a metadata lock held by another session before failing with
   * ER_LOCK_WAIT_TIMEOUT, which is retryable.
   */
  lockWaitTimeoutSeconds?: number;
}

export const DEFAULT_MYSQL_QUERY_TIMEOUT_MS = 60_000;
export const DEFAULT_MYSQL_LOCK_WAIT_TIMEOUT_SECONDS = 30;
/**
 * Statements run through `query` (text protocol), never `execute`, so no connection needs mysql2's cache of
 * prepared statements; mysql2 allocates it at its full size with every connection (16,000 entries by default,
 * about half a megabyte and half a millisecond each), and verification opens one connection per service account.
 */
export const PREPARED_STATEMENT_CACHE = 8;

/**
 * The connections the MySQL adapter uses: the admin pool (bounded statements, bounded metadata-lock waits),
 * dedicated admin connections for a dump or a restore, and a connection as a service account for its access
 * check.
 */
export class MysqlConnections {
  private readonly pool: Pool;
  private readonly queryTimeoutMs: number;
  private readonly lockWaitTimeoutSeconds: number;

  constructor(
    private readonly endpoint: MysqlEndpoint,
    private readonly options: MysqlServerOptions = {},
  ) {
    this.queryTimeoutMs = options.queryTimeoutMs ?? DEFAULT_MYSQL_QUERY_TIMEOUT_MS;
    this.lockWaitTimeoutSeconds = options.lockWaitTimeoutSeconds ?? DEFAULT_MYSQL_LOCK_WAIT_TIMEOUT_SECONDS;
    if (!Number.isInteger(this.lockWaitTimeoutSeconds) || this.lockWaitTimeoutSeconds < 1) {
      throw new RangeError('lockWaitTimeoutSeconds must be an integer >= 1');
    }
    if (!(this.queryTimeoutMs > 0)) throw new RangeError('queryTimeoutMs must be > 0');
    this.pool = mysql
      .createPool({
        host: endpoint.host,
        port: endpoint.port,
        user: endpoint.user,
        password: endpoint.password,
        connectionLimit: options.poolSize ?? 4,
        connectTimeout: this.connectTimeoutMs(),
        multipleStatements: false,
        charset: 'utf8mb4_unicode_ci',
        maxPreparedStatements: PREPARED_STATEMENT_CACHE,
      })
      .promise();
    // Queued on the new connection before any caller's statement, so every statement of the pool has the bound.
    this.pool.pool.on('connection', (connection) => connection.query(this.lockWaitSql(), () => undefined));
  }

  /** Runs one statement on the admin pool, its failure classified (`sensitive`: the text carries a password). */
  async run(sql: string, operation: DatabaseOperation, target: string, sensitive = false): Promise<void> {
    try {
      await this.query(sql);
    } catch (error) {
      throw classifyMysqlError(error, operation, target, sensitive);
    }
  }

  /**
   * One statement on a pooled connection, within `queryTimeoutMs`. mysql2's own timeout only stops waiting:
   * the statement keeps running and its connection would go back to the pool still busy. So on expiry the
   * statement is killed from another connection and its own connection is destroyed.
   */
  async query<T extends RowDataPacket[] | mysql.ResultSetHeader = RowDataPacket[]>(
    sql: string,
    values?: unknown[],
  ): Promise<T> {
    const connection = await this.pool.getConnection();
    try {
      const [rows] = await connection.query<T>({ sql, values, timeout: this.queryTimeoutMs });
      connection.release();
      return rows;
    } catch (error) {
      if ((error as { code?: unknown }).code === 'PROTOCOL_SEQUENCE_TIMEOUT') {
        const threadId = connection.threadId;
        connection.destroy();
        await this.killQuery(threadId);
      } else {
        connection.release();
      }
      throw error;
    }
  }

  /** A connection of the admin account outside the pool (a dump's snapshot, a restore's session). */
  dedicated(extra: mysql.ConnectionOptions): mysql.Connection {
    const connection = mysql.createConnection({
      host: this.endpoint.host,
      port: this.endpoint.port,
      user: this.endpoint.user,
      password: this.endpoint.password,
      connectTimeout: this.connectTimeoutMs(),
      multipleStatements: false,
      charset: 'utf8mb4_unicode_ci',
      maxPreparedStatements: PREPARED_STATEMENT_CACHE,
      ...extra,
    });
    // Queued first: a dump or restore behind another session's metadata lock fails instead of waiting a year.
    connection.query(this.lockWaitSql(), () => undefined);
    return keepErrorsOnQueries(connection);
  }

  /** A connection as another account (a service account under verification); rejects as mysql2 does. */
  async connectAs(user: string, password: string): Promise<PromiseConnection> {
    return keepErrorsOnQueries(
      await createPromiseConnection({
        host: this.endpoint.host,
        port: this.endpoint.port,
        user,
        password,
        connectTimeout: this.connectTimeoutMs(),
        multipleStatements: false,
        maxPreparedStatements: PREPARED_STATEMENT_CACHE,
      }),
    );
  }

  async end(): Promise<void> {
    await this.pool.end();
  }

  private connectTimeoutMs(): number {
    return this.options.connectTimeoutMs ?? 5000;
  }

  private lockWaitSql(): string {
    return `SET SESSION lock_wait_timeout = ${this.lockWaitTimeoutSeconds}`;
  }

  /** Best effort: the destroyed connection already freed the client; this frees the server. */
  private async killQuery(threadId: number | null): Promise<void> {
    if (threadId === null) return;
    try {
      await this.pool.query({ sql: `KILL QUERY ${Number(threadId)}`, timeout: this.queryTimeoutMs });
    } catch {
      // Gone already, or the server is unreachable: the destroyed socket ends the session in time.
    }
  }
}

/**
 * A connection outside the pool emits `error` when the server closes it between two queries (a restart, a
 * failover, an idle timeout); unheard, that ends the process. Heard here, it fails the connection's next query
 * instead, where the caller classifies it (PROTOCOL_CONNECTION_LOST and the like are retryable).
 */
function keepErrorsOnQueries<C extends { on(event: 'error', listener: (error: Error) => void): unknown }>(
  connection: C,
): C {
  connection.on('error', () => undefined);
  return connection;
}
