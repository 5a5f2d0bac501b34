import type { FailureReason } from '@app/contracts';

/**
 * The one error type a command handler throws. `retryable` decides between a retry with backoff (the
 * messaging layer) and an immediate failure event (the saga rolls back). Codes are stable:
 * `<SERVICE>.<REASON>`, e.g. `DATABASE.GRANT_REFUSED`. Messages must never contain secrets.
 */
export class StepError extends Error {
  readonly retryable: boolean;
  constructor(
    readonly code: string,
    message: string,
    options: { retryable: boolean; cause?: unknown } = { retryable: false },
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'StepError';
    this.retryable = options.retryable;
  }

  toReason(): FailureReason {
    return { code: this.code, message: this.message, retryable: this.retryable };
  }
}

export function retryable(code: string, message: string, cause?: unknown): StepError {
  return new StepError(code, message, { retryable: true, cause });
}

export function permanent(code: string, message: string, cause?: unknown): StepError {
  return new StepError(code, message, { retryable: false, cause });
}

/**
 * Any thrown value as a failure reason; unknown errors are retryable (a transient fault is the likelier cause).
 * The reason goes into events, which are kept for ever and shown to auditors: an error that is not a
 * StepError carries only its name there, since a driver's message can echo a request or response body with
 * a credential in it. Its full text goes only to the service log (resource-service.ts), where the logger masks
 * credential-named fields but not text inside a message: adapters turn the errors of statements that carry a
 * secret into StepErrors (e.g. classifyMysqlError with `sensitive`), which never reach that log line.
 */
export function toFailureReason(error: unknown): FailureReason {
  if (error instanceof StepError) return error.toReason();
  const name = error instanceof Error ? error.name : typeof error;
  return { code: 'UNEXPECTED', message: `unexpected ${name} (details in the service log)`, retryable: true };
}
