import {
  account,
  assertDatabaseName,
  escape,
  grantDatabasePattern,
  quoteIdentifier,
  SqlBuilderError,
} from '@app/plans';

/**
 * The account a restore check replays a dump with. A dump comes back from the archive, where anyone who can
 * write the bucket can change it, and the line filter in dump-format only knows statement shapes: a CREATE TABLE
 * may still name another database (`ENGINE=MRG_MyISAM UNION=(other.t)`, `... SELECT ... FROM other.t`). Run as
 * the admin, such a line reads or writes any database on the server; run as this account, the server refuses
 * it. The account is created for one check and dropped after it.
 *
 * Exactly what replaying the dump format needs, statement by statement:
 * - `DROP TABLE IF EXISTS`: DROP;
 * - `CREATE TABLE` (with its indexes and foreign keys inline): CREATE, and REFERENCES for the foreign keys;
 * - `INSERT INTO`: INSERT;
 * - counting the restored rows: SELECT.
 * The `SET` lines change only session variables and need none. No global privilege, nothing outside the
 * scratch database, no GRANT OPTION.
 */
export const RESTORE_PRIVILEGES = ['CREATE', 'DROP', 'INSERT', 'SELECT', 'REFERENCES'] as const;

/** One connection: the restore uses one, and nothing else should be able to log in with the account. */
const RESTORE_MAX_CONNECTIONS = 1;

/**
 * Named after its scratch database (`restore_` + 12 hex digits), so a check killed before its clean-up leaves
 * an account the next check of the same dump drops first. Tenant accounts end in `_user` or `_u`, never in a
 * hex digit, so the names cannot meet.
 */
export function restoreAccountName(scratch: string): string {
  if (typeof scratch !== 'string' || !/^restore_[0-9a-f]{12}$/.test(scratch)) {
    throw new SqlBuilderError('DATABASE.INVALID_IDENTIFIER', 'scratch database name is not restore_<12 hex>');
  }
  return scratch;
}

/** Contains the password: execute, never log. */
export function createRestoreAccountSql(user: string, password: string): string {
  if (typeof password !== 'string' || !/^[A-Za-z0-9_-]{32,128}$/.test(password)) {
    throw new SqlBuilderError('DATABASE.INVALID_PASSWORD', 'restore account password is not a generated one');
  }
  return `CREATE USER ${account(user)} IDENTIFIED BY ${escape(password)} WITH MAX_USER_CONNECTIONS ${RESTORE_MAX_CONNECTIONS}`;
}

export function grantRestoreSql(user: string, scratch: string): string {
  assertDatabaseName(scratch);
  return `GRANT ${RESTORE_PRIVILEGES.join(', ')} ON ${quoteIdentifier(grantDatabasePattern(scratch))}.* TO ${account(user)}`;
}
