/**
 * The event store port. Adapters (in-memory, PostgreSQL, EventStoreDB) implement it; domain code sees only this.
 * Shapes are structurally compatible with `Message` of `@app/contracts` (`{ type, data, metadata }` plus an id).
 */

/** DI token under which Nest modules provide the `EventStore`. */
export const EVENT_STORE = Symbol('EVENT_STORE');

/**
 * A global position, comparable with plain string comparison (`<`) between events of one store.
 * Opaque: adapters encode their own positions (PostgreSQL: `<xid8>:<position>`, EventStoreDB: `<commit>:<prepare>`,
 * memory: `<position>`), each number zero-padded to 20 digits so that lexical order is log order.
 */
export type Checkpoint = string;

/** Metadata an appended event may carry; `schemaVersion` (default 1) selects the upcaster input version. */
export interface EventMetadataInput {
  schemaVersion?: number;
}

/** One event to append. `id` is a UUID, derived deterministically from the command id by callers. */
export interface EventData<TData = unknown, TMetadata extends EventMetadataInput = EventMetadataInput> {
  id: string;
  type: string;
  data: TData;
  metadata?: TMetadata;
}

/** Metadata as read back: the stored JSON object, always with a numeric `schemaVersion`. */
export type RecordedMetadata = Readonly<Record<string, unknown>> & { readonly schemaVersion: number };

export interface RecordedEvent<TData = unknown> {
  id: string;
  type: string;
  data: TData;
  metadata: RecordedMetadata;
  streamName: string;
  /** 0-based index of the event in its stream. */
  revision: number;
  position: Checkpoint;
  recordedAt: Date;
}

/** `no_stream`: the stream must not exist; `stream_exists`: it must; `any`: no check; a number: its last revision. */
export type ExpectedRevision = number | bigint | 'no_stream' | 'any' | 'stream_exists';

export interface AppendOptions {
  expectedRevision: ExpectedRevision;
}

export interface AppendResult {
  /** Revision of the last event of the stream after the append: pass it as the next `expectedRevision`. */
  nextExpectedRevision: number;
  /** Checkpoint of the last event of the batch (or of the existing event for an idempotent no-op). */
  position: Checkpoint;
}

export type Direction = 'forwards' | 'backwards';

export interface ReadStreamOptions {
  /** Revision to start from, inclusive. Default: the start (forwards) or the end (backwards). */
  from?: number | bigint | 'start' | 'end';
  direction?: Direction;
  limit?: number;
}

/** `streamPrefix` matches stream names by prefix; `category` matches streams named `<category>-...`. */
export type ReadAllFilter = { streamPrefix: string } | { category: string };

export interface ReadAllOptions {
  /** Exclusive: only events after this checkpoint. Default: from the beginning of the log. */
  after?: Checkpoint;
  limit?: number;
  filter?: ReadAllFilter;
}

export type SubscriptionTarget = { category: string } | { all: true };

export type EventHandler = (event: RecordedEvent) => Promise<void> | void;

export interface SubscribeOptions {
  /**
   * Exclusive: deliver events after this checkpoint. `start` (default) replays everything, `end` only new events.
   * Callers store `event.position` after handling an event and pass it back here on restart.
   */
  fromCheckpoint?: Checkpoint | 'start' | 'end';
  /** Awaited for each event in order; the next event is not delivered before it settles. */
  handler: EventHandler;
  /**
   * Called once when the subscription stops for good: the handler threw, or the store failed in a way that
   * reconnecting does not cure. Connection drops are retried internally and do not reach this callback.
   */
  onError?: (error: unknown) => void;
  /** Name used in logs and lag reports. */
  name?: string;
}

export interface SubscriptionStats {
  name: string;
  /** Checkpoint of the last event whose handler settled. */
  checkpoint: Checkpoint | undefined;
  delivered: number;
  /** True once the subscription has read everything visible and waits for new events. */
  caughtUp: boolean;
  /** Milliseconds between now and the recording time of the last delivered event while behind; 0 when caught up. */
  lagMs: number;
  /** Whether the subscription has stopped (by `stop()` or a handler error). */
  stopped: boolean;
}

export interface Subscription {
  /** Stops delivery; resolves after the handler currently running (if any) settles. */
  stop(): Promise<void>;
  /** Checkpoint of the last fully handled event. */
  readonly checkpoint: Checkpoint | undefined;
  stats(): SubscriptionStats;
}

/** Stream metadata honoured by reads: `maxAge` in seconds, `truncateBefore` a revision; other keys are custom. */
export interface StreamMetadata {
  maxAge?: number;
  truncateBefore?: number;
  [key: string]: unknown;
}

export interface EventStore {
  /**
   * Appends the batch atomically, or none of it. An adapter may refuse a batch over its server's size limit with
   * `AppendTooLargeError` (EventStoreDB: 1 MiB by default); no adapter splits a batch, since that would break
   * its atomicity: the caller decides how to divide its work.
   */
  append(stream: string, events: readonly EventData[], options: AppendOptions): Promise<AppendResult>;
  /** Throws `StreamNotFoundError` when the stream has no event. */
  readStream(stream: string, options?: ReadStreamOptions): Promise<RecordedEvent[]>;
  readAll(options?: ReadAllOptions): Promise<RecordedEvent[]>;
  subscribe(target: SubscriptionTarget, options: SubscribeOptions): Subscription;
  setStreamMetadata(stream: string, metadata: StreamMetadata): Promise<void>;
  /** `{}` when the stream has no metadata. */
  getStreamMetadata(stream: string): Promise<StreamMetadata>;
  /** Lag of every running subscription of this store instance (for a Prometheus gauge). */
  getSubscriptionLag(): SubscriptionStats[];
  close(): Promise<void>;
}

/** Upcasters per event type: receive the stored data and its stored schema version, return the current shape. */
export type Upcasters = Readonly<Record<string, (data: unknown, fromVersion: number) => unknown>>;
