import { ErrorType, isCommandError, type CommandError } from '@eventstore/db-client';
import {
  AppendTooLargeError,
  EventStoreUnavailableError,
  InvalidEventStoreArgumentError,
  StreamDeletedError,
  StreamNotFoundError,
  WrongExpectedVersionError,
} from '../errors';
import type { ExpectedRevision } from '../types';

/**
 * Errors that say something about the request or the caller, not about the connection: retrying cannot cure
 * them. Everything else the client reports (UNAVAILABLE, DEADLINE_EXCEEDED, CANCELLED, NOT_LEADER, and the
 * `UnknownError` it makes of any other gRPC status, such as `13 INTERNAL: Received RST_STREAM`) is transport.
 */
const REQUEST_ERRORS = new Set<string>([
  ErrorType.ACCESS_DENIED,
  ErrorType.INVALID_ARGUMENT,
  ErrorType.STREAM_NOT_FOUND,
  ErrorType.NO_STREAM,
  ErrorType.NOT_FOUND,
  ErrorType.STREAM_DELETED,
  ErrorType.WRONG_EXPECTED_VERSION,
  ErrorType.MAXIMUM_APPEND_SIZE_EXCEEDED,
  ErrorType.MISSING_REQUIRED_METADATA_PROPERTY,
  ErrorType.INVALID_TRANSACTION,
  ErrorType.UNSUPPORTED,
]);

/** Stops a subscription for good: reconnecting with the same credentials and request fails the same way. */
const FATAL_FOR_SUBSCRIPTIONS = new Set<string>([ErrorType.ACCESS_DENIED, ErrorType.INVALID_ARGUMENT]);

export function asCommandError(error: unknown): CommandError | undefined {
  return error instanceof Error && isCommandError(error) ? error : undefined;
}

/** A failure of the connection or of the server's availability: the operation may be tried again. */
export function isTransportError(error: unknown): boolean {
  const command = asCommandError(error);
  return command !== undefined && !REQUEST_ERRORS.has(command.type);
}

/** Whether a subscription must stop on this error of the client (anything else is retried with backoff). */
export function isFatalSubscriptionError(error: unknown): boolean {
  const command = asCommandError(error);
  return command === undefined || FATAL_FOR_SUBSCRIPTIONS.has(command.type);
}

export interface ErrorContext {
  stream?: string;
  expected?: ExpectedRevision;
  /** A read: a deleted stream reads as a stream without events. */
  read?: boolean;
}

/** Maps an error of `@eventstore/db-client` to the port's typed errors; other errors pass through unchanged. */
export function mapEsdbError(error: unknown, context: ErrorContext = {}): unknown {
  const command = asCommandError(error);
  if (!command) return error;
  const { stream, expected } = context;
  switch (command.type) {
    case ErrorType.WRONG_EXPECTED_VERSION:
      if (stream === undefined || expected === undefined) break;
      return new WrongExpectedVersionError(
        stream,
        expected,
        typeof command.actualVersion === 'bigint' ? Number(command.actualVersion) : 'no_stream',
      );
    case ErrorType.STREAM_NOT_FOUND:
      if (stream === undefined) break;
      return new StreamNotFoundError(stream);
    case ErrorType.STREAM_DELETED:
      if (stream === undefined) break;
      return context.read ? new StreamNotFoundError(stream) : new StreamDeletedError(stream);
    case ErrorType.MAXIMUM_APPEND_SIZE_EXCEEDED:
      return new AppendTooLargeError(stream ?? '(unknown stream)', command.maxAppendSize);
    case ErrorType.INVALID_ARGUMENT:
      return new InvalidEventStoreArgumentError(`EventStoreDB refused the request: ${command.message}`);
    default:
      break;
  }
  if (isTransportError(command)) {
    return new EventStoreUnavailableError(`EventStoreDB unavailable: ${command.message}`, { cause: command });
  }
  return error;
}
