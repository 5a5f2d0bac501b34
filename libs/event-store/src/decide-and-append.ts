import { StreamNotFoundError, WrongExpectedVersionError } from './errors';
import type { EventData, EventStore, ExpectedRevision, ReadStreamOptions, RecordedEvent } from './types';

/** What one attempt decided: the events to append at the revision it read (none: nothing to write). */
export interface StreamDecision<R> {
  append: readonly EventData[];
  /** The revision the decision was made on; ignored when `append` is empty. */
  expectedRevision: ExpectedRevision;
  result: R;
}

export interface DecideAndAppendOptions {
  /** Conflicts tolerated before giving up (default 20). */
  maxConflicts?: number;
  /** The error thrown once they are used up (default: `ConcurrencyExhaustedError`). */
  exhausted?: (stream: string, conflicts: number) => Error;
  /** Called on each conflict, the last one included (for a log line). */
  onConflict?: (error: WrongExpectedVersionError) => void;
}

/** Every attempt lost its append to another writer. */
export class ConcurrencyExhaustedError extends Error {
  constructor(
    readonly stream: string,
    readonly conflicts: number,
  ) {
    super(`stream ${stream}: gave up after ${conflicts} concurrent-append conflicts`);
    this.name = 'ConcurrencyExhaustedError';
  }
}

const DEFAULT_MAX_CONFLICTS = 20;

/**
 * The one command-handling path (CONVENTIONS.md 4): `attempt` reads what it needs and decides; the events it
 * decided are appended at the revision it read; when another writer moved the stream meanwhile, it runs again
 * on the new state, never appending on a state it did not see. Errors other than a conflict of this append
 * propagate as they are (a conflict thrown by `attempt` itself, from another stream, too). `attempt` receives
 * its number (0 first), so a caller holding a fresh read can use it once.
 */
export async function decideAndAppend<R>(
  store: EventStore,
  stream: string,
  attempt: (attemptNumber: number) => Promise<StreamDecision<R>>,
  options: DecideAndAppendOptions = {},
): Promise<R> {
  const maxConflicts = options.maxConflicts ?? DEFAULT_MAX_CONFLICTS;
  if (!Number.isInteger(maxConflicts) || maxConflicts < 1) {
    throw new RangeError(`maxConflicts must be a positive integer, got ${maxConflicts}`);
  }
  for (let attemptNumber = 0; attemptNumber < maxConflicts; attemptNumber++) {
    const decision = await attempt(attemptNumber);
    if (decision.append.length === 0) return decision.result;
    try {
      await store.append(stream, decision.append, { expectedRevision: decision.expectedRevision });
      return decision.result;
    } catch (error) {
      if (!(error instanceof WrongExpectedVersionError)) throw error;
      options.onConflict?.(error);
    }
  }
  throw options.exhausted?.(stream, maxConflicts) ?? new ConcurrencyExhaustedError(stream, maxConflicts);
}

/** A stream's events (as `readStream` with `options` reads them), or none when the stream does not exist. */
export async function readStreamOrEmpty(
  store: EventStore,
  stream: string,
  options?: ReadStreamOptions,
): Promise<RecordedEvent[]> {
  try {
    return await store.readStream(stream, options);
  } catch (error) {
    if (error instanceof StreamNotFoundError) return [];
    throw error;
  }
}
