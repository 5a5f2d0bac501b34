/** Stable codes of the errors this library throws or reports (CONVENTIONS.md 8). */
export type MessagingErrorCode =
  | 'MESSAGING.UNROUTABLE'
  | 'MESSAGING.PUBLISH_TIMEOUT'
  | 'MESSAGING.PUBLISH_NACKED'
  | 'MESSAGING.BUFFER_FULL'
  | 'MESSAGING.CLOSED'
  | 'MESSAGING.INVALID_NAME'
  | 'MESSAGING.INVALID_OPTIONS'
  | 'MESSAGING.INVALID_MESSAGE'
  | 'MESSAGING.MALFORMED'
  | 'MESSAGING.UNKNOWN_TYPE'
  | 'MESSAGING.VALIDATION_FAILED'
  | 'MESSAGING.REDELIVERY_LIMIT'
  | 'MESSAGING.HANDLER_FAILED'
  | 'MESSAGING.CONNECT_TIMEOUT';

export class MessagingError extends Error {
  constructor(
    readonly code: MessagingErrorCode,
    message: string,
    readonly details: Readonly<Record<string, string | number | boolean | null>> = {},
  ) {
    super(message);
    this.name = 'MessagingError';
  }
}

/**
 * Thrown by a handler for a failure that may pass on a later attempt (a server down, a lock, a timeout).
 * The message goes to the next retry queue, then to the parking queue once attempts are exhausted.
 */
export class RetryableError extends Error {
  readonly retryable = true;
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'RetryableError';
  }
}

/** Thrown by a handler for a failure that no retry can fix (bad input, refused by policy): parked at once. */
export class PermanentError extends Error {
  readonly retryable = false;
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'PermanentError';
  }
}

export interface ErrorClassification {
  retryable: boolean;
  code: string;
  message: string;
}

const MAX_ERROR_MESSAGE_LENGTH = 1000;

/** The message of anything thrown; duck-typed because errors may come from another realm (e.g. under Jest). */
export function errorMessage(error: unknown): string {
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : String(error);
}

function readString(value: unknown, key: string): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const field = (value as Record<string, unknown>)[key];
  return typeof field === 'string' && field.length > 0 ? field : undefined;
}

/**
 * Retryable unless the error says otherwise: a `retryable: false` property (PermanentError, or any typed
 * error of another lib that carries the flag) parks at once; unknown errors are retried, because parking a
 * transient failure costs an operator's time while retrying a permanent one only costs a few attempts.
 */
export function isRetryable(error: unknown): boolean {
  if (typeof error === 'object' && error !== null) {
    const flag = (error as Record<string, unknown>).retryable;
    if (typeof flag === 'boolean') return flag;
  }
  return true;
}

export function classifyError(error: unknown): ErrorClassification {
  const code = readString(error, 'code') ?? readString(error, 'name') ?? 'UNKNOWN';
  const raw = errorMessage(error);
  const message =
    raw.length > MAX_ERROR_MESSAGE_LENGTH ? `${raw.slice(0, MAX_ERROR_MESSAGE_LENGTH)}...` : raw;
  return { retryable: isRetryable(error), code, message };
}
