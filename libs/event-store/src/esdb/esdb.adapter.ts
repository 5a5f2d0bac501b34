import {
  ANY,
  BACKWARDS,
  END,
  ErrorType,
  EventStoreDBClient,
  FORWARDS,
  NO_STREAM,
  START,
  STREAM_EXISTS,
  excludeSystemEvents,
  isCommandError,
  jsonEvent,
  streamNameFilter,
  type AllStreamResolvedEvent,
  type AppendExpectedRevision,
  type JSONEventType,
  type Position,
  type ResolvedEvent,
} from '@eventstore/db-client';
import { decodeCheckpoint, encodeCheckpoint } from '../checkpoint';
import { EventStoreUnavailableError, StreamNotFoundError, WrongExpectedVersionError } from '../errors';
import { defaultLogger, describeError, type Logger } from '../logger';
import { sleep } from '../notifier';
import { parseMetadata, serializeEvent, upcast } from '../serialization';
import {
  assertCategory,
  assertEvents,
  assertLimit,
  assertStreamName,
  filterPrefix,
  normalizeExpectedRevision,
  toRevision,
} from '../streams';
import type {
  AppendOptions,
  AppendResult,
  Checkpoint,
  EventData,
  EventStore,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
  StreamMetadata,
  SubscribeOptions,
  Subscription,
  SubscriptionStats,
  SubscriptionTarget,
  Upcasters,
} from '../types';

export interface EsdbEventStoreOptions {
  upcasters?: Upcasters;
  logger?: Logger;
}

type EsdbRecorded = NonNullable<ResolvedEvent['event']> & { position?: Position };

const UNAVAILABLE = new Set<string>([
  ErrorType.UNAVAILABLE,
  ErrorType.DEADLINE_EXCEEDED,
  ErrorType.TIMEOUT,
  ErrorType.NOT_LEADER,
  ErrorType.CANCELLED,
]);

/** `kurrentdb://` is the new name of the same protocol; the 6.x client only knows `esdb://`. */
export function toEsdbConnectionString(url: string): string {
  return url.replace(/^kurrent(?:db)?(\+discover)?:\/\//i, 'esdb$1://');
}

function mapError(error: unknown, stream?: string, expected?: AppendOptions['expectedRevision']): unknown {
  if (!(error instanceof Error) || !isCommandError(error)) return error;
  if (error.type === ErrorType.WRONG_EXPECTED_VERSION && stream !== undefined && expected !== undefined) {
    const actual = error.actualVersion;
    return new WrongExpectedVersionError(
      stream,
      expected,
      typeof actual === 'bigint' ? Number(actual) : 'no_stream',
    );
  }
  if (error.type === ErrorType.STREAM_NOT_FOUND && stream !== undefined)
    return new StreamNotFoundError(stream);
  if (UNAVAILABLE.has(error.type)) {
    return new EventStoreUnavailableError(`EventStoreDB unavailable: ${error.message}`, { cause: error });
  }
  return error;
}

/**
 * EventStoreDB adapter (`@eventstore/db-client` 6.x). Category subscriptions read `$all` with a server-side
 * stream-name prefix filter, which needs neither system projections nor `$ce-` link resolution.
 * Checkpoints are `<commit>:<prepare>`, each zero-padded to 20 digits.
 */
export class EsdbEventStore implements EventStore {
  private readonly client: EventStoreDBClient;
  private readonly logger: Logger;
  private readonly subscriptions = new Set<EsdbSubscription>();
  private subscriptionCount = 0;

  constructor(
    url: string,
    private readonly options: EsdbEventStoreOptions = {},
  ) {
    this.client = EventStoreDBClient.connectionString(toEsdbConnectionString(url));
    this.logger = options.logger ?? defaultLogger();
  }

  async append(stream: string, events: readonly EventData[], options: AppendOptions): Promise<AppendResult> {
    assertStreamName(stream);
    assertEvents(events);
    const expectation = normalizeExpectedRevision(options.expectedRevision);
    let batch = events.map(serializeEvent);
    let expectedRevision: AppendExpectedRevision;
    if (expectation.kind === 'exact') {
      // The server itself treats the same batch right after an explicit revision as an idempotent success.
      expectedRevision = expectation.revision < 0 ? NO_STREAM : BigInt(expectation.revision);
    } else {
      expectedRevision = expectation.kind === 'any' ? ANY : STREAM_EXISTS;
      // With ANY the server's duplicate check is a best-effort cache, so look for the ids in the stream first.
      const existing = await this.readIds(stream);
      if (existing === undefined && expectation.kind === 'stream_exists') {
        throw new WrongExpectedVersionError(stream, options.expectedRevision, 'no_stream');
      }
      if (existing) {
        const fresh = batch.filter((event) => !existing.ids.has(event.id));
        if (fresh.length === 0 && batch.length > 0) {
          const last = [...existing.events].reverse().find((event) => batch.some((b) => b.id === event.id));
          return {
            nextExpectedRevision: existing.revision,
            position: last?.position ?? encodeCheckpoint(0, 0),
          };
        }
        batch = fresh;
      }
    }
    try {
      const result = await this.client.appendToStream(
        stream,
        batch.map((event) =>
          jsonEvent<JSONEventType>({
            id: event.id,
            type: event.type,
            data: JSON.parse(event.data) as JSONEventType['data'],
            metadata: JSON.parse(event.metadata) as JSONEventType['metadata'],
          }),
        ),
        { expectedRevision },
      );
      const position = result.position
        ? encodeCheckpoint(result.position.commit, result.position.prepare)
        : encodeCheckpoint(0, 0);
      return { nextExpectedRevision: Number(result.nextExpectedRevision), position };
    } catch (error) {
      throw mapError(error, stream, options.expectedRevision);
    }
  }

  async readStream(stream: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    assertStreamName(stream);
    const limit = assertLimit(options.limit);
    const backwards = options.direction === 'backwards';
    const from =
      options.from === undefined
        ? backwards
          ? END
          : START
        : options.from === 'start'
          ? START
          : options.from === 'end'
            ? END
            : BigInt(toRevision(options.from, 'from'));
    const result: RecordedEvent[] = [];
    try {
      for await (const resolved of this.client.readStream(stream, {
        fromRevision: from,
        direction: backwards ? BACKWARDS : FORWARDS,
        ...(limit !== undefined ? { maxCount: limit } : {}),
      })) {
        if (resolved.event) result.push(this.toRecorded(resolved.event as EsdbRecorded));
      }
    } catch (error) {
      throw mapError(error, stream);
    }
    return result;
  }

  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    const limit = assertLimit(options.limit) ?? Number.MAX_SAFE_INTEGER;
    const prefix = options.filter ? filterPrefix(options.filter) : undefined;
    const after = options.after;
    const fromPosition = after === undefined ? START : toPosition(after);
    const result: RecordedEvent[] = [];
    // readAll of the 6.x client has no server-side filter; it streams, so stopping early stops the read.
    const read = this.client.readAll({ fromPosition, direction: FORWARDS });
    try {
      for await (const resolved of read as AsyncIterable<AllStreamResolvedEvent>) {
        const event = resolved.event;
        if (!event || event.streamId.startsWith('$') || event.type.startsWith('$')) continue;
        if (prefix !== undefined && !event.streamId.startsWith(prefix)) continue;
        const recorded = this.toRecorded(event as EsdbRecorded);
        if (after !== undefined && recorded.position <= after) continue;
        result.push(recorded);
        if (result.length >= limit) break;
      }
    } catch (error) {
      throw mapError(error);
    } finally {
      await read.cancel().catch(() => undefined);
    }
    return result;
  }

  subscribe(target: SubscriptionTarget, options: SubscribeOptions): Subscription {
    const prefix =
      'category' in target ? (assertCategory(target.category), `${target.category}-`) : undefined;
    this.subscriptionCount += 1;
    const subscription = new EsdbSubscription(
      options.name ?? `subscription-${this.subscriptionCount}`,
      this.client,
      prefix,
      options,
      (event) => this.toRecorded(event),
      this.logger,
      (stopped) => this.subscriptions.delete(stopped),
    );
    this.subscriptions.add(subscription);
    return subscription;
  }

  async setStreamMetadata(stream: string, metadata: StreamMetadata): Promise<void> {
    assertStreamName(stream);
    try {
      await this.client.setStreamMetadata(stream, metadata);
    } catch (error) {
      throw mapError(error, stream);
    }
  }

  async getStreamMetadata(stream: string): Promise<StreamMetadata> {
    assertStreamName(stream);
    try {
      const result = await this.client.getStreamMetadata(stream);
      return { ...(result.metadata ?? {}) } as StreamMetadata;
    } catch (error) {
      throw mapError(error, stream);
    }
  }

  getSubscriptionLag(): SubscriptionStats[] {
    return [...this.subscriptions].map((subscription) => subscription.stats());
  }

  async close(): Promise<void> {
    await Promise.all([...this.subscriptions].map((subscription) => subscription.stop()));
    await this.client.dispose();
  }

  private async readIds(
    stream: string,
  ): Promise<{ ids: Set<string>; events: RecordedEvent[]; revision: number } | undefined> {
    try {
      const events = await this.readStream(stream);
      return {
        ids: new Set(events.map((event) => event.id)),
        events,
        revision: events.length ? events[events.length - 1].revision : -1,
      };
    } catch (error) {
      if (error instanceof StreamNotFoundError) return undefined;
      throw error;
    }
  }

  private toRecorded(event: EsdbRecorded): RecordedEvent {
    const metadata = parseMetadata(event.metadata ?? {});
    const data: unknown = event.isJson
      ? event.data
      : JSON.parse(Buffer.from(event.data as Uint8Array).toString());
    return {
      id: event.id,
      type: event.type,
      data: upcast(this.options.upcasters, event.type, data, metadata),
      metadata,
      streamName: event.streamId,
      revision: Number(event.revision),
      position: event.position
        ? encodeCheckpoint(event.position.commit, event.position.prepare)
        : encodeCheckpoint(0, 0),
      recordedAt: event.created,
    };
  }
}

function toPosition(checkpoint: Checkpoint): Position {
  const [commit, prepare] = decodeCheckpoint(checkpoint, 2);
  return { commit, prepare };
}

/** `$all` subscription that resubscribes from its last checkpoint whenever the connection drops. */
class EsdbSubscription implements Subscription {
  private readonly abort = new AbortController();
  private readonly loop: Promise<void>;
  private current: Checkpoint | undefined;
  private delivered = 0;
  private caughtUp = false;
  private stopped = false;
  private lastRecordedAt: Date | undefined;
  private active: { unsubscribe(): Promise<void> } | undefined;

  constructor(
    readonly name: string,
    private readonly client: EventStoreDBClient,
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
    const lagMs =
      this.caughtUp || !this.lastRecordedAt ? 0 : Math.max(0, Date.now() - this.lastRecordedAt.getTime());
    return {
      name: this.name,
      checkpoint: this.current,
      delivered: this.delivered,
      caughtUp: this.caughtUp,
      lagMs,
      stopped: this.stopped,
    };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    await this.active?.unsubscribe().catch(() => undefined);
    await this.loop;
  }

  /** Position of the last event in $all (system events included), or undefined when $all is empty. */
  private async endCheckpoint(): Promise<Checkpoint | undefined> {
    for await (const resolved of this.client.readAll({
      direction: BACKWARDS,
      fromPosition: END,
      maxCount: 1,
    })) {
      const position = (resolved.event as EsdbRecorded | undefined)?.position;
      if (position) return encodeCheckpoint(position.commit, position.prepare);
    }
    return undefined;
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    let failures = 0;
    try {
      while (!signal.aborted) {
        // 'end' becomes a concrete position once, before the first subscribe: resubscribing from END after a
        // drop that came before any event would skip what was appended during the outage.
        if (this.current === undefined && this.options.fromCheckpoint === 'end') {
          try {
            this.current = await this.endCheckpoint();
          } catch (error) {
            if (!(error instanceof Error && isCommandError(error) && UNAVAILABLE.has(error.type)))
              throw error;
            failures += 1;
            await sleep(Math.min(5000, 100 * 2 ** Math.min(failures, 6)), signal);
            continue;
          }
          if (this.current !== undefined) this.caughtUp = true;
        }
        const fromPosition = this.current !== undefined ? toPosition(this.current) : START;
        const subscription = this.client.subscribeToAll({
          fromPosition,
          filter: this.prefix ? streamNameFilter({ prefixes: [this.prefix] }) : excludeSystemEvents(),
        });
        this.active = subscription;
        subscription.on('caughtUp', () => {
          this.caughtUp = true;
        });
        try {
          for await (const resolved of subscription as AsyncIterable<AllStreamResolvedEvent>) {
            if (signal.aborted) break;
            const raw = resolved.event;
            if (!raw || raw.type.startsWith('$')) continue;
            const event = this.toRecorded(raw as EsdbRecorded);
            if (this.current !== undefined && event.position <= this.current) continue;
            await this.options.handler(event);
            this.current = event.position;
            this.delivered += 1;
            this.lastRecordedAt = event.recordedAt;
            failures = 0;
          }
        } catch (error) {
          if (signal.aborted) break;
          if (error instanceof Error && isCommandError(error) && UNAVAILABLE.has(error.type)) {
            failures += 1;
            const delay = Math.min(5000, 100 * 2 ** Math.min(failures, 6));
            this.logger.warn(
              { error: describeError(error), subscription: this.name, retryInMs: delay },
              'subscription dropped',
            );
            await sleep(delay, signal);
            continue;
          }
          throw error;
        } finally {
          await subscription.unsubscribe().catch(() => undefined);
        }
        if (!signal.aborted) await sleep(100, signal);
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
}
