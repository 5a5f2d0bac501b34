import { createHash, randomBytes } from 'node:crypto';
import { StringDecoder } from 'node:string_decoder';
import { Readable } from 'node:stream';
import mysql, { type RowDataPacket } from 'mysql2';
import {
  createConnection as createPromiseConnection,
  type Pool,
  type Connection as PromiseConnection,
} from 'mysql2/promise';
import { classifyMysqlError, type DatabaseOperation } from '../domain/errors';
import {
  dumpFooter,
  dumpHeader,
  InsertBatcher,
  parseDumpLine,
  tableDefinition,
  DUMP_COMPLETE_MARKER,
  type DumpValue,
} from '../domain/dump-format';
import { createRestoreAccountSql, grantRestoreSql, restoreAccountName } from '../domain/restore-account';
import {
  assertDatabaseName,
  assertTableName,
  dropUserSql,
  quoteIdentifier,
  SqlBuilderError,
} from '../domain/sql';

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

export interface TableRows {
  name: string;
  rows: number;
}

export interface ServiceAccessReport {
  connected: boolean;
  ownDatabaseUsable: boolean;
  /** The spec grants no DROP: a service user must not be able to drop its tables. */
  dropRefused: boolean;
  foreignDatabaseRefused: boolean;
}

/** What the handlers need from the MySQL server; one real implementation below, fakes in unit tests. */
export interface DatabaseAdmin {
  /** Runs one statement built by domain/sql. `sensitive` statements carry a password and are never logged. */
  run(sql: string, operation: DatabaseOperation, target: string, sensitive?: boolean): Promise<void>;
  /** Charset/collation of those of `names` that exist. */
  databases(names: string[]): Promise<Map<string, { charset: string; collation: string }>>;
  /** Which of `users` exist with host '%'. */
  users(users: string[]): Promise<Set<string>>;
  /** MAX_USER_CONNECTIONS of those of `users` that exist with host '%' (0: no limit of its own). */
  userConnectionLimits(users: string[]): Promise<Map<string, number>>;
  grants(user: string): Promise<string[]>;
  checkServiceAccess(
    credentials: { username: string; password: string; database: string },
    foreignDatabase: string,
  ): Promise<ServiceAccessReport>;
  /** A gzip-ready stream of the logical dump, plus the row counts once the stream has ended. */
  dump(database: string, createdAt: string): { stream: Readable; tables: Promise<TableRows[]> };
  /** Replays a dump into a fresh scratch database, returns its row counts, and drops it. */
  restoreAndCount(lines: Readable, scratch: string): Promise<TableRows[]>;
  ping(): Promise<void>;
  close(): Promise<void>;
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

export class MysqlServer implements DatabaseAdmin {
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
        connectTimeout: options.connectTimeoutMs ?? 5000,
        multipleStatements: false,
        charset: 'utf8mb4_unicode_ci',
      })
      .promise();
    // Queued on the new connection before any caller's statement, so every statement of the pool has the bound.
    this.pool.pool.on('connection', (connection) => connection.query(this.lockWaitSql(), () => undefined));
  }

  async run(sql: string, operation: DatabaseOperation, target: string, sensitive = false): Promise<void> {
    try {
      await this.query(sql);
    } catch (error) {
      throw classifyMysqlError(error, operation, target, sensitive);
    }
  }

  private lockWaitSql(): string {
    return `SET SESSION lock_wait_timeout = ${this.lockWaitTimeoutSeconds}`;
  }

  /**
   * One statement on a pooled connection, within `queryTimeoutMs`. mysql2's own timeout only stops waiting:
   * the statement keeps running and its connection would go back to the pool still busy. So on expiry the
   * statement is killed from another connection and its own connection is destroyed.
   */
  private async query<T extends RowDataPacket[] | mysql.ResultSetHeader = RowDataPacket[]>(
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

  /** Best effort: the destroyed connection already freed the client; this frees the server. */
  private async killQuery(threadId: number | null): Promise<void> {
    if (threadId === null) return;
    try {
      await this.pool.query({ sql: `KILL QUERY ${Number(threadId)}`, timeout: this.queryTimeoutMs });
    } catch {
      // Gone already, or the server is unreachable: the destroyed socket ends the session in time.
    }
  }

  async ping(): Promise<void> {
    await this.run('SELECT 1', 'connect', 'server');
  }

  async databases(names: string[]): Promise<Map<string, { charset: string; collation: string }>> {
    if (names.length === 0) return new Map();
    names.forEach(assertDatabaseName);
    // One equality lookup per name, not `IN (...)`: MariaDB answers an IN list by listing every database on
    // the server and loading each one's options (10 ms per call at 2,000 databases, growing with every
    // tenant), and a load that races another tenant's CREATE DATABASE can cache a wrong collation for it.
    // An equality lookup opens only the named database's options.
    const lookup =
      'SELECT SCHEMA_NAME AS name, DEFAULT_CHARACTER_SET_NAME AS charset, DEFAULT_COLLATION_NAME AS collation FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?';
    try {
      const rows = await this.query(names.map(() => lookup).join(' UNION ALL '), names);
      return new Map(
        rows.map((row) => [
          String(row.name),
          { charset: String(row.charset), collation: String(row.collation) },
        ]),
      );
    } catch (error) {
      throw classifyMysqlError(error, 'inspect', 'databases');
    }
  }

  async users(users: string[]): Promise<Set<string>> {
    if (users.length === 0) return new Set();
    try {
      const rows = await this.query("SELECT User AS user FROM mysql.user WHERE Host = '%' AND User IN (?)", [
        users,
      ]);
      return new Set(rows.map((row) => String(row.user)));
    } catch (error) {
      throw classifyMysqlError(error, 'inspect', 'users');
    }
  }

  async userConnectionLimits(users: string[]): Promise<Map<string, number>> {
    if (users.length === 0) return new Map();
    try {
      const [rows] = await this.pool.query<RowDataPacket[]>(
        "SELECT User AS user, max_user_connections AS max FROM mysql.user WHERE Host = '%' AND User IN (?)",
        [users],
      );
      return new Map(rows.map((row) => [String(row.user), Number(row.max)]));
    } catch (error) {
      throw classifyMysqlError(error, 'inspect', 'user limits');
    }
  }

  async grants(user: string): Promise<string[]> {
    try {
      const rows = await this.query('SHOW GRANTS FOR ?@?', [user, '%']);
      return rows.map((row) => String(Object.values(row)[0]));
    } catch (error) {
      if ((error as { errno?: number }).errno === 1141) return [];
      throw classifyMysqlError(error, 'inspect', `grants of ${user}`);
    }
  }

  /**
   * The probe table is named after the account and its database (probeTableName), never after the command:
   * a check killed before its clean-up leaves a table that the next check of that account, a redelivery or
   * a later attempt (whose command id differs), drops first.
   */
  async checkServiceAccess(
    credentials: { username: string; password: string; database: string },
    foreignDatabase: string,
  ): Promise<ServiceAccessReport> {
    assertDatabaseName(credentials.database);
    assertDatabaseName(foreignDatabase);
    const report: ServiceAccessReport = {
      connected: false,
      ownDatabaseUsable: false,
      dropRefused: false,
      foreignDatabaseRefused: false,
    };
    let connection: PromiseConnection;
    try {
      connection = keepErrorsOnQueries(
        await createPromiseConnection({
          host: this.endpoint.host,
          port: this.endpoint.port,
          user: credentials.username,
          password: credentials.password,
          connectTimeout: this.options.connectTimeoutMs ?? 5000,
          multipleStatements: false,
        }),
      );
    } catch (error) {
      if ((error as { errno?: number }).errno === 1045) return report;
      throw classifyMysqlError(error, 'verify', credentials.username);
    }
    const probe = probeTableName(credentials.username, credentials.database);
    let created = false;
    try {
      report.connected = true;
      await this.run(
        `DROP TABLE IF EXISTS ${quoteIdentifier(credentials.database)}.${quoteIdentifier(probe)}`,
        'drop',
        probe,
      );
      await connection.query(`USE ${quoteIdentifier(credentials.database)}`);
      await connection.query(
        `CREATE TABLE ${quoteIdentifier(probe)} (id INT PRIMARY KEY, label VARCHAR(16))`,
      );
      created = true;
      await connection.query(`INSERT INTO ${quoteIdentifier(probe)} VALUES (1, 'ok')`);
      const [rows] = await connection.query<RowDataPacket[]>(`SELECT label FROM ${quoteIdentifier(probe)}`);
      report.ownDatabaseUsable = rows.length === 1 && rows[0].label === 'ok';
      report.dropRefused = await refused(connection, `DROP TABLE ${quoteIdentifier(probe)}`);
      report.foreignDatabaseRefused = await refused(connection, `USE ${quoteIdentifier(foreignDatabase)}`);
    } catch (error) {
      if (!isAccessDenied(error)) throw classifyMysqlError(error, 'verify', credentials.database);
    } finally {
      await connection.end().catch(() => undefined);
      // The spec's grants hold no DROP, so the probe table is removed with the admin account.
      if (created) {
        await this.run(
          `DROP TABLE IF EXISTS ${quoteIdentifier(credentials.database)}.${quoteIdentifier(probe)}`,
          'drop',
          probe,
        );
      }
    }
    return report;
  }

  dump(database: string, createdAt: string): { stream: Readable; tables: Promise<TableRows[]> } {
    assertDatabaseName(database);
    let resolveTables!: (tables: TableRows[]) => void;
    let rejectTables!: (error: unknown) => void;
    const tables = new Promise<TableRows[]>((resolve, reject) => {
      resolveTables = resolve;
      rejectTables = reject;
    });
    tables.catch(() => undefined);
    const stream = Readable.from(this.dumpStatements(database, createdAt, resolveTables, rejectTables));
    return { stream, tables };
  }

  private async *dumpStatements(
    database: string,
    createdAt: string,
    done: (tables: TableRows[]) => void,
    fail: (error: unknown) => void,
  ): AsyncGenerator<string> {
    const core = this.dedicatedConnection({
      database,
      // Values travel as the server's own text (or bytes): no float, date or JSON reinterpretation.
      jsonStrings: true,
      dateStrings: true,
      supportBigNumbers: true,
      bigNumberStrings: true,
    });
    const connection = core.promise();
    try {
      // A dedicated connection in one REPEATABLE READ snapshot: every table is read as of the same instant.
      await connection.query('SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ');
      await connection.query('START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY');
      const [tableRows] = await connection.query<RowDataPacket[]>(
        "SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME",
        [database],
      );
      const counts: TableRows[] = [];
      yield dumpHeader(database, createdAt);
      for (const { name } of tableRows) {
        const table = String(name);
        assertTableName(table);
        const [createRows] = await connection.query<RowDataPacket[]>(
          `SHOW CREATE TABLE ${quoteIdentifier(table)}`,
        );
        yield tableDefinition(table, String(createRows[0]['Create Table']));
        const [columnRows] = await connection.query<RowDataPacket[]>(
          "SELECT COLUMN_NAME AS name FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND EXTRA NOT LIKE '%GENERATED%' ORDER BY ORDINAL_POSITION",
          [database, table],
        );
        const columns = columnRows.map((row) => String(row.name));
        const batcher = new InsertBatcher(table, columns);
        const select = `SELECT ${columns.map(quoteIdentifier).join(',')} FROM ${quoteIdentifier(table)}`;
        for await (const row of core
          .query({ sql: select, rowsAsArray: true })
          .stream({ highWaterMark: 256 })) {
          const statement = batcher.add(row as DumpValue[]);
          if (statement) yield statement;
        }
        const last = batcher.flush();
        if (last) yield last;
        counts.push({ name: table, rows: batcher.rowCount });
      }
      await connection.query('COMMIT');
      yield dumpFooter();
      done(counts);
    } catch (error) {
      const classified = classifyMysqlError(error, 'backup', database);
      fail(classified);
      throw classified;
    } finally {
      core.destroy();
    }
  }

  async restoreAndCount(lines: Readable, scratch: string): Promise<TableRows[]> {
    assertDatabaseName(scratch);
    const user = restoreAccountName(scratch);
    // Left over by a restore killed before its clean-up (same dump, same names).
    await this.dropRestoreScratch(scratch, user);
    let connection: PromiseConnection | undefined;
    try {
      await this.run(
        `CREATE DATABASE ${quoteIdentifier(scratch)} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`,
        'restore',
        scratch,
      );
      // The dump runs as an account that can reach nothing but the scratch database (domain/restore-account).
      const password = randomBytes(24).toString('base64url');
      await this.run(createRestoreAccountSql(user, password), 'create-user', user, true);
      await this.run(grantRestoreSql(user, scratch), 'grant', user);
      connection = this.dedicatedConnection({ database: scratch, user, password }).promise();
      let complete = false;
      for await (const line of splitLines(lines)) {
        if (line === DUMP_COMPLETE_MARKER) complete = true;
        const parsed = parseDumpLine(line);
        if (parsed.kind === 'statement') {
          try {
            await connection.query(parsed.sql);
          } catch (error) {
            throw classifyMysqlError(error, 'restore', scratch);
          }
        }
      }
      if (!complete) {
        throw new SqlBuilderError('DATABASE.BACKUP_TRUNCATED', 'dump ends before its completion marker');
      }
      const [tableRows] = await connection.query<RowDataPacket[]>(
        "SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME",
        [scratch],
      );
      const counts: TableRows[] = [];
      for (const { name } of tableRows) {
        const table = String(name);
        assertTableName(table);
        const [rows] = await connection.query<RowDataPacket[]>(
          `SELECT COUNT(*) AS n FROM ${quoteIdentifier(table)}`,
        );
        counts.push({ name: table, rows: Number(rows[0].n) });
      }
      return counts;
    } finally {
      await connection?.end().catch(() => undefined);
      await this.dropRestoreScratch(scratch, user);
    }
  }

  /** The account first: it then has no database left to act on, even for an instant. */
  private async dropRestoreScratch(scratch: string, user: string): Promise<void> {
    await this.run(dropUserSql(user), 'drop', user);
    await this.run(`DROP DATABASE IF EXISTS ${quoteIdentifier(scratch)}`, 'drop', scratch);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  private dedicatedConnection(extra: mysql.ConnectionOptions): mysql.Connection {
    const connection = mysql.createConnection({
      host: this.endpoint.host,
      port: this.endpoint.port,
      user: this.endpoint.user,
      password: this.endpoint.password,
      connectTimeout: this.options.connectTimeoutMs ?? 5000,
      multipleStatements: false,
      charset: 'utf8mb4_unicode_ci',
      ...extra,
    });
    // Queued first: a dump or restore behind another session's metadata lock fails instead of waiting a year.
    connection.query(this.lockWaitSql(), () => undefined);
    return keepErrorsOnQueries(connection);
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

/** Scratch database for the restore check of one dump: `restore_` + 12 hex digits of a hash of `seed`. */
export function scratchDatabaseName(seed: string): string {
  return `restore_${createHash('sha256').update(seed).digest('hex').slice(0, 12)}`;
}

/**
 * Probe table of the access check of one account in its database: stable across redeliveries and attempts,
 * so a leftover of a check killed half-way is found and dropped by the next one.
 */
export function probeTableName(username: string, database: string): string {
  return `_provisioning_verify_${createHash('sha256').update(`${username}\u001f${database}`).digest('hex').slice(0, 8)}`;
}

function isAccessDenied(error: unknown): boolean {
  const errno = (error as { errno?: number }).errno;
  return errno === 1044 || errno === 1045 || errno === 1142 || errno === 1227;
}

/** True when the server refuses the statement for lack of privilege; any other error propagates. */
async function refused(connection: PromiseConnection, sql: string): Promise<boolean> {
  try {
    await connection.query(sql);
    return false;
  } catch (error) {
    if (isAccessDenied(error)) return true;
    throw error;
  }
}

/** Lines of a byte stream; unlike readline, a stream error rejects the loop instead of ending it quietly. */
export async function* splitLines(input: Readable): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  for await (const chunk of input) {
    pending += typeof chunk === 'string' ? chunk : decoder.write(chunk as Buffer);
    let newline = pending.indexOf('\n');
    while (newline >= 0) {
      yield pending.slice(0, newline);
      pending = pending.slice(newline + 1);
      newline = pending.indexOf('\n');
    }
  }
  pending += decoder.end();
  if (pending.length > 0) yield pending;
}
