import { permanent, retryable, StepError } from '@app/platform';
import { domainRefusal } from '../domain/errors';

/** What the failing statement was doing, so a refusal gets a code an operator can act on. */
export type DatabaseOperation =
  | 'connect'
  | 'create-database'
  | 'create-user'
  | 'set-password'
  | 'grant'
  | 'drop'
  | 'inspect'
  | 'verify'
  | 'backup'
  | 'restore';

const RETRYABLE_NETWORK = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'POOL_CLOSED',
]);
/** Server-side conditions that clear by themselves. */
const RETRYABLE_ERRNO = new Set([
  1040, // ER_CON_COUNT_ERROR
  1053, // ER_SERVER_SHUTDOWN
  2002, // CR_CONNECTION_ERROR
  2003, // CR_CONN_HOST_ERROR
  2006, // CR_SERVER_GONE_ERROR
  2013, // CR_SERVER_LOST
]);
const ACCESS_DENIED_ERRNO = new Set([1044, 1045, 1142, 1143, 1227, 1370, 1410]);

const REFUSED_CODE: Record<DatabaseOperation, string> = {
  connect: 'DATABASE.ADMIN_ACCESS_DENIED',
  'create-database': 'DATABASE.CREATE_REFUSED',
  'create-user': 'DATABASE.USER_CREATION_REFUSED',
  'set-password': 'DATABASE.USER_CREATION_REFUSED',
  grant: 'DATABASE.GRANT_REFUSED',
  drop: 'DATABASE.DROP_REFUSED',
  inspect: 'DATABASE.ACCESS_DENIED',
  verify: 'DATABASE.ACCESS_DENIED',
  backup: 'DATABASE.BACKUP_REFUSED',
  restore: 'DATABASE.RESTORE_REFUSED',
};

interface MysqlLikeError {
  code?: unknown;
  errno?: unknown;
  sqlMessage?: unknown;
}

function fields(error: unknown): { code?: string; errno?: number; sqlMessage?: string } {
  if (typeof error !== 'object' || error === null) return {};
  const e = error as MysqlLikeError;
  return {
    code: typeof e.code === 'string' ? e.code : undefined,
    errno: typeof e.errno === 'number' ? e.errno : undefined,
    sqlMessage: typeof e.sqlMessage === 'string' ? e.sqlMessage : undefined,
  };
}

/**
 * The one classification of a MySQL failure, for the adapter and every handler: a mysql2 error becomes a
 * StepError; a StepError and the app's typed refusals (`domainRefusal`) keep their codes. `sensitive` marks
 * statements that carry a password: their server message may quote the statement (syntax errors do), so only
 * the code goes into the text. The original error is not attached as `cause` because mysql2 errors carry the
 * full SQL text.
 */
export function classifyMysqlError(
  error: unknown,
  operation: DatabaseOperation,
  target: string,
  sensitive = false,
): StepError {
  if (error instanceof StepError) return error;
  const refusal = domainRefusal(error);
  if (refusal) return refusal;
  const { code, errno, sqlMessage } = fields(error);
  const detail = sensitive
    ? (code ?? 'error')
    : (sqlMessage ?? code ?? (error instanceof Error ? error.message : 'error'));
  const where = `${operation} ${target}`;
  if (errno === 1205 || errno === 1213) {
    // Another session holds a lock (a long query, a metadata lock): retryable, and named as what it is.
    return retryable(
      'DATABASE.LOCK_TIMEOUT',
      `${where}: waited too long for a lock held by another session (${code ?? errno})`,
    );
  }
  if ((code && RETRYABLE_NETWORK.has(code)) || (errno !== undefined && RETRYABLE_ERRNO.has(errno))) {
    return retryable('DATABASE.UNAVAILABLE', `${where}: server unavailable (${code ?? errno})`);
  }
  if (errno !== undefined && ACCESS_DENIED_ERRNO.has(errno)) {
    return permanent(REFUSED_CODE[operation], `${where}: refused by the server (${code}): ${detail}`);
  }
  if (errno === 1064 || errno === 1149) {
    return permanent('DATABASE.SQL_SYNTAX', `${where}: statement refused as invalid (${code})`);
  }
  if (errno === 1396) {
    return permanent('DATABASE.USER_OPERATION_FAILED', `${where}: account operation failed (${code})`);
  }
  if (errno === 1007 || errno === 1008 || errno === 1049) {
    return permanent('DATABASE.SCHEMA_STATE', `${where}: ${detail}`);
  }
  if (errno !== undefined) {
    return permanent('DATABASE.SERVER_ERROR', `${where}: ${code ?? errno}: ${detail}`);
  }
  // No errno: a client-side or unknown fault; a retry is the likelier cure.
  return retryable('DATABASE.UNEXPECTED', `${where}: ${detail}`);
}

/** The server refused the statement or the login for lack of privilege (or a wrong password). */
export function isAccessDenied(error: unknown): boolean {
  const errno = (error as { errno?: number }).errno;
  return errno === 1044 || errno === 1045 || errno === 1142 || errno === 1227;
}
