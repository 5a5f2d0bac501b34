import type { ExpectedRevision } from './types';

export const EVENT_STORE_ERROR_CODES = {
  WRONG_EXPECTED_VERSION: 'EVENT_STORE.WRONG_EXPECTED_VERSION',
  STREAM_NOT_FOUND: 'EVENT_STORE.STREAM_NOT_FOUND',
  UNAVAILABLE: 'EVENT_STORE.UNAVAILABLE',
  INVALID_ARGUMENT: 'EVENT_STORE.INVALID_ARGUMENT',
  UPCAST_FAILED: 'EVENT_STORE.UPCAST_FAILED',
  UNSUPPORTED_URL: 'EVENT_STORE.UNSUPPORTED_URL',
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
      `Unsupported event store URL scheme "${scheme}" (expected esdb:, kurrentdb:, postgres:, postgresql: or memory:)`,
    );
    this.name = 'UnsupportedEventStoreUrlError';
  }
}
