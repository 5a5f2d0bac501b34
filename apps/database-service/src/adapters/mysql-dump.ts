import { Readable } from 'node:stream';
import type { RowDataPacket } from 'mysql2';
import {
  dumpFooter,
  dumpHeader,
  InsertBatcher,
  tableDefinition,
  type DumpValue,
} from '../domain/dump-format';
import { assertDatabaseName, assertTableName, quoteIdentifier } from '@app/plans';
import type { TableRows } from './database-admin';
import type { MysqlConnections } from './mysql-connections';
import { classifyMysqlError } from './mysql-errors';

/**
 * The logical dump of `database` (domain/dump-format) as a stream of statements, and its row counts once the
 * stream has ended. A failure settles `tables` with its classified error before the stream fails with it.
 */
export function dumpDatabase(
  connections: MysqlConnections,
  database: string,
  createdAt: string,
): { stream: Readable; tables: Promise<TableRows[]> } {
  assertDatabaseName(database);
  let resolveTables!: (tables: TableRows[]) => void;
  let rejectTables!: (error: unknown) => void;
  const tables = new Promise<TableRows[]>((resolve, reject) => {
    resolveTables = resolve;
    rejectTables = reject;
  });
  tables.catch(() => undefined);
  const stream = Readable.from(dumpStatements(connections, database, createdAt, resolveTables, rejectTables));
  return { stream, tables };
}

async function* dumpStatements(
  connections: MysqlConnections,
  database: string,
  createdAt: string,
  done: (tables: TableRows[]) => void,
  fail: (error: unknown) => void,
): AsyncGenerator<string> {
  const core = connections.dedicated({
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
      for await (const row of core.query({ sql: select, rowsAsArray: true }).stream({ highWaterMark: 256 })) {
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
