import {
  BACKWARDS,
  END,
  START,
  excludeSystemEvents,
  streamNameFilter,
  type AllStreamResolvedEvent,
  type AllStreamSubscription,
  type EventStoreDBClient,
  type Filter,
  type Position,
} from '@eventstore/db-client';
import { decodeCheckpoint, encodeCheckpoint } from '../checkpoint';
import { type Logger, describeError } from '../logger';
import { sleep } from '../notifier';
import type { Checkpoint, RecordedEvent, SubscribeOptions, Subscription, SubscriptionStats } from '../types';
import { subscriptionStats } from '../subscription-stats';
import { isFatalSubscriptionError, mapEsdbError } from './esdb-errors';

/** The client methods the adapter uses: the real `EventStoreDBClient`, or a fake of it in unit tests. */
export type EsdbClient = Pick<
  EventStoreDBClient,
  | 'appendToStream'
  | 'readStream'
  | 'readAll'
  | 'subscribeToAll'
  | 'getStreamMetadata'
  | 'setStreamMetadata'
  | 'dispose'
>;

export type EsdbRecorded = NonNullable<AllStreamResolvedEvent['event']>;

/**
 * Markers put into a subscription's readable side, behind the events already buffered there, by the listeners of
 * the client's `caughtUp`, `fellBehind` and `checkpointReached` signals. The client raises those signals as soon as
 * the server message arrives, possibly before earlier events were handled; as markers they are seen in order.
 */
export type SubscriptionItem =
  | AllStreamResolvedEvent
  | { marker: 'caughtUp' }
  | { marker: 'fellBehind' }
  | { marker: 'checkpoint'; position: Checkpoint };

export function isMarker(item: SubscriptionItem): item is Exclude<SubscriptionItem, AllStreamResolvedEvent> {
  return 'marker' in item;
}

export function toCheckpoint(position: Position): Checkpoint {
  return encodeCheckpoint(position.commit, position.prepare);
}

export function toPosition(checkpoint: Checkpoint): Position {
  const [commit, prepare] = decodeCheckpoint(checkpoint, 2);
  return { commit, prepare };
}

/**
 * Opens a filtered `$all` subscription whose `caughtUp`, `fellBehind` and `checkpointReached` signals arrive as
 * ordered markers. `prefix` filters stream names on the server; without it system events are excluded there.
 */
export function openFilteredSubscription(
  client: EsdbClient,
  prefix: string | undefined,
  from: Checkpoint | undefined,
): AllStreamSubscription & AsyncIterable<SubscriptionItem> {
  const checkpointReached = (subscription: AllStreamSubscription, position: Position): void => {
    subscription.push({ marker: 'checkpoint', position: toCheckpoint(position) } satisfies SubscriptionItem);
  };
  const filter: Filter = prefix
    ? streamNameFilter({ prefixes: [prefix], checkpointReached })
    : excludeSystemEvents({ checkpointReached });
  const subscription = client.subscribeToAll({
    fromPosition: from === undefined ? START : toPosition(from),
    filter,
  });
  subscription.on('caughtUp', () => subscription.push({ marker: 'caughtUp' } satisfies SubscriptionItem));
  subscription.on('fellBehind', () => subscription.push({ marker: 'fellBehind' } satisfies SubscriptionItem));
  return subscription as AllStreamSubscription & AsyncIterable<SubscriptionItem>;
}

/** Position of the last event in `$all` (system events included), or undefined when `$all` is empty. */
export async function lastPosition(client: EsdbClient): Promise<Checkpoint | undefined> {
  for await (const resolved of client.readAll({ direction: BACKWARDS, fromPosition: END, maxCount: 1 })) {
    const position = resolved.event?.position;
    if (position) return toCheckpoint(position);
  }
  return undefined;
}

/** Events the project wrote: JSON, in a non-system stream, of a non-system type. Anything else is never parsed. */
export function isOwnEvent(event: EsdbRecorded | undefined): event is EsdbRecorded {
  return (
    event !== undefined && event.isJson && !event.streamId.startsWith('$') && !event.type.startsWith('$')
  );
}

/** Thrown by the loop when the handler failed, so that its error is never mistaken for a transport error. */
class HandlerFailure {
  constructor(readonly error: unknown) {}
}

const BACKOFF = { initialMs: 200, maxMs: 5_000 };

/**
 * A `$all` subscription with a server-side filter. Every transport failure resubscribes, with backoff, after the
 * last handled event or the last checkpoint the server reported (so a sparse category does not rescan on
 * resume); access denied and invalid arguments stop it, as does a handler error (reported as itself).
 */
export class EsdbSubscription implements Subscription {
  private readonly abort = new AbortController();
  private readonly loop: Promise<void>;
  private current: Checkpoint | undefined;
  private delivered = 0;
  private caughtUp = false;
  private stopped = false;
  private lastRecordedAt: Date | undefined;
  private endResolved = false;
  private active: { unsubscribe(): Promise<void> } | undefined;

  constructor(
    readonly name: string,
    private readonly client: EsdbClient,
    private readonly prefix: string | undefined,
    private readonly options: SubscribeOptions,
    private readonly toRecorded: (event: EsdbRecorded) => RecordedEvent,
    private readonly logger: Logger,
    private readonly onStopped: (subscription: EsdbSubscription) => void,
  ) {
    const from = options.fromCheckpoint;
    if (from !== undefined && from !== 'start' && from !== 'end') {
      decodeCheckpoint(from, 2);
      this.current = from;
    }
    this.loop = this.run();
  }

  get checkpoint(): Checkpoint | undefined {
    return this.current;
  }

  stats(): SubscriptionStats {
    return subscriptionStats({
      name: this.name,
      checkpoint: this.current,
      delivered: this.delivered,
      caughtUp: this.caughtUp,
      lastRecordedAt: this.lastRecordedAt,
      stopped: this.stopped,
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    await this.active?.unsubscribe().catch(() => undefined);
    await this.loop;
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    let failures = 0;
    try {
      while (!signal.aborted) {
        try {
          // 'end' becomes a concrete position once, before the first subscribe: resubscribing from END after a
          // drop that came before any event would skip what was appended during the outage.
          if (!this.endResolved && this.current === undefined && this.options.fromCheckpoint === 'end') {
            this.current = await lastPosition(this.client);
            this.endResolved = true;
          }
          await this.consume(signal, () => {
            failures = 0;
          });
          // The server ended the call without an error (a leader change, a shutdown): resubscribe.
          if (!signal.aborted) await sleep(BACKOFF.initialMs, signal);
        } catch (error) {
          if (signal.aborted) break;
          if (error instanceof HandlerFailure) throw error.error;
          if (isFatalSubscriptionError(error)) throw mapEsdbError(error);
          failures += 1;
          const delay = Math.min(BACKOFF.maxMs, BACKOFF.initialMs * 2 ** Math.min(failures - 1, 5));
          const mapped = mapEsdbError(error);
          this.logger.warn(
            { error: describeError(mapped), subscription: this.name, retryInMs: delay, after: this.current },
            'subscription dropped; resubscribing after its last checkpoint',
          );
          await sleep(delay, signal);
        }
      }
    } catch (error) {
      this.stopped = true;
      if (this.options.onError) this.options.onError(error);
      else
        this.logger.error({ error: describeError(error), subscription: this.name }, 'subscription stopped');
    } finally {
      this.stopped = true;
      this.onStopped(this);
    }
  }

  /** One server call: delivers events until it ends or fails. */
  private async consume(signal: AbortSignal, onProgress: () => void): Promise<void> {
    // Behind until the server says otherwise: after a reconnect the lag must not read 0.
    this.caughtUp = false;
    const subscription = openFilteredSubscription(this.client, this.prefix, this.current);
    this.active = subscription;
    try {
      for await (const item of subscription) {
        if (signal.aborted) break;
        if (isMarker(item)) {
          if (item.marker === 'caughtUp') this.caughtUp = true;
          else if (item.marker === 'fellBehind') this.caughtUp = false;
          else if (this.current === undefined || item.position > this.current) {
            // Everything before it was handled (markers come in order): resuming here skips no event.
            this.current = item.position;
            onProgress();
          }
          continue;
        }
        if (!isOwnEvent(item.event)) continue;
        let event: RecordedEvent;
        try {
          event = this.toRecorded(item.event);
        } catch (error) {
          throw new HandlerFailure(error);
        }
        if (this.current !== undefined && event.position <= this.current) continue;
        try {
          await this.options.handler(event);
        } catch (error) {
          throw new HandlerFailure(error);
        }
        this.current = event.position;
        this.delivered += 1;
        this.lastRecordedAt = event.recordedAt;
        onProgress();
      }
    } finally {
      this.active = undefined;
      await subscription.unsubscribe().catch(() => undefined);
    }
  }
}
