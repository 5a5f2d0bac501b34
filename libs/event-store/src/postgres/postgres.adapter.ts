import { Pool, type PoolConfig, type QueryConfig, type QueryResultRow } from 'pg';
import { compareCheckpoints, decodeCheckpoint, encodeCheckpoint } from '../checkpoint';
import { EventStoreUnavailableError, StreamNotFoundError, WrongExpectedVersionError } from '../errors';
import { defaultLogger, describeError, type Logger } from '../logger';
import { PullSubscription, type PullBatch, type PullSource } from '../pull-subscription';
import { serializeEvent } from '../serialization';
import {
  assertCategory,
  assertEvents,
  assertLimit,
  assertStreamName,
  normalizeExpectedRevision,
  toRevision,
} from '../streams';
import type {
  AppendOptions,
  AppendResult,
  Checkpoint,
  EventData,
  EventStore,
  ReadAllFilter,
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
import { assertSchemaName, migrate } from './migrations';
import { PostgresChangeFeed } from './postgres-change-feed';
import { mapError, postgresTimeouts } from './postgres-connection';
import {
  EventStatements,
  toRecorded,
  type AppendRow,
  type EventRow,
  type StreamReadRow,
} from './postgres-statements';

export interface PostgresEventStoreOptions {
  /** Schema holding the tables (default `event_store`); tests use their own. */
  schema?: string;
  upcasters?: Upcasters;
  logger?: Logger;
  /** Pool size for appends and reads (default 10). Subscriptions use the pool too, plus one LISTEN connection. */
  poolSize?: number;
  /** Reported in pg_stat_activity; lets operators (and tests) find this store's sessions. */
  applicationName?: string;
  /** Fallback poll period of subscriptions when no NOTIFY arrives (default 1000 ms). */
  pollIntervalMs?: number;
  /** Events per subscription read (default 500). */
  subscriptionBatchSize?: number;
  /** Bound on opening a connection, and on waiting for a free one of the pool (default 10 s). */
  connectTimeoutMs?: number;
  /**
   * Bound on one statement (default 30 s): the server cancels it (`statement_timeout`), and the client gives
   * up a little later (`query_timeout`) in case the server itself never answers.
   */
  statementTimeoutMs?: number;
}

/**
 * PostgreSQL adapter. Appends go through one stored function (one round trip, one short transaction, per-stream
 * advisory lock, revision checked against the streams row); global reads use the `(transaction_id, position)` order below the
 * snapshot xmin (see migrations.ts). Checkpoints are `<xid8>:<position>`, each zero-padded to 20 digits.
 */
export class PostgresEventStore implements EventStore {
  private readonly pool: Pool;
  private readonly schema: string;
  private readonly sql: EventStatements;
  private readonly logger: Logger;
  private readonly changes: PostgresChangeFeed;
  private readonly subscriptions = new Set<PullSubscription>();
  private subscriptionCount = 0;
  private closed = false;

  constructor(
    private readonly connectionString: string,
    private readonly options: PostgresEventStoreOptions = {},
  ) {
    this.schema = options.schema ?? 'event_store';
    assertSchemaName(this.schema);
    this.sql = new EventStatements(this.schema);
    this.logger = options.logger ?? defaultLogger();
    this.pool = new Pool(this.clientConfig({ max: options.poolSize ?? 10 }));
    this.changes = new PostgresChangeFeed(this.pool, this.schema, () => this.clientConfig(), this.logger);
    // Idle clients killed by the server (a restart, a failover) emit here; without a listener the process would
    // crash. The pool has already dropped the client and connects anew on the next query.
    this.pool.on('error', (error) =>
      this.logger.warn({ error: describeError(error) }, 'idle PostgreSQL connection lost'),
    );
    // A client checked out of the pool (the migrations' session) has no pool listener: one killed between two
    // of its queries would end the process. Its next query fails instead, and the pool discards it on release.
    this.pool.on('connect', (client) =>
      client.on('error', (error) =>
        this.logger.debug({ error: describeError(error) }, 'PostgreSQL connection lost'),
      ),
    );
  }

  /** Creates or upgrades the schema; safe to call from several processes at once. */
  async migrate(): Promise<number[]> {
    try {
      return await migrate(this.pool, this.schema);
    } catch (error) {
      throw mapError(error);
    }
  }

  async append(stream: string, events: readonly EventData[], options: AppendOptions): Promise<AppendResult> {
    assertStreamName(stream);
    assertEvents(events);
    const result = await this.query<AppendRow>(
      this.sql.append(
        stream,
        normalizeExpectedRevision(options.expectedRevision),
        events.map(serializeEvent),
      ),
    );
    const row = result.rows[0];
    if (row.outcome === 'ok') this.changes.announceAppend();
    const revision = Number(row.stream_revision);
    if (row.outcome === 'wrong_expected_version') {
      throw new WrongExpectedVersionError(
        stream,
        options.expectedRevision,
        revision < 0 ? 'no_stream' : revision,
      );
    }
    const position =
      row.last_xid !== null && row.last_position !== null
        ? encodeCheckpoint(row.last_xid, row.last_position)
        : encodeCheckpoint(0, 0);
    return { nextExpectedRevision: revision, position };
  }

  async readStream(stream: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    assertStreamName(stream);
    const limit = assertLimit(options.limit) ?? null;
    const backwards = options.direction === 'backwards';
    const from =
      options.from === undefined || options.from === 'end'
        ? backwards || options.from === 'end'
          ? null
          : 0
        : options.from === 'start'
          ? 0
          : toRevision(options.from, 'from');
    const result = await this.query<StreamReadRow>(this.sql.readStream(stream, from, limit, backwards));
    const first = result.rows[0];
    if (!first || Number(first.stream_revision) < 0) throw new StreamNotFoundError(stream);
    return result.rows.filter((row) => row.xid !== null).map((row) => this.toRecorded(row));
  }

  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    const limit = assertLimit(options.limit) ?? null;
    return (await this.readAfter(options.after, limit, options.filter)).events;
  }

  subscribe(target: SubscriptionTarget, options: SubscribeOptions): Subscription {
    const filter: ReadAllFilter | undefined =
      'category' in target ? (assertCategory(target.category), { category: target.category }) : undefined;
    this.changes.listen();
    const source: PullSource = {
      fetch: async (after, limit) => this.readAfter(after, limit, filter, true),
      end: async () => this.lastVisibleCheckpoint(),
      isTransient: (error) => error instanceof EventStoreUnavailableError,
      notifier: this.changes.notifier,
    };
    this.subscriptionCount += 1;
    const name = options.name ?? `subscription-${this.subscriptionCount}`;
    const subscription = new PullSubscription(
      name,
      source,
      options,
      {
        batchSize: this.options.subscriptionBatchSize ?? 500,
        pollIntervalMs: this.options.pollIntervalMs ?? 1000,
        pendingPollMs: 25,
        maxBackoffMs: 5000,
      },
      this.logger,
      (stopped) => this.subscriptions.delete(stopped),
    );
    this.subscriptions.add(subscription);
    return subscription;
  }

  async setStreamMetadata(stream: string, metadata: StreamMetadata): Promise<void> {
    assertStreamName(stream);
    await this.query(this.sql.setMetadata(stream, metadata));
  }

  async getStreamMetadata(stream: string): Promise<StreamMetadata> {
    assertStreamName(stream);
    const result = await this.query<{ metadata: StreamMetadata }>(this.sql.getMetadata(stream));
    return result.rows[0]?.metadata ?? {};
  }

  getSubscriptionLag(): SubscriptionStats[] {
    return [...this.subscriptions].map((subscription) => subscription.stats());
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const changesClosed = this.changes.close();
    await Promise.all([...this.subscriptions].map((subscription) => subscription.stop()));
    await changesClosed;
    await this.pool.end();
  }

  private clientConfig(extra: PoolConfig = {}): PoolConfig {
    return {
      connectionString: this.connectionString,
      application_name: this.options.applicationName ?? 'event-store',
      ...postgresTimeouts(this.options),
      ...extra,
    };
  }

  private async query<R extends QueryResultRow>(config: QueryConfig) {
    try {
      return await this.pool.query<R>(config);
    } catch (error) {
      throw mapError(error);
    }
  }

  private async readAfter(
    after: Checkpoint | undefined,
    limit: number | null,
    filter: ReadAllFilter | undefined,
    detectPending = false,
  ): Promise<PullBatch> {
    const [xid, position] = after === undefined ? [0n, 0n] : decodeCheckpoint(after, 2);
    if (filter && 'category' in filter) assertCategory(filter.category);
    // A subscription's filtered read skips what its filter does not match, and without a position past it every
    // later read would walk the same rows again: a subscription to a rare category (rollouts, guardrails) read
    // every tenant event appended since it started, on every poll. The last visible event, taken BEFORE the
    // read, is final (its transaction and every older one are over), so a read that returns less than a full
    // page has looked at everything up to it.
    const horizon = detectPending && filter ? await this.lastVisibleCheckpoint() : undefined;
    const result = await this.query<EventRow>(this.sql.readAll(xid, position, limit, filter));
    const events = result.rows.map((row) => this.toRecorded(row));
    const reached = events.length > 0 ? events[events.length - 1].position : after;
    const scannedTo =
      horizon !== undefined &&
      (limit === null || events.length < limit) &&
      (reached === undefined || compareCheckpoints(horizon, reached) > 0)
        ? horizon
        : undefined;
    let pending = false;
    if (detectPending && events.length === 0) {
      // Rows at or above xmin may belong to finished transactions held back by an older open one: re-read soon.
      const check = await this.query<{ pending: boolean }>(this.sql.pending());
      pending = check.rows[0]?.pending === true;
    }
    return { events, pending, ...(scannedTo !== undefined ? { scannedTo } : {}) };
  }

  private async lastVisibleCheckpoint(): Promise<Checkpoint | undefined> {
    const result = await this.query<{ xid: string; position: string }>(this.sql.lastVisible());
    const row = result.rows[0];
    return row ? encodeCheckpoint(row.xid, row.position) : undefined;
  }

  private toRecorded(row: EventRow): RecordedEvent {
    return toRecorded(row, this.options.upcasters);
  }
}
