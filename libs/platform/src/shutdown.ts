import type { Logger } from 'pino';

export interface ShutdownOptions {
  /** After this long the process exits with code 1 whatever is still pending. */
  deadlineMs: number;
  logger: Logger;
  /** Injected by tests; `process.exit` otherwise. */
  exit?: (code: number) => void;
}

/**
 * Runs `stop` and exits: 0 once it resolves, 1 if it fails or is still pending at the deadline. A drain that
 * hangs (a handler stuck on a dead socket, a pool that never empties) must not keep a stopping pod alive until
 * the kubelet's SIGKILL, which would also swallow the last log lines.
 */
export function shutdownWithDeadline(stop: () => Promise<void>, options: ShutdownOptions): Promise<void> {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  let finished = false;
  return new Promise<void>((resolve) => {
    const finish = (code: number) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      exit(code);
      resolve();
    };
    const timer = setTimeout(() => {
      options.logger.error(
        { deadlineMs: options.deadlineMs },
        'shutdown did not finish before its deadline; exiting anyway',
      );
      finish(1);
    }, options.deadlineMs);
    let stopping: Promise<void>;
    try {
      stopping = stop();
    } catch (error) {
      stopping = Promise.reject(error);
    }
    stopping.then(
      () => finish(0),
      (error: unknown) => {
        options.logger.error({ err: error }, 'shutdown failed');
        finish(1);
      },
    );
  });
}

/** Stops on the first SIGTERM or SIGINT, within `options.deadlineMs` (see shutdownWithDeadline). */
export function exitOnSignals(stop: () => Promise<void>, options: ShutdownOptions): void {
  const shutdown = () => void shutdownWithDeadline(stop, options);
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}
