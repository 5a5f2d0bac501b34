import type { Logger } from './logger';

const BACKOFF_MS = { initial: 250, max: 5_000 };

export interface StartupRetryOptions {
  /** How long to keep trying; 0 tries once. */
  timeoutMs: number;
  /** Which errors mean "not reachable yet" (anything else fails at once). */
  isUnavailable(error: unknown): boolean;
  /** What is being reached, for the log line of each retry. */
  what: string;
  logger?: Logger;
}

/**
 * Runs `attempt` again, with exponential backoff, while it fails because its server is unavailable (not started
 * yet, restarting, out of connection slots), until `timeoutMs` has passed; then the last error is thrown.
 * A process started beside its database (compose, a rolling node restart) comes up instead of crash-looping.
 */
export async function retryWhileUnavailable<T>(
  attempt: () => Promise<T>,
  options: StartupRetryOptions,
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  let delay = BACKOFF_MS.initial;
  for (let n = 1; ; n += 1) {
    try {
      return await attempt();
    } catch (error) {
      const wait = Math.min(delay, deadline - Date.now());
      if (!options.isUnavailable(error) || wait <= 0) throw error;
      options.logger?.warn(
        { attempt: n, retryInMs: wait, err: error instanceof Error ? error.message : String(error) },
        `${options.what} unavailable at start-up; trying again`,
      );
      await new Promise((resolve) => setTimeout(resolve, wait));
      delay = Math.min(delay * 2, BACKOFF_MS.max);
    }
  }
}
