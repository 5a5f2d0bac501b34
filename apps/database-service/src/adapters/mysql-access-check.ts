import { createHash } from 'node:crypto';
import type { RowDataPacket } from 'mysql2';
import type { Connection as PromiseConnection } from 'mysql2/promise';
import { assertDatabaseName, quoteIdentifier } from '@app/plans';
import type { ServiceAccessReport } from './database-admin';
import type { MysqlConnections } from './mysql-connections';
import { classifyMysqlError, isAccessDenied } from './mysql-errors';

/**
 * Probe table of the access check of one account in its database: stable across redeliveries and attempts,
 * so a leftover of a check killed half-way is found and dropped by the next one.
 */
export function probeTableName(username: string, database: string): string {
  return `_provisioning_verify_${createHash('sha256').update(`${username}\u001f${database}`).digest('hex').slice(0, 8)}`;
}

/**
 * Connects as a service account and checks what it can do: use its own database, not drop a table in it, not
 * reach `foreignDatabase`. The probe table is named after the account and its database (probeTableName), never
 * after the command: a check killed before its clean-up leaves a table that the next check of that account, a
 * redelivery or a later attempt (whose command id differs), drops first.
 */
export async function checkServiceAccess(
  connections: MysqlConnections,
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
    connection = await connections.connectAs(credentials.username, credentials.password);
  } catch (error) {
    if ((error as { errno?: number }).errno === 1045) return report;
    throw classifyMysqlError(error, 'verify', credentials.username);
  }
  const probe = probeTableName(credentials.username, credentials.database);
  const dropProbe = () =>
    connections.run(
      `DROP TABLE IF EXISTS ${quoteIdentifier(credentials.database)}.${quoteIdentifier(probe)}`,
      'drop',
      probe,
    );
  let created = false;
  try {
    report.connected = true;
    await dropProbe();
    await connection.query(`USE ${quoteIdentifier(credentials.database)}`);
    await connection.query(`CREATE TABLE ${quoteIdentifier(probe)} (id INT PRIMARY KEY, label VARCHAR(16))`);
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
    if (created) await dropProbe();
  }
  return report;
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
