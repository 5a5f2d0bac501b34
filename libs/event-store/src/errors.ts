import type { ExpectedRevision } from './types';

export const EVENT_STORE_ERROR_CODES = {
  WRONG_EXPECTED_VERSION: 'EVENT_STORE.WRONG_EXPECTED_VERSION',
  STREAM_NOT_FOUND: 'EVENT_STORE.STREAM_NOT_FOUND',
  UNAVAILABLE: 'EVENT_STORE.UNAVAILABLE',
  INVALID_ARGUMENT: 'EVENT_STORE.INVALID_ARGUMENT',
  UPCAST_FAILED: 'EVENT_STORE.UPCAST_FAILED',
  UNSUPPORTED_URL: 'EVENT_STORE.UNSUPPORTED_URL',
  APPEND_TOO_LARGE: 'EVENT_STORE.APPEND_TOO_LARGE',
  STREAM_DELETED: 'EVENT_STORE.STREAM_DELETED',
} as const;

export type EventStoreErrorCode = (typeof EVENT_STORE_ERROR_CODES)[keyof typeof EVENT_STORE_ERROR_CODES];

export abstract class EventStoreError extends Error {
  abstract readonly code: EventStoreErrorCode;
}

/** Printable form of an expectation, stable across adapters (bigints become numbers). */
export type ExpectedRevisionDescription = number | 'no_stream' | 'any' | 'stream_exists';

/** The stream was not at the expected revision: reload it, decide again, retry. */
export class WrongExpectedVersionError extends EventStoreError {
  readonly code = EVENT_STORE_ERROR_CODES.WRONG_EXPECTED_VERSION;
  readonly expected: ExpectedRevisionDescription;
  constructor(
    readonly stream: string,
    expected: ExpectedRevision,
    /** Current revision of the stream, or `no_stream`. */
    readonly actual: number | 'no_stream',
  ) {
    const exp = typeof expected === 'bigint' ? Number(expected) : expected;
    super(`Stream ${stream}: expected revision ${String(exp)}, actual ${String(actual)}`);
    this.name = 'WrongExpectedVersionError';
    this.expected = exp;
  }
}

export class StreamNotFoundError extends EventStoreError {
  readonly code = EVENT_STORE_ERROR_CODES.STREAM_NOT_FOUND;
  constructor(readonly stream: string) {
    super(`Stream ${stream} not found`);
    this.name = 'StreamNotFoundError';
  }
}

/** The store could not be reached or dropped the connection; the operation may or may not have happened. */
export class EventStoreUnavailableError extends EventStoreError {
  readonly code = EVENT_STORE_ERROR_CODES.UNAVAILABLE;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EventStoreUnavailableError';
  }
}

export class InvalidEventStoreArgumentError extends EventStoreError {
  readonly code = EVENT_STORE_ERROR_CODES.INVALID_ARGUMENT;
  constructor(message: string) {
    super(message);
    this.name = 'InvalidEventStoreArgumentError';
  }
}

export class UpcastError extends EventStoreError {
  readonly code = EVENT_STORE_ERROR_CODES.UPCAST_FAILED;
  constructor(
    readonly eventType: string,
    readonly fromVersion: number,
    options: { cause: unknown },
  ) {
    super(`Upcasting ${eventType} from schema version ${fromVersion} failed`, options);
    this.name = 'UpcastError';
  }
}

export class UnsupportedEventStoreUrlError extends EventStoreError {
  readonly code = EVENT_STORE_ERROR_CODES.UNSUPPORTED_URL;
  constructor(readonly scheme: string) {
    super(
      `Unsupported event store URL scheme "${scheme}" (expected esdb:, esdb+discover:, kurrentdb:, ` +
        `kurrentdb+discover:, postgres:, postgresql: or memory:)`,
    );
    this.name = 'UnsupportedEventStoreUrlError';
  }
}

/**
 * The batch is larger than the store accepts in one append (EventStoreDB: its `MaxAppendSize`, 1 MiB by default).
 * A batch is atomic, so it is never split: the caller must append fewer or smaller events.
 */
export class AppendTooLargeError extends EventStoreError {
  readonly code = EVENT_STORE_ERROR_CODES.APPEND_TOO_LARGE;
  constructor(
    readonly stream: string,
    /** Bytes the store accepts per append. */
    readonly maxBytes: number,
    /** Estimated bytes of the refused batch, when known before sending it. */
    readonly bytes?: number,
  ) {
    super(
      `Append to ${stream} refused: ${bytes === undefined ? 'the batch' : `${bytes} bytes`} exceeds the store's ` +
        `limit of ${maxBytes} bytes per append; append fewer or smaller events`,
    );
    this.name = 'AppendTooLargeError';
  }
}

/** The stream was deleted for good (an EventStoreDB tombstone): nothing can be appended to it again. */
export class StreamDeletedError extends EventStoreError {
  readonly code = EVENT_STORE_ERROR_CODES.STREAM_DELETED;
  constructor(readonly stream: string) {
    super(`Stream ${stream} was deleted for good and accepts no more events`);
    this.name = 'StreamDeletedError';
  }
}
