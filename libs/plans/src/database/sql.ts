import { escape } from 'mysql2';

/** mysql2's literal escaping (a pure function): the domain's one use of the driver, re-exported for its modules. */
export { escape };

/**
 * Pure SQL builders for the tenant databases (spec 3.1). Every identifier is checked against a strict
 * pattern before any text is produced, then quoted for MySQL anyway (defence in depth); passwords go
 * through mysql2's literal escaping, and the statements carrying them are never logged.
 */

export class SqlBuilderError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'SqlBuilderError';
  }
}

export const DATABASE_NAME_PATTERN = /^[a-z0-9_]{1,64}$/;
/** MySQL 8 caps user names at 32 characters (DESIGN.md 7). */
export const USER_NAME_PATTERN = /^[a-z0-9_]{1,32}$/;
export const TABLE_NAME_PATTERN = /^[A-Za-z0-9_$]{1,64}$/;
/** Generated passwords are base64url; anything else is refused rather than escaped. */
export const PASSWORD_PATTERN = /^[A-Za-z0-9_-]{24,128}$/;
export const SERVICE_PRIVILEGES = [
  'SELECT',
  'INSERT',
  'UPDATE',
  'DELETE',
  'CREATE',
  'ALTER',
  'INDEX',
] as const;
export const ACCOUNT_HOST = '%';

function excerpt(value: unknown): string {
  return JSON.stringify(String(value).slice(0, 64));
}

export function assertDatabaseName(name: string): void {
  if (typeof name !== 'string' || !DATABASE_NAME_PATTERN.test(name)) {
    throw new SqlBuilderError('DATABASE.INVALID_IDENTIFIER', `invalid database name ${excerpt(name)}`);
  }
}
export function assertUserName(name: string): void {
  if (typeof name !== 'string' || name.length > 32) {
    throw new SqlBuilderError(
      'DATABASE.USER_NAME_TOO_LONG',
      `user name ${excerpt(name)} exceeds 32 characters`,
    );
  }
  if (!USER_NAME_PATTERN.test(name)) {
    throw new SqlBuilderError('DATABASE.INVALID_IDENTIFIER', `invalid user name ${excerpt(name)}`);
  }
}
export function assertTableName(name: string): void {
  if (typeof name !== 'string' || !TABLE_NAME_PATTERN.test(name)) {
    throw new SqlBuilderError('DATABASE.INVALID_IDENTIFIER', `invalid table name ${excerpt(name)}`);
  }
}
function assertPassword(password: string): void {
  // The message never includes the value.
  if (typeof password !== 'string' || !PASSWORD_PATTERN.test(password)) {
    throw new SqlBuilderError(
      'DATABASE.INVALID_PASSWORD',
      'password does not match the generated-password alphabet',
    );
  }
}

/** Backtick quoting with embedded backticks doubled; only reached after validation. */
export function quoteIdentifier(name: string): string {
  return '`' + name.replace(/`/g, '``') + '`';
}

/** `'user'@'%'` as string literals. */
export function account(user: string): string {
  assertUserName(user);
  return `${escape(user)}@${escape(ACCOUNT_HOST)}`;
}

export function createDatabaseSql(database: string): string {
  assertDatabaseName(database);
  return `CREATE DATABASE IF NOT EXISTS ${quoteIdentifier(database)} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`;
}

export function alterDatabaseCharsetSql(database: string): string {
  assertDatabaseName(database);
  return `ALTER DATABASE ${quoteIdentifier(database)} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`;
}

export function dropDatabaseSql(database: string): string {
  assertDatabaseName(database);
  return `DROP DATABASE IF EXISTS ${quoteIdentifier(database)}`;
}

/** Contains the password: execute, never log. */
export function createUserSql(user: string, password: string): string {
  assertPassword(password);
  return `CREATE USER IF NOT EXISTS ${account(user)} IDENTIFIED BY ${escape(password)}`;
}

/** Contains the password: execute, never log. */
export function setUserPasswordSql(user: string, password: string): string {
  assertPassword(password);
  return `ALTER USER ${account(user)} IDENTIFIED BY ${escape(password)}`;
}

/**
 * In database-level grants `_` and `%` are wildcards: the spec's `GRANT ... ON abc_corp_..._auth_db.*` would
 * also match `abcXcorp...` (another tenant's database). Escaping them makes the grant name exactly one database.
 */
export function grantDatabasePattern(database: string): string {
  assertDatabaseName(database);
  return database.replace(/[_%]/g, (c) => `\\${c}`);
}

export function grantSql(user: string, database: string): string {
  return `GRANT ${SERVICE_PRIVILEGES.join(', ')} ON ${quoteIdentifier(grantDatabasePattern(database))}.* TO ${account(user)}`;
}

/** Removes every privilege (used when an account has drifted from the spec's grant set). */
export function revokeAllSql(user: string): string {
  return `REVOKE ALL PRIVILEGES, GRANT OPTION FROM ${account(user)}`;
}

/**
 * Caps the account's simultaneous connections (its tier's limit). Existing sessions are kept when it is
 * lowered: the server refuses only new connections beyond it.
 */
export function userConnectionLimitSql(user: string, maxConnections: number): string {
  if (!Number.isSafeInteger(maxConnections) || maxConnections < 1) {
    throw new SqlBuilderError(
      'DATABASE.INVALID_LIMIT',
      `connection limit ${excerpt(maxConnections)} is not a whole number >= 1`,
    );
  }
  return `ALTER USER ${account(user)} WITH MAX_USER_CONNECTIONS ${maxConnections}`;
}

export function dropUserSql(user: string): string {
  return `DROP USER IF EXISTS ${account(user)}`;
}

/**
 * Privileges per database scope from `SHOW GRANTS` lines. The USAGE line (which on MariaDB carries the
 * password hash) contributes nothing and is never returned.
 */
export function parseGrants(lines: string[]): Map<string, Set<string>> {
  const scopes = new Map<string, Set<string>>();
  for (const line of lines) {
    const match = /^GRANT (.+?) ON (\S+) TO /.exec(line);
    if (!match) continue;
    const privileges = match[1]
      .split(',')
      .map((p) => p.trim().toUpperCase())
      .filter((p) => p !== 'USAGE');
    const withGrantOption = / WITH GRANT OPTION/i.test(line);
    if (privileges.length === 0 && !withGrantOption) continue;
    const scope = match[2].replace(/`/g, '');
    const set = scopes.get(scope) ?? new Set<string>();
    for (const p of privileges) set.add(p);
    if (withGrantOption) set.add('GRANT OPTION');
    scopes.set(scope, set);
  }
  return scopes;
}

/** True when the account holds exactly the spec's privileges on its own database and nothing else. */
export function grantsMatch(lines: string[], database: string): boolean {
  const scopes = parseGrants(lines);
  if (scopes.size !== 1) return false;
  const privileges = scopes.get(`${grantDatabasePattern(database)}.*`);
  return (
    privileges !== undefined &&
    privileges.size === SERVICE_PRIVILEGES.length &&
    SERVICE_PRIVILEGES.every((p) => privileges.has(p))
  );
}
