import {
  ANY,
  BACKWARDS,
  END,
  EventStoreDBClient,
  FORWARDS,
  NO_STREAM,
  START,
  STREAM_EXISTS,
  jsonEvent,
  type AppendExpectedRevision,
  type JSONEventType,
  type Position,
} from '@eventstore/db-client';
import { encodeCheckpoint } from '../checkpoint';
import { AppendTooLargeError, WrongExpectedVersionError } from '../errors';
import { defaultLogger, type Logger } from '../logger';
import { parseMetadata, serializeEvent, upcast, type SerializedEvent } from '../serialization';
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
import { asCommandError, mapEsdbError } from './esdb-errors';
import {
  EsdbSubscription,
  isMarker,
  isOwnEvent,
  lastPosition,
  openFilteredSubscription,
  toCheckpoint,
  type EsdbClient,
  type EsdbRecorded,
} from './esdb-subscription';

/** EventStoreDB's default `MaxAppendSize`: the server refuses larger appends. */
export const ESDB_DEFAULT_MAX_APPEND_BYTES = 1024 * 1024;
/** Bytes of one event's envelope (id, type and content-type entries, framing) counted beside its data. */
const EVENT_OVERHEAD_BYTES = 128;
/** Read-then-append attempts of an `any`/`stream_exists` append that keeps losing a race to other writers. */
const IDEMPOTENT_APPEND_ATTEMPTS = 10;

export interface EsdbEventStoreOptions {
  upcasters?: Upcasters;
  logger?: Logger;
  /**
   * The server's `MaxAppendSize` (default 1 MiB). Batches estimated above it are refused with
   * `AppendTooLargeError` before they are sent; a batch is atomic, so it is never split.
   */
  maxAppendBytes?: number;
}

/** `kurrentdb://` is the new name of the same protocol; the 6.x client only knows `esdb://`. */
export function toEsdbConnectionString(url: string): string {
  return url.replace(/^kurrent(?:db)?(\+discover)?:\/\//i, 'esdb$1://');
}

/** What EventStoreDB counts against `MaxAppendSize`, estimated from the serialized batch. */
export function estimateAppendBytes(batch: readonly SerializedEvent[]): number {
  return batch.reduce(
    (total, event) =>
      total +
      Buffer.byteLength(event.data) +
      Buffer.byteLength(event.metadata) +
      Buffer.byteLength(event.type) +
      EVENT_OVERHEAD_BYTES,
    0,
  );
}

interface RawStreamEvent {
  id: string;
  revision: number;
  position: Checkpoint | undefined;
}

/**
 * EventStoreDB adapter (`@eventstore/db-client` 6.x, server 23.10 or later for `caughtUp`). Category reads and
 * subscriptions read `$all` through a server-side stream-name prefix filter, which needs neither system
 * projections nor `$ce-` link resolution, and never parse events of other categories.
 * Checkpoints are `<commit>:<prepare>`, each zero-padded to 20 digits.
 */
export class EsdbEventStore implements EventStore {
  private readonly client: EsdbClient;
  private readonly logger: Logger;
  private readonly maxAppendBytes: number;
  private readonly subscriptions = new Set<EsdbSubscription>();
  private subscriptionCount = 0;

  constructor(
    url: string,
    private readonly options: EsdbEventStoreOptions = {},
  ) {
    this.client = EventStoreDBClient.connectionString(toEsdbConnectionString(url));
    this.logger = options.logger ?? defaultLogger();
    this.maxAppendBytes = options.maxAppendBytes ?? ESDB_DEFAULT_MAX_APPEND_BYTES;
  }

  /** One cheap read that fails with `EventStoreUnavailableError` while the server cannot serve: the start-up probe. */
  async ping(): Promise<void> {
    try {
      await lastPosition(this.client);
    } catch (error) {
      throw mapEsdbError(error);
    }
  }

  async append(stream: string, events: readonly EventData[], options: AppendOptions): Promise<AppendResult> {
    assertStreamName(stream);
    assertEvents(events);
    const expectation = normalizeExpectedRevision(options.expectedRevision);
    const batch = events.map(serializeEvent);
    const bytes = estimateAppendBytes(batch);
    if (bytes > this.maxAppendBytes) throw new AppendTooLargeError(stream, this.maxAppendBytes, bytes);
    const context = { stream, expected: options.expectedRevision };
    try {
      if (batch.length === 0) return await this.appendNothing(stream, options);
      if (expectation.kind === 'exact') {
        // The server itself treats the same batch right after an explicit revision as an idempotent success.
        return await this.send(
          stream,
          batch,
          expectation.revision < 0 ? NO_STREAM : BigInt(expectation.revision),
        );
      }
      return await this.appendSkippingKnownIds(stream, batch, options);
    } catch (error) {
      throw mapEsdbError(error, context);
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
      throw mapEsdbError(error, { stream, read: true });
    }
    return result;
  }

  /**
   * Reads through a filtered `$all` subscription (the 6.x client's `readAll` has no filter), from `after` until
   * the server reports it caught up, or the last event that existed when the read began was passed.
   */
  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    const limit = assertLimit(options.limit) ?? Number.MAX_SAFE_INTEGER;
    const prefix = options.filter ? filterPrefix(options.filter) : undefined;
    const after = options.after;
    const result: RecordedEvent[] = [];
    try {
      const end = await lastPosition(this.client);
      if (end === undefined || (after !== undefined && after >= end)) return result;
      const subscription = openFilteredSubscription(this.client, prefix, after);
      try {
        for await (const item of subscription) {
          if (isMarker(item)) {
            if (item.marker === 'caughtUp' || (item.marker === 'checkpoint' && item.position >= end)) break;
            continue;
          }
          const raw = item.event;
          if (!raw?.position) continue;
          const position = toCheckpoint(raw.position);
          if (isOwnEvent(raw) && (after === undefined || position > after)) {
            result.push(this.toRecorded(raw));
            if (result.length >= limit) break;
          }
          if (position >= end) break;
        }
      } finally {
        await subscription.unsubscribe().catch(() => undefined);
      }
    } catch (error) {
      throw mapEsdbError(error);
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
      throw mapEsdbError(error, { stream });
    }
  }

  async getStreamMetadata(stream: string): Promise<StreamMetadata> {
    assertStreamName(stream);
    try {
      const result = await this.client.getStreamMetadata(stream);
      return { ...(result.metadata ?? {}) } as StreamMetadata;
    } catch (error) {
      throw mapEsdbError(error, { stream });
    }
  }

  getSubscriptionLag(): SubscriptionStats[] {
    return [...this.subscriptions].map((subscription) => subscription.stats());
  }

  async close(): Promise<void> {
    await Promise.all([...this.subscriptions].map((subscription) => subscription.stop()));
    await this.client.dispose();
  }

  private async send(
    stream: string,
    batch: readonly SerializedEvent[],
    expectedRevision: AppendExpectedRevision,
  ): Promise<AppendResult> {
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
    return {
      nextExpectedRevision: Number(result.nextExpectedRevision),
      position: result.position ? toCheckpoint(result.position) : encodeCheckpoint(0, 0),
    };
  }

  /**
   * `any` and `stream_exists`: the server deduplicates only behind an explicit revision, so read the stream's
   * event ids (raw, never upcast), append the unknown ones at the exact revision just read, and start over when
   * another writer got there first. Ids hidden by `truncateBefore` or `$maxAge` can no longer be seen.
   */
  private async appendSkippingKnownIds(
    stream: string,
    batch: readonly SerializedEvent[],
    options: AppendOptions,
  ): Promise<AppendResult> {
    for (let attempt = 1; ; attempt += 1) {
      const existing = await this.readRaw(stream, FORWARDS);
      if (existing === undefined && options.expectedRevision === 'stream_exists') {
        throw new WrongExpectedVersionError(stream, options.expectedRevision, 'no_stream');
      }
      const events = existing ?? [];
      // A stream whose every event is hidden (truncated, expired) has no revision to read: the server's
      // best-effort duplicate check is all that is left.
      const blind = existing !== undefined && existing.length === 0;
      const known = new Map(events.map((event) => [event.id, event]));
      const fresh = batch.filter((event) => !known.has(event.id));
      const revision = events.length ? events[events.length - 1].revision : -1;
      if (fresh.length === 0) {
        const last = [...batch].reverse().find((event) => known.has(event.id));
        return {
          nextExpectedRevision: revision,
          position: (last && known.get(last.id)?.position) ?? encodeCheckpoint(0, 0),
        };
      }
      try {
        const expected = blind
          ? options.expectedRevision === 'stream_exists'
            ? STREAM_EXISTS
            : ANY
          : revision < 0
            ? NO_STREAM
            : BigInt(revision);
        return await this.send(stream, fresh, expected);
      } catch (error) {
        const conflict = asCommandError(error)?.type === 'wrong-expected-version';
        if (!conflict || attempt >= IDEMPOTENT_APPEND_ATTEMPTS) {
          throw conflict ? mapEsdbError(error, { stream, expected: options.expectedRevision }) : error;
        }
        this.logger.debug({ stream, attempt }, 'concurrent append; reading the stream again');
      }
    }
  }

  /** An empty batch changes nothing: it checks the expectation and reports the current revision (-1: no stream). */
  private async appendNothing(stream: string, options: AppendOptions): Promise<AppendResult> {
    const last = await this.readRaw(stream, BACKWARDS, 1);
    const revision = last?.length ? last[0].revision : -1;
    const expectation = normalizeExpectedRevision(options.expectedRevision);
    if (
      (expectation.kind === 'stream_exists' && revision < 0) ||
      (expectation.kind === 'exact' && expectation.revision !== revision)
    ) {
      throw new WrongExpectedVersionError(
        stream,
        options.expectedRevision,
        revision < 0 ? 'no_stream' : revision,
      );
    }
    return { nextExpectedRevision: revision, position: encodeCheckpoint(0, 0) };
  }

  /** Ids, revisions and positions of a stream's visible events, without decoding them; undefined: no stream. */
  private async readRaw(
    stream: string,
    direction: typeof FORWARDS | typeof BACKWARDS,
    maxCount?: number,
  ): Promise<RawStreamEvent[] | undefined> {
    const events: RawStreamEvent[] = [];
    try {
      for await (const resolved of this.client.readStream(stream, {
        direction,
        fromRevision: direction === BACKWARDS ? END : START,
        ...(maxCount !== undefined ? { maxCount } : {}),
      })) {
        const event = resolved.event;
        if (!event) continue;
        const position = (event as { position?: Position }).position;
        events.push({
          id: event.id.toLowerCase(),
          revision: Number(event.revision),
          position: position ? toCheckpoint(position) : undefined,
        });
      }
    } catch (error) {
      if (asCommandError(error)?.type === 'stream-not-found') return undefined;
      throw error;
    }
    return events;
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
      position: event.position ? toCheckpoint(event.position) : encodeCheckpoint(0, 0),
      recordedAt: event.created,
    };
  }
}
