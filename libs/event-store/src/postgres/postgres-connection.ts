import { EventStoreError, EventStoreUnavailableError } from '../errors';

/**
 * How every PostgreSQL user of the project bounds its waits (connect, statement and query timeouts) and tells
 * an unavailable server or connection from a bad request.
 */

export const DEFAULT_POSTGRES_CONNECT_TIMEOUT_MS = 10_000;
export const DEFAULT_POSTGRES_STATEMENT_TIMEOUT_MS = 30_000;
/** Head start of the server's statement_timeout over the client's query_timeout, so the server cancels first. */
const CLIENT_TIMEOUT_MARGIN_MS = 5_000;

/**
 * The timeouts of a `pg` client or pool: connect, statement (server side) and query (client side). Shared by
 * every PostgreSQL user of the project so they bound their waits the same way.
 */
export function postgresTimeouts(options: { connectTimeoutMs?: number; statementTimeoutMs?: number }): {
  connectionTimeoutMillis: number;
  statement_timeout: number;
  query_timeout: number;
} {
  const connect = options.connectTimeoutMs ?? DEFAULT_POSTGRES_CONNECT_TIMEOUT_MS;
  const statement = options.statementTimeoutMs ?? DEFAULT_POSTGRES_STATEMENT_TIMEOUT_MS;
  if (!(connect > 0) || !(statement > 0)) {
    throw new RangeError('PostgreSQL connectTimeoutMs and statementTimeoutMs must be > 0');
  }
  return {
    connectionTimeoutMillis: connect,
    statement_timeout: statement,
    query_timeout: statement + CLIENT_TIMEOUT_MARGIN_MS,
  };
}

/** SQLSTATE classes and socket errors that mean "the server or connection went away", not a bad request. */
const UNAVAILABLE_SQLSTATES = new Set([
  // query_canceled: statement_timeout (or an operator's cancel); the statement may pass on a retry.
  '57014',
  '57P01',
  '57P02',
  '57P03',
  '53300',
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
]);
const UNAVAILABLE_NODE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** True when a `pg` error means the server or connection is unavailable (exported for other PostgreSQL users). */
export function isPostgresUnavailable(error: unknown): boolean {
  // Duck-typed: socket errors are built by Node's own realm, so `instanceof Error` fails under Jest's sandbox.
  if (typeof error !== 'object' || error === null) return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && (UNAVAILABLE_SQLSTATES.has(code) || UNAVAILABLE_NODE_CODES.has(code)))
    return true;
  return (
    typeof message === 'string' &&
    /Connection terminated|connection timeout|Client has encountered a connection error|not queryable|timeout exceeded when trying to connect|Query read timeout/i.test(
      message,
    )
  );
}

/** The error to throw for a `pg` error: unavailability as the event store's own typed error. */
export function mapError(error: unknown): unknown {
  if (error instanceof EventStoreError) return error;
  if (isPostgresUnavailable(error)) {
    return new EventStoreUnavailableError(`PostgreSQL event store unavailable: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return error;
}
