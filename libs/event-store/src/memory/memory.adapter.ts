import { encodeCheckpoint } from '../checkpoint';
import { StreamNotFoundError, WrongExpectedVersionError } from '../errors';
import { defaultLogger, type Logger } from '../logger';
import { ChangeNotifier } from '../notifier';
import { PullSubscription, type PullSource } from '../pull-subscription';
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

interface StoredEvent extends SerializedEvent {
  streamName: string;
  revision: number;
  position: number;
  recordedAt: Date;
}

interface MemoryStream {
  events: StoredEvent[];
  metadata: StreamMetadata;
}

export interface MemoryEventStoreOptions {
  upcasters?: Upcasters;
  logger?: Logger;
  /** Injectable clock so tests can age events past `maxAge`. */
  now?: () => Date;
}

/** In-process store for unit tests elsewhere; same semantics as the real adapters (contract-tested). */
export class MemoryEventStore implements EventStore {
  private readonly streams = new Map<string, MemoryStream>();
  private readonly log: StoredEvent[] = [];
  private readonly notifier = new ChangeNotifier();
  private readonly subscriptions = new Set<PullSubscription>();
  private readonly logger: Logger;
  private readonly now: () => Date;
  private subscriptionCount = 0;

  constructor(private readonly options: MemoryEventStoreOptions = {}) {
    this.logger = options.logger ?? defaultLogger();
    this.now = options.now ?? (() => new Date());
  }

  async append(stream: string, events: readonly EventData[], options: AppendOptions): Promise<AppendResult> {
    assertStreamName(stream);
    assertEvents(events);
    const expectation = normalizeExpectedRevision(options.expectedRevision);
    const serialized = events.map(serializeEvent);
    const existing = this.streams.get(stream);
    const stored = existing?.events ?? [];
    const current = stored.length - 1;

    if (expectation.kind === 'stream_exists' && current < 0) {
      throw new WrongExpectedVersionError(stream, options.expectedRevision, 'no_stream');
    }
    if (expectation.kind === 'exact' && expectation.revision !== current) {
      // EventStoreDB semantics: the same batch already written right after the expected revision is a success.
      const start = expectation.revision + 1;
      const same =
        serialized.length > 0 &&
        start + serialized.length - 1 <= current &&
        serialized.every((event, i) => stored[start + i]?.id === event.id);
      if (!same) {
        throw new WrongExpectedVersionError(
          stream,
          options.expectedRevision,
          current < 0 ? 'no_stream' : current,
        );
      }
      const last = stored[start + serialized.length - 1];
      return { nextExpectedRevision: last.revision, position: encodeCheckpoint(last.position) };
    }

    const ids = new Set(stored.map((event) => event.id));
    const fresh = serialized.filter((event) => !ids.has(event.id));
    if (fresh.length === 0) {
      const last = this.lastMatching(stored, serialized) ?? stored[stored.length - 1];
      return {
        nextExpectedRevision: current,
        position: last ? encodeCheckpoint(last.position) : encodeCheckpoint(0),
      };
    }
    const target = existing ?? { events: [], metadata: {} };
    this.streams.set(stream, target);
    const recordedAt = this.now();
    for (const event of fresh) {
      const record: StoredEvent = {
        ...event,
        streamName: stream,
        revision: target.events.length,
        position: this.log.length + 1,
        recordedAt,
      };
      target.events.push(record);
      this.log.push(record);
    }
    this.notifier.notify();
    const last = target.events[target.events.length - 1];
    return { nextExpectedRevision: last.revision, position: encodeCheckpoint(last.position) };
  }

  async readStream(stream: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    assertStreamName(stream);
    const limit = assertLimit(options.limit) ?? Number.MAX_SAFE_INTEGER;
    const entry = this.streams.get(stream);
    if (!entry || entry.events.length === 0) throw new StreamNotFoundError(stream);
    const last = entry.events.length - 1;
    const backwards = options.direction === 'backwards';
    const from =
      options.from === undefined
        ? backwards
          ? last
          : 0
        : options.from === 'start'
          ? 0
          : options.from === 'end'
            ? last
            : toRevision(options.from, 'from');
    const minRevision = entry.metadata.truncateBefore ?? 0;
    const minTime =
      entry.metadata.maxAge === undefined ? -Infinity : this.now().getTime() - entry.metadata.maxAge * 1000;
    const visible = (event: StoredEvent): boolean =>
      event.revision >= minRevision && event.recordedAt.getTime() >= minTime;
    const selected = backwards
      ? entry.events.filter((event) => event.revision <= from && visible(event)).reverse()
      : entry.events.filter((event) => event.revision >= from && visible(event));
    return selected.slice(0, limit).map((event) => this.toRecorded(event));
  }

  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    const limit = assertLimit(options.limit) ?? Number.MAX_SAFE_INTEGER;
    const prefix = options.filter ? filterPrefix(options.filter) : undefined;
    const after = options.after;
    const result: RecordedEvent[] = [];
    for (const event of this.log) {
      if (result.length >= limit) break;
      if (after !== undefined && encodeCheckpoint(event.position) <= after) continue;
      if (prefix !== undefined && !event.streamName.startsWith(prefix)) continue;
      result.push(this.toRecorded(event));
    }
    return result;
  }

  subscribe(target: SubscriptionTarget, options: SubscribeOptions): Subscription {
    const filter =
      'category' in target ? (assertCategory(target.category), { category: target.category }) : undefined;
    const source: PullSource = {
      fetch: async (after, limit) => ({
        events: await this.readAll({ after, limit, filter }),
        pending: false,
      }),
      end: async () => {
        const last = this.log[this.log.length - 1];
        return last ? encodeCheckpoint(last.position) : undefined;
      },
      isTransient: () => false,
      notifier: this.notifier,
    };
    this.subscriptionCount += 1;
    const name = options.name ?? `subscription-${this.subscriptionCount}`;
    const subscription = new PullSubscription(
      name,
      source,
      options,
      { batchSize: 500, pollIntervalMs: 1000, pendingPollMs: 1000, maxBackoffMs: 1000 },
      this.logger,
      (stopped) => this.subscriptions.delete(stopped),
    );
    this.subscriptions.add(subscription);
    return subscription;
  }

  async setStreamMetadata(stream: string, metadata: StreamMetadata): Promise<void> {
    assertStreamName(stream);
    const copy = JSON.parse(JSON.stringify(metadata)) as StreamMetadata;
    const entry = this.streams.get(stream);
    if (entry) entry.metadata = copy;
    else this.streams.set(stream, { events: [], metadata: copy });
  }

  async getStreamMetadata(stream: string): Promise<StreamMetadata> {
    assertStreamName(stream);
    return JSON.parse(JSON.stringify(this.streams.get(stream)?.metadata ?? {})) as StreamMetadata;
  }

  getSubscriptionLag(): SubscriptionStats[] {
    return [...this.subscriptions].map((subscription) => subscription.stats());
  }

  async close(): Promise<void> {
    await Promise.all([...this.subscriptions].map((subscription) => subscription.stop()));
  }

  private lastMatching(stored: StoredEvent[], batch: SerializedEvent[]): StoredEvent | undefined {
    const ids = new Set(batch.map((event) => event.id));
    return [...stored].reverse().find((event) => ids.has(event.id));
  }

  private toRecorded(event: StoredEvent): RecordedEvent {
    const metadata = parseMetadata(event.metadata);
    return {
      id: event.id,
      type: event.type,
      data: upcast(this.options.upcasters, event.type, JSON.parse(event.data) as unknown, metadata),
      metadata,
      streamName: event.streamName,
      revision: event.revision,
      position: encodeCheckpoint(event.position) as Checkpoint,
      recordedAt: new Date(event.recordedAt.getTime()),
    };
  }
}
