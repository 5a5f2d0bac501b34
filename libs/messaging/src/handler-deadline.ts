import type { Logger } from 'pino';
import { errorMessage, RetryableError } from './errors';

/** The deadline every handler run gets: on time its own result, late a retryable failure. */

/** Code of the retryable failure a handler gets when it overruns its deadline. */
export const HANDLER_TIMEOUT_CODE = 'MESSAGING.HANDLER_TIMEOUT';

const TIMED_OUT = Symbol('timed out');

/**
 * Runs the handler against its deadline. On time, its own result; late, a retryable error, and the run's
 * eventual result (or failure) is dropped: the caller retries or parks the delivery and acknowledges it, so a
 * late run can never acknowledge, dedupe or retry it a second time. The run itself cannot be killed (it is a
 * promise); it is told through the aborted signal, and what it still does must be idempotent, which the
 * at-least-once contract already demands of every handler: a resource service's late outcome event carries
 * the same deterministic id as the one the retry (or the park hook) appends, so the event store keeps
 * whichever comes first and drops the other.
 */
export async function withDeadline(
  run: (signal: AbortSignal) => Promise<void>,
  timeoutMs: number,
  logger: Logger,
): Promise<void> {
  const controller = new AbortController();
  // Started before the timer, so a handler that throws synchronously leaves no timer behind.
  const running = run(controller.signal);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), timeoutMs);
  });
  try {
    const result = await Promise.race([running, deadline]);
    if (result !== TIMED_OUT) return;
  } finally {
    clearTimeout(timer);
  }
  controller.abort(new RetryableError(HANDLER_TIMEOUT_CODE, `handler deadline of ${timeoutMs} ms passed`));
  running.then(
    () => logger.warn({ timeoutMs }, 'handler finished after its deadline; result discarded'),
    (error: unknown) =>
      logger.warn({ timeoutMs, err: errorMessage(error) }, 'handler failed after its deadline; discarded'),
  );
  throw new RetryableError(HANDLER_TIMEOUT_CODE, `handler did not finish within ${timeoutMs} ms`);
}
