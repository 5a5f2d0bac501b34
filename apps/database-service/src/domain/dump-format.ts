import { assertTableName, escape, quoteIdentifier, SqlBuilderError } from '@app/plans';

/**
 * The logical dump format: one statement per line, each ending in `;`. Line-per-statement holds because
 * string literals are escaped (mysql2 turns newlines into `\n`) and SHOW CREATE TABLE escapes the newlines
 * inside comments and defaults, so only its layout newlines need folding. The restorer accepts only the
 * statement shapes written here, so a doctored dump cannot reach beyond the scratch database.
 */

export const DUMP_COMPLETE_MARKER = '-- dump complete';
/** Upper bound for one INSERT (well below the server's 16 MiB max_allowed_packet default). */
export const INSERT_BATCH_BYTES = 512 * 1024;
export const INSERT_BATCH_ROWS = 1000;

export type DumpValue = string | number | bigint | Buffer | null;

export function dumpHeader(database: string, createdAt: string): string {
  return [
    `-- logical dump of ${database} taken ${createdAt} in one consistent snapshot`,
    'SET NAMES utf8mb4;',
    'SET FOREIGN_KEY_CHECKS=0;',
    'SET UNIQUE_CHECKS=0;',
    "SET SQL_MODE='NO_AUTO_VALUE_ON_ZERO';",
    '',
  ].join('\n');
}

export function dumpFooter(): string {
  return ['SET FOREIGN_KEY_CHECKS=1;', 'SET UNIQUE_CHECKS=1;', DUMP_COMPLETE_MARKER, ''].join('\n');
}

export function assertColumnName(name: string): void {
  // Backtick quoting handles any printable name; control characters would break the line format.
  if (
    typeof name !== 'string' ||
    name.length === 0 ||
    name.length > 64 ||
    [...name].some((c) => c.charCodeAt(0) < 0x20)
  ) {
    throw new SqlBuilderError(
      'DATABASE.BACKUP_UNSUPPORTED_IDENTIFIER',
      `unsupported column name ${JSON.stringify(name)}`,
    );
  }
}

export function tableDefinition(table: string, showCreateTable: string): string {
  assertTableName(table);
  const folded = showCreateTable.replace(/\r?\n\s*/g, ' ');
  if (!folded.startsWith(`CREATE TABLE ${quoteIdentifier(table)} (`)) {
    throw new SqlBuilderError('DATABASE.BACKUP_UNEXPECTED_DDL', `unexpected definition for table ${table}`);
  }
  return `DROP TABLE IF EXISTS ${quoteIdentifier(table)};\n${folded};\n`;
}

export function insertStatement(table: string, columns: string[], rows: DumpValue[][]): string {
  assertTableName(table);
  columns.forEach(assertColumnName);
  const values = rows.map((row) => `(${row.map((value) => escapeValue(value)).join(',')})`).join(',');
  return `INSERT INTO ${quoteIdentifier(table)} (${columns.map(quoteIdentifier).join(',')}) VALUES ${values};\n`;
}

function escapeValue(value: DumpValue): string {
  if (typeof value === 'bigint') return value.toString();
  if (value !== null && typeof value === 'object' && !Buffer.isBuffer(value)) {
    // mysql2's escape would render an object as `col = value` pairs; a value is always a literal here.
    throw new SqlBuilderError(
      'DATABASE.BACKUP_UNSUPPORTED_VALUE',
      'dump value is neither text, number nor bytes',
    );
  }
  return escape(value);
}

/** Folds rows into INSERT statements of bounded size. */
export class InsertBatcher {
  private rows: DumpValue[][] = [];
  private bytes = 0;
  rowCount = 0;

  constructor(
    private readonly table: string,
    private readonly columns: string[],
  ) {}

  /** Returns a full statement when the batch is full, else undefined. */
  add(row: DumpValue[]): string | undefined {
    this.rows.push(row);
    this.rowCount += 1;
    for (const value of row)
      this.bytes +=
        value === null ? 4 : Buffer.isBuffer(value) ? value.length * 2 + 3 : String(value).length + 3;
    return this.rows.length >= INSERT_BATCH_ROWS || this.bytes >= INSERT_BATCH_BYTES
      ? this.flush()
      : undefined;
  }

  flush(): string | undefined {
    if (this.rows.length === 0) return undefined;
    const statement = insertStatement(this.table, this.columns, this.rows);
    this.rows = [];
    this.bytes = 0;
    return statement;
  }
}

const SAFE_TABLE = '`[A-Za-z0-9_$]{1,64}`';
const ALLOWED_STATEMENTS = [
  /^SET NAMES utf8mb4;$/,
  /^SET FOREIGN_KEY_CHECKS=[01];$/,
  /^SET UNIQUE_CHECKS=[01];$/,
  /^SET SQL_MODE='NO_AUTO_VALUE_ON_ZERO';$/,
  new RegExp(`^DROP TABLE IF EXISTS ${SAFE_TABLE};$`),
  new RegExp(`^CREATE TABLE ${SAFE_TABLE} \\(.*;$`),
  new RegExp(`^INSERT INTO ${SAFE_TABLE} \\(.*;$`),
];

/** Classifies one dump line: a statement to run (without its `;`), a comment, or a refusal. */
export function parseDumpLine(line: string): { kind: 'statement'; sql: string } | { kind: 'skip' } {
  if (line === '' || line.startsWith('-- ')) return { kind: 'skip' };
  if (!ALLOWED_STATEMENTS.some((pattern) => pattern.test(line))) {
    throw new SqlBuilderError(
      'DATABASE.BACKUP_CORRUPTED',
      `dump contains an unexpected statement: ${JSON.stringify(line.slice(0, 40))}`,
    );
  }
  return { kind: 'statement', sql: line.slice(0, -1) };
}
