import { createHash, randomBytes } from 'node:crypto';
import { StringDecoder } from 'node:string_decoder';
import type { Readable } from 'node:stream';
import type { RowDataPacket } from 'mysql2';
import type { Connection as PromiseConnection } from 'mysql2/promise';
import { parseDumpLine, DUMP_COMPLETE_MARKER } from '../domain/dump-format';
import { createRestoreAccountSql, grantRestoreSql, restoreAccountName } from '../domain/restore-account';
import {
  assertDatabaseName,
  assertTableName,
  dropUserSql,
  quoteIdentifier,
  SqlBuilderError,
} from '@app/plans';
import type { TableRows } from './database-admin';
import type { MysqlConnections } from './mysql-connections';
import { classifyMysqlError } from './mysql-errors';

/** Scratch database for the restore check of one dump: `restore_` + 12 hex digits of a hash of `seed`. */
export function scratchDatabaseName(seed: string): string {
  return `restore_${createHash('sha256').update(seed).digest('hex').slice(0, 12)}`;
}

/**
 * Replays the dump `lines` into the fresh database `scratch` as an account that can reach nothing else
 * (domain/restore-account), returns its row counts, and drops both. A dump without its completion marker fails
 * as DATABASE.BACKUP_TRUNCATED.
 */
export async function restoreAndCount(
  connections: MysqlConnections,
  lines: Readable,
  scratch: string,
): Promise<TableRows[]> {
  assertDatabaseName(scratch);
  const user = restoreAccountName(scratch);
  // Left over by a restore killed before its clean-up (same dump, same names).
  await dropRestoreScratch(connections, scratch, user);
  let connection: PromiseConnection | undefined;
  try {
    await connections.run(
      `CREATE DATABASE ${quoteIdentifier(scratch)} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`,
      'restore',
      scratch,
    );
    const password = randomBytes(24).toString('base64url');
    await connections.run(createRestoreAccountSql(user, password), 'create-user', user, true);
    await connections.run(grantRestoreSql(user, scratch), 'grant', user);
    connection = connections.dedicated({ database: scratch, user, password }).promise();
    await replay(connection, lines, scratch);
    return await countRows(connection, scratch);
  } finally {
    await connection?.end().catch(() => undefined);
    await dropRestoreScratch(connections, scratch, user);
  }
}

async function replay(connection: PromiseConnection, lines: Readable, scratch: string): Promise<void> {
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
}

async function countRows(connection: PromiseConnection, scratch: string): Promise<TableRows[]> {
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
}

/** The account first: it then has no database left to act on, even for an instant. */
async function dropRestoreScratch(
  connections: MysqlConnections,
  scratch: string,
  user: string,
): Promise<void> {
  await connections.run(dropUserSql(user), 'drop', user);
  await connections.run(`DROP DATABASE IF EXISTS ${quoteIdentifier(scratch)}`, 'drop', scratch);
}

/** Lines of a byte stream; unlike readline, a stream error rejects the loop instead of ending it quietly. */
async function* splitLines(input: Readable): AsyncGenerator<string> {
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
