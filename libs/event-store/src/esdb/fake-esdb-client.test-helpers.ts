/**
 * An in-process stand-in for the `@eventstore/db-client` 6.x methods the EventStoreDB adapter calls, behaving as
 * the client does against a server (streams of resolved events, `caughtUp`/`fellBehind` signals, filters with
 * `checkpointReached`) and throwing the client's own error classes. Tests install it with
 * `installFakeEsdbClient()`, which makes `EventStoreDBClient.connectionString` return it.
 */
import { Readable } from 'node:stream';
import {
  ANY,
  BACKWARDS,
  EventStoreDBClient,
  MaxAppendSizeExceededError,
  NO_STREAM,
  STREAM_EXISTS,
  StreamDeletedError,
  StreamNotFoundError,
  UnavailableError,
  WrongExpectedVersionError,
  type AllStreamRecordedEvent,
  type AllStreamResolvedEvent,
  type AppendExpectedRevision,
  type AppendResult,
  type EventData,
  type Filter,
  type Position,
} from '@eventstore/db-client';

type Method =
  'appendToStream' | 'readStream' | 'readAll' | 'subscribeToAll' | 'getStreamMetadata' | 'setStreamMetadata';

export interface FakeCall {
  method: Method;
  args: unknown[];
}

/** A subscription the fake handed out; tests drive its server-side signals. */
export class FakeSubscription extends Readable {
  ended = false;
  constructor(
    readonly fromPosition: Position | 'start' | 'end',
    readonly serverFilter: Filter | undefined,
  ) {
    super({ objectMode: true, read: () => undefined });
  }

  matches(event: AllStreamRecordedEvent): boolean {
    const filter = this.serverFilter;
    if (!filter) return true;
    const subject = filter.filterOn === 'streamName' ? event.streamId : event.type;
    if ('prefixes' in filter) return filter.prefixes.some((prefix) => subject.startsWith(prefix));
    return new RegExp(filter.regex).test(subject);
  }

  deliver(event: AllStreamRecordedEvent): void {
    if (!this.ended) this.push({ event } satisfies AllStreamResolvedEvent);
  }

  async checkpoint(position: Position): Promise<void> {
    if (!this.ended) await this.serverFilter?.checkpointReached?.(this as never, position);
  }

  caughtUp(): void {
    if (!this.ended) this.emit('caughtUp');
  }

  fellBehind(): void {
    if (!this.ended) this.emit('fellBehind');
  }

  /** The server or the network broke the call with this (client) error. */
  fail(error: Error): void {
    if (this.ended) return;
    this.ended = true;
    this.destroy(error);
  }

  async unsubscribe(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    this.push(null);
  }
}

function streamOf<T>(items: () => AsyncGenerator<T>): Readable & { cancel(): Promise<void> } {
  const readable = Readable.from(items(), { objectMode: true }) as Readable & { cancel(): Promise<void> };
  readable.cancel = async () => {
    readable.destroy();
  };
  return readable;
}

export class FakeEsdbClient {
  readonly calls: FakeCall[] = [];
  readonly subscriptions: FakeSubscription[] = [];
  /** Every event of `$all`, in log order. */
  readonly log: AllStreamRecordedEvent[] = [];
  readonly tombstoned = new Set<string>();
  /** Errors the next calls of a method throw (the client rejects, or fails the returned stream). */
  readonly failNext: Partial<Record<Method, Error[]>> = {};
  /** While set, every call fails with the client's `UnavailableError` (a server still starting). */
  unavailable = false;
  /** The server's `MaxAppendSize`. */
  maxAppendSize = 1024 * 1024;
  /** Runs before an append is applied: lets a test slip in a concurrent writer. */
  beforeAppend: ((stream: string) => void) | undefined;
  /** Whether the server sends `caughtUp` after the catch-up phase (EventStoreDB 23.10 and later). */
  sendsCaughtUp = true;
  /** Events streamed to the client by unfiltered `readAll` calls (what a client-side scan transfers). */
  scanned = 0;
  disposed = false;
  private readonly metadata = new Map<string, Record<string, unknown>>();
  private nextPosition = 100n;

  static install(): FakeEsdbClient {
    const fake = new FakeEsdbClient();
    jest.spyOn(EventStoreDBClient, 'connectionString').mockReturnValue(fake as unknown as EventStoreDBClient);
    return fake;
  }

  /** Writes events as another program would: any content type, any stream, positions in log order. */
  record(
    streamId: string,
    events: {
      id: string;
      type: string;
      data: unknown;
      isJson?: boolean;
      metadata?: unknown;
      created?: Date;
    }[],
  ): AllStreamRecordedEvent[] {
    const stream = this.streamEvents(streamId);
    const recorded = events.map((event, index) => {
      const position = { commit: this.nextPosition, prepare: this.nextPosition };
      this.nextPosition += 100n;
      return {
        streamId,
        id: event.id,
        type: event.type,
        isJson: event.isJson ?? true,
        data: event.data,
        metadata: event.metadata ?? { schemaVersion: 1 },
        revision: BigInt(stream.length + index),
        created: event.created ?? new Date(),
        position,
      } as AllStreamRecordedEvent;
    });
    this.log.push(...recorded);
    for (const event of recorded) {
      for (const subscription of this.subscriptions) {
        if (subscription.matches(event)) subscription.deliver(event);
      }
    }
    return recorded;
  }

  streamEvents(streamId: string): AllStreamRecordedEvent[] {
    return this.log.filter((event) => event.streamId === streamId);
  }

  private enter(method: Method, args: unknown[]): void {
    this.calls.push({ method, args });
    if (this.unavailable) throw new UnavailableError(undefined, '14 UNAVAILABLE: No connection established');
    const error = this.failNext[method]?.shift();
    if (error) throw error;
  }

  callsOf(method: Method): unknown[][] {
    return this.calls.filter((call) => call.method === method).map((call) => call.args);
  }

  async appendToStream(
    stream: string,
    events: EventData | EventData[],
    options: { expectedRevision?: AppendExpectedRevision } = {},
  ): Promise<AppendResult> {
    this.enter('appendToStream', [stream, events, options]);
    const batch = Array.isArray(events) ? events : [events];
    if (this.tombstoned.has(stream)) throw StreamDeletedError.fromStreamName(stream);
    const size = batch.reduce(
      (total, event) =>
        total + JSON.stringify(event.data).length + JSON.stringify(event.metadata ?? {}).length,
      0,
    );
    if (size > this.maxAppendSize) throw MaxAppendSizeExceededError.fromMaxAppendSize(this.maxAppendSize);
    this.beforeAppend?.(stream);
    const existing = this.streamEvents(stream);
    const current = existing.length - 1;
    const expected = options.expectedRevision ?? ANY;
    const wrong = (): never => {
      throw new WrongExpectedVersionError(undefined, {
        streamName: stream,
        expected,
        current: current < 0 ? NO_STREAM : BigInt(current),
      });
    };
    if (expected === STREAM_EXISTS && current < 0) wrong();
    if (expected === NO_STREAM || typeof expected === 'bigint') {
      const revision = expected === NO_STREAM ? -1 : Number(expected);
      if (revision !== current) {
        // The server's idempotency check: the same ids right after the expected revision are a success.
        const same =
          batch.length > 0 &&
          batch.every((event, i) => existing[revision + 1 + i]?.id === event.id) &&
          revision + batch.length <= current;
        if (!same) wrong();
        const last = existing[revision + batch.length];
        return { success: true, nextExpectedRevision: last.revision, position: last.position };
      }
    }
    // An empty append reports revision 0 even for a stream that does not exist (the 6.x client's reading of
    // the server's answer); the adapter must not pass that on.
    if (batch.length === 0) {
      return { success: true, nextExpectedRevision: BigInt(Math.max(current, 0)), position: undefined };
    }
    const recorded = this.record(
      stream,
      batch.map((event) => ({
        id: event.id,
        type: event.type,
        data: event.data,
        metadata: event.metadata,
        isJson: event.contentType === 'application/json',
      })),
    );
    const last = recorded[recorded.length - 1];
    return { success: true, nextExpectedRevision: last.revision, position: last.position };
  }

  readStream(
    stream: string,
    options: { fromRevision?: bigint | 'start' | 'end'; direction?: string; maxCount?: number | bigint } = {},
  ): Readable & { cancel(): Promise<void> } {
    return streamOf(
      async function* (this: FakeEsdbClient) {
        this.enter('readStream', [stream, options]);
        if (this.tombstoned.has(stream)) throw StreamDeletedError.fromStreamName(stream);
        const events = this.streamEvents(stream);
        if (events.length === 0) throw new StreamNotFoundError(undefined, stream);
        const backwards = options.direction === BACKWARDS;
        let ordered = backwards ? [...events].reverse() : events;
        const from = options.fromRevision;
        if (typeof from === 'bigint') {
          ordered = ordered.filter((event) => (backwards ? event.revision <= from : event.revision >= from));
        }
        for (const event of ordered.slice(0, Number(options.maxCount ?? Number.MAX_SAFE_INTEGER))) {
          yield { event };
        }
      }.bind(this),
    );
  }

  readAll(
    options: {
      fromPosition?: Position | 'start' | 'end';
      direction?: string;
      maxCount?: number | bigint;
    } = {},
  ): Readable & { cancel(): Promise<void> } {
    return streamOf(
      async function* (this: FakeEsdbClient) {
        this.enter('readAll', [options]);
        const backwards = options.direction === BACKWARDS;
        const from = options.fromPosition;
        let ordered = backwards ? [...this.log].reverse() : this.log;
        if (from !== undefined && typeof from === 'object') {
          ordered = ordered.filter((event) =>
            backwards ? event.position.commit <= from.commit : event.position.commit >= from.commit,
          );
        }
        for (const event of ordered.slice(0, Number(options.maxCount ?? Number.MAX_SAFE_INTEGER))) {
          if (!backwards) this.scanned += 1;
          yield { event } satisfies AllStreamResolvedEvent;
        }
      }.bind(this),
    );
  }

  subscribeToAll(
    options: { fromPosition?: Position | 'start' | 'end'; filter?: Filter } = {},
  ): FakeSubscription {
    const subscription = new FakeSubscription(options.fromPosition ?? 'start', options.filter);
    this.subscriptions.push(subscription);
    let failure: Error | undefined;
    try {
      this.enter('subscribeToAll', [options]);
    } catch (error) {
      failure = error as Error;
    }
    // As the client does: the call starts on the next tick, and its failures arrive on the stream.
    setImmediate(() => {
      if (failure) return subscription.fail(failure);
      const from = subscription.fromPosition;
      const catchUp =
        from === 'end'
          ? []
          : this.log.filter((event) => from === 'start' || event.position.commit > from.commit);
      const matching = catchUp.filter((event) => subscription.matches(event));
      for (const event of matching) subscription.deliver(event);
      const last = catchUp[catchUp.length - 1];
      void (async () => {
        if (last) await subscription.checkpoint(last.position);
        if (this.sendsCaughtUp) subscription.caughtUp();
      })();
    });
    return subscription;
  }

  async getStreamMetadata(
    stream: string,
  ): Promise<{ streamName: string; metadata?: Record<string, unknown> }> {
    this.enter('getStreamMetadata', [stream]);
    if (this.tombstoned.has(stream)) throw StreamDeletedError.fromStreamName(stream);
    return { streamName: stream, metadata: this.metadata.get(stream) };
  }

  async setStreamMetadata(stream: string, metadata: Record<string, unknown>): Promise<AppendResult> {
    this.enter('setStreamMetadata', [stream, metadata]);
    if (this.tombstoned.has(stream)) throw StreamDeletedError.fromStreamName(stream);
    this.metadata.set(stream, metadata);
    return { success: true, nextExpectedRevision: 0n };
  }

  dispose = async (): Promise<void> => {
    this.disposed = true;
  };

  /** Subscriptions still open (the adapter's current server calls). */
  open(): FakeSubscription[] {
    return this.subscriptions.filter((subscription) => !subscription.ended);
  }
}
