import type { Readable } from 'node:stream';
import type { DatabaseOperation } from './mysql-errors';

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

/** What the handlers need from the MySQL server; one real implementation (`MysqlServer`), fakes in unit tests. */
export interface DatabaseAdmin {
  /** Runs one statement built by @app/plans' SQL builders. `sensitive` statements carry a password and are never logged. */
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
