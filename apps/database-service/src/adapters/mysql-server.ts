import type { Readable } from 'node:stream';
import { assertDatabaseName } from '@app/plans';
import type { DatabaseAdmin, ServiceAccessReport, TableRows } from './database-admin';
import { checkServiceAccess } from './mysql-access-check';
import { MysqlConnections, type MysqlEndpoint, type MysqlServerOptions } from './mysql-connections';
import { dumpDatabase } from './mysql-dump';
import { classifyMysqlError, type DatabaseOperation } from './mysql-errors';
import { restoreAndCount } from './mysql-restore';

/**
 * The MySQL server the databases live on, through an admin account: account and grant administration and
 * inspection here; the access check (mysql-access-check), dump (mysql-dump) and restore (mysql-restore) in their
 * own modules; connections and their bounds in mysql-connections. Every failure is a StepError classified by
 * `classifyMysqlError`.
 */
export class MysqlServer implements DatabaseAdmin {
  private readonly connections: MysqlConnections;

  constructor(endpoint: MysqlEndpoint, options: MysqlServerOptions = {}) {
    this.connections = new MysqlConnections(endpoint, options);
  }

  async run(sql: string, operation: DatabaseOperation, target: string, sensitive = false): Promise<void> {
    await this.connections.run(sql, operation, target, sensitive);
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
      const rows = await this.connections.query(names.map(() => lookup).join(' UNION ALL '), names);
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
      const rows = await this.connections.query(
        "SELECT User AS user FROM mysql.user WHERE Host = '%' AND User IN (?)",
        [users],
      );
      return new Set(rows.map((row) => String(row.user)));
    } catch (error) {
      throw classifyMysqlError(error, 'inspect', 'users');
    }
  }

  async userConnectionLimits(users: string[]): Promise<Map<string, number>> {
    if (users.length === 0) return new Map();
    try {
      const rows = await this.connections.query(
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
      const rows = await this.connections.query('SHOW GRANTS FOR ?@?', [user, '%']);
      return rows.map((row) => String(Object.values(row)[0]));
    } catch (error) {
      if ((error as { errno?: number }).errno === 1141) return [];
      throw classifyMysqlError(error, 'inspect', `grants of ${user}`);
    }
  }

  checkServiceAccess(
    credentials: { username: string; password: string; database: string },
    foreignDatabase: string,
  ): Promise<ServiceAccessReport> {
    return checkServiceAccess(this.connections, credentials, foreignDatabase);
  }

  dump(database: string, createdAt: string): { stream: Readable; tables: Promise<TableRows[]> } {
    return dumpDatabase(this.connections, database, createdAt);
  }

  restoreAndCount(lines: Readable, scratch: string): Promise<TableRows[]> {
    return restoreAndCount(this.connections, lines, scratch);
  }

  async close(): Promise<void> {
    await this.connections.end();
  }
}
