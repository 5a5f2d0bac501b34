import { Client, Pool, type PoolConfig, type QueryConfig, type QueryResultRow } from 'pg';
import { decodeCheckpoint, encodeCheckpoint } from '../checkpoint';
import {
  EventStoreError,
  EventStoreUnavailableError,
  StreamNotFoundError,
  WrongExpectedVersionError,
} from '../errors';
import { defaultLogger, describeError, type Logger } from '../logger';
import { ChangeNotifier, sleep } from '../notifier';
import { PullSubscription, type PullBatch, type PullSource } from '../pull-subscription';
import { parseMetadata, serializeEvent, upcast } from '../serialization';
import {
  assertCategory,
  assertEvents,
  assertLimit,
  assertStreamName,
  filterPrefix,
  normalizeExpectedRevision,
  streamCategory,
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
import { assertSchemaName, migrate, notifyChannel, quoteIdent } from './migrations';

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

export const DEFAULT_POSTGRES_CONNECT_TIMEOUT_MS = 10_000;
export const DEFAULT_POSTGRES_STATEMENT_TIMEOUT_MS = 30_000;
/** Head start of the server's statement_timeout over the client's query_timeout, so the server cancels first. */
const CLIENT_TIMEOUT_MARGIN_MS = 5_000;

/**
 * The timeouts of a `pg` client or pool: connect, statement (server side) and query (client side). Shared by
 * every PostgreSQL user of the project so they bound their waits the same way.
 */
export function postgresTimeouts(options: { connectTimeoutMs?: number; statementTimeoutMs?: number }): {
  connectionTimeoutMillis: number;
  statement_timeout: number;
  query_timeout: number;
} {
  const connect = options.connectTimeoutMs ?? DEFAULT_POSTGRES_CONNECT_TIMEOUT_MS;
  const statement = options.statementTimeoutMs ?? DEFAULT_POSTGRES_STATEMENT_TIMEOUT_MS;
  if (!(connect > 0) || !(statement > 0)) {
    throw new RangeError('PostgreSQL connectTimeoutMs and statementTimeoutMs must be > 0');
  }
  return {
    connectionTimeoutMillis: connect,
    statement_timeout: statement,
    query_timeout: statement + CLIENT_TIMEOUT_MARGIN_MS,
  };
}

interface EventRow extends QueryResultRow {
  xid: string;
  position: string;
  stream_name: string;
  revision: string;
  event_id: string;
  type: string;
  data: unknown;
  metadata: unknown;
  recorded_at: Date;
}

interface StreamReadRow extends EventRow {
  stream_revision: string;
}

interface AppendRow extends QueryResultRow {
  outcome: 'ok' | 'idempotent' | 'wrong_expected_version';
  stream_revision: string;
  last_xid: string | null;
  last_position: string | null;
}

/** Minimum gap between two cross-process NOTIFYs of one store. */
const NOTIFY_INTERVAL_MS = 20;

const EVENT_COLUMNS = `e.transaction_id::text AS xid, e.position::text AS position, e.stream_name, e.revision::text AS revision,
  e.event_id::text AS event_id, e.type, e.data, e.metadata, e.recorded_at`;

/** SQLSTATE classes and socket errors that mean "the server or connection went away", not a bad request. */
const UNAVAILABLE_SQLSTATES = new Set([
  // query_canceled: statement_timeout (or an operator's cancel); the statement may pass on a retry.
  '57014',
  '57P01',
  '57P02',
  '57P03',
  '53300',
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
]);
const UNAVAILABLE_NODE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** True when a `pg` error means the server or connection is unavailable (exported for other PostgreSQL users). */
export function isPostgresUnavailable(error: unknown): boolean {
  // Duck-typed: socket errors are built by Node's own realm, so `instanceof Error` fails under Jest's sandbox.
  if (typeof error !== 'object' || error === null) return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && (UNAVAILABLE_SQLSTATES.has(code) || UNAVAILABLE_NODE_CODES.has(code)))
    return true;
  return (
    typeof message === 'string' &&
    /Connection terminated|connection timeout|Client has encountered a connection error|not queryable|timeout exceeded when trying to connect|Query read timeout/i.test(
      message,
    )
  );
}

function aborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

function mapError(error: unknown): unknown {
  if (error instanceof EventStoreError) return error;
  if (isPostgresUnavailable(error)) {
    return new EventStoreUnavailableError(`PostgreSQL event store unavailable: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return error;
}

/**
 * PostgreSQL adapter. Appends go through one stored function (one round trip, one short transaction, per-stream
 * advisory lock, revision checked against the streams row); global reads use the `(transaction_id, position)` order below the
 * snapshot xmin (see migrations.ts). Checkpoints are `<xid8>:<position>`, each zero-padded to 20 digits.
 */
export class PostgresEventStore implements EventStore {
  private readonly pool: Pool;
  private readonly schema: string;
  private readonly s: string;
  private readonly logger: Logger;
  private readonly notifier = new ChangeNotifier();
  private readonly subscriptions = new Set<PullSubscription>();
  private readonly listenerAbort = new AbortController();
  private listenerLoop: Promise<void> | undefined;
  private subscriptionCount = 0;
  private closed = false;
  private readonly channel: string;
  private notifyTimer: NodeJS.Timeout | undefined;
  private lastNotifyAt = 0;
  private pendingNotify: Promise<void> = Promise.resolve();

  constructor(
    private readonly connectionString: string,
    private readonly options: PostgresEventStoreOptions = {},
  ) {
    this.schema = options.schema ?? 'event_store';
    assertSchemaName(this.schema);
    this.s = quoteIdent(this.schema);
    this.channel = notifyChannel(this.schema);
    this.logger = options.logger ?? defaultLogger();
    this.pool = new Pool(this.clientConfig({ max: options.poolSize ?? 10 }));
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
    const expectation = normalizeExpectedRevision(options.expectedRevision);
    const serialized = events.map(serializeEvent);
    const result = await this.query<AppendRow>({
      name: `${this.schema}.append`,
      text: `SELECT outcome, stream_revision::text AS stream_revision, last_xid::text AS last_xid,
               last_position::text AS last_position
             FROM ${this.s}.append_events($1, $2, $3, $4, $5::uuid[], $6::text[], $7::jsonb[], $8::jsonb[])`,
      values: [
        stream,
        streamCategory(stream),
        expectation.kind,
        expectation.kind === 'exact' ? expectation.revision : null,
        serialized.map((event) => event.id),
        serialized.map((event) => event.type),
        serialized.map((event) => event.data),
        serialized.map((event) => event.metadata),
      ],
    });
    const row = result.rows[0];
    if (row.outcome === 'ok') this.announceAppend();
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
    // NULL `from` means "the stream's current revision"; truncateBefore and maxAge hide events as EventStoreDB does.
    const bound = backwards
      ? `e.revision <= COALESCE($2::bigint, s.revision) AND e.revision >= COALESCE((s.metadata->>'truncateBefore')::bigint, 0)`
      : `e.revision >= GREATEST(COALESCE($2::bigint, s.revision), COALESCE((s.metadata->>'truncateBefore')::bigint, 0))`;
    const result = await this.query<StreamReadRow>({
      name: `${this.schema}.read_stream_${backwards ? 'b' : 'f'}`,
      text: `SELECT s.revision::text AS stream_revision, e.*
               FROM ${this.s}.streams s
               LEFT JOIN LATERAL (
                 SELECT ${EVENT_COLUMNS} FROM ${this.s}.events e
                  WHERE e.stream_id = s.stream_id AND ${bound}
                    AND (s.metadata->>'maxAge' IS NULL
                         OR e.recorded_at >= now() - make_interval(secs => (s.metadata->>'maxAge')::double precision))
                  ORDER BY e.revision ${backwards ? 'DESC' : 'ASC'}
                  LIMIT $3
               ) e ON true
              WHERE s.name = $1`,
      values: [stream, from, limit],
    });
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
    this.startListener();
    const source: PullSource = {
      fetch: async (after, limit) => this.readAfter(after, limit, filter, true),
      end: async () => this.lastVisibleCheckpoint(),
      isTransient: (error) => error instanceof EventStoreUnavailableError,
      notifier: this.notifier,
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
    await this.query({
      text: `INSERT INTO ${this.s}.streams (name, category, metadata) VALUES ($1, $2, $3::jsonb)
             ON CONFLICT (name) DO UPDATE SET metadata = EXCLUDED.metadata`,
      values: [stream, streamCategory(stream), JSON.stringify(metadata)],
    });
  }

  async getStreamMetadata(stream: string): Promise<StreamMetadata> {
    assertStreamName(stream);
    const result = await this.query<{ metadata: StreamMetadata }>({
      text: `SELECT metadata FROM ${this.s}.streams WHERE name = $1`,
      values: [stream],
    });
    return result.rows[0]?.metadata ?? {};
  }

  getSubscriptionLag(): SubscriptionStats[] {
    return [...this.subscriptions].map((subscription) => subscription.stats());
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.listenerAbort.abort();
    clearTimeout(this.notifyTimer);
    await Promise.all([...this.subscriptions].map((subscription) => subscription.stop()));
    await this.listenerLoop;
    await this.pendingNotify;
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

  /**
   * Wakes subscribers after a commit: local ones at once, other processes through NOTIFY. The NOTIFY is sent
   * after the append's own transaction, never inside it, because a notifying commit takes a database-wide
   * lock that would serialise concurrent appends; and it is throttled to one per NOTIFY_INTERVAL_MS per store,
   * so a busy writer does not double its round trips. Remote subscribers wake at most that much later.
   */
  private announceAppend(): void {
    this.notifier.notify();
    if (this.notifyTimer || this.closed) return;
    const wait = Math.max(0, this.lastNotifyAt + NOTIFY_INTERVAL_MS - Date.now());
    this.notifyTimer = setTimeout(() => {
      this.lastNotifyAt = Date.now();
      this.pendingNotify = this.pool
        .query({
          name: `${this.schema}.notify`,
          text: 'SELECT pg_notify($1, $2)',
          values: [this.channel, ''],
        })
        .then(
          () => undefined,
          // Subscribers in other processes fall back to polling; nothing is lost.
          (error: unknown) => this.logger.debug({ error: describeError(error) }, 'event store NOTIFY failed'),
        )
        .finally(() => {
          this.notifyTimer = undefined;
        });
    }, wait);
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
    const values: unknown[] = [xid.toString(), position.toString(), limit];
    let filterSql = '';
    let variant = 'all';
    if (filter && 'category' in filter) {
      assertCategory(filter.category);
      values.push(filter.category);
      filterSql = 'AND e.category = $4';
      variant = 'category';
    } else if (filter) {
      values.push(`${filterPrefix(filter).replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
      filterSql = 'AND e.stream_name LIKE $4';
      variant = 'prefix';
    }
    const result = await this.query<EventRow>({
      name: `${this.schema}.read_all_${variant}`,
      text: `SELECT ${EVENT_COLUMNS} FROM ${this.s}.events e
              WHERE (e.transaction_id, e.position) > ($1::xid8, $2::bigint)
                AND e.transaction_id < pg_snapshot_xmin(pg_current_snapshot())
                ${filterSql}
              ORDER BY e.transaction_id, e.position
              LIMIT $3`,
      values,
    });
    const events = result.rows.map((row) => this.toRecorded(row));
    let pending = false;
    if (detectPending && events.length === 0) {
      // Rows at or above xmin may belong to finished transactions held back by an older open one: re-read soon.
      const check = await this.query<{ pending: boolean }>({
        name: `${this.schema}.pending`,
        text: `SELECT EXISTS (SELECT 1 FROM ${this.s}.events e
                               WHERE e.transaction_id >= pg_snapshot_xmin(pg_current_snapshot())) AS pending`,
      });
      pending = check.rows[0]?.pending === true;
    }
    return { events, pending };
  }

  private async lastVisibleCheckpoint(): Promise<Checkpoint | undefined> {
    const result = await this.query<{ xid: string; position: string }>({
      text: `SELECT e.transaction_id::text AS xid, e.position::text AS position FROM ${this.s}.events e
              WHERE e.transaction_id < pg_snapshot_xmin(pg_current_snapshot())
              ORDER BY e.transaction_id DESC, e.position DESC LIMIT 1`,
    });
    const row = result.rows[0];
    return row ? encodeCheckpoint(row.xid, row.position) : undefined;
  }

  private toRecorded(row: EventRow): RecordedEvent {
    const metadata = parseMetadata(row.metadata);
    return {
      id: row.event_id,
      type: row.type,
      data: upcast(this.options.upcasters, row.type, row.data, metadata),
      metadata,
      streamName: row.stream_name,
      revision: Number(row.revision),
      position: encodeCheckpoint(row.xid, row.position),
      recordedAt: row.recorded_at,
    };
  }

  /**
   * One LISTEN connection per store wakes subscriptions right after a commit. If it drops, it reconnects with
   * backoff and wakes everyone once connected again; the subscriptions' poll period covers the gap meanwhile.
   */
  private startListener(): void {
    if (this.listenerLoop || this.closed) return;
    this.listenerLoop = this.listenLoop();
  }

  private async listenLoop(): Promise<void> {
    const signal = this.listenerAbort.signal;
    let failures = 0;
    // One listener on the signal for the whole loop: one per reconnect would pile up on a flapping server.
    const stopped = aborted(signal);
    while (!signal.aborted) {
      const client = new Client(this.clientConfig());
      const ended = new Promise<void>((resolve) => {
        client.on('error', (error) => {
          this.logger.warn({ error: describeError(error) }, 'event store LISTEN connection lost');
          resolve();
        });
        client.on('end', () => resolve());
      });
      client.on('notification', () => this.notifier.notify());
      try {
        await client.connect();
        await client.query(`LISTEN ${quoteIdent(notifyChannel(this.schema))}`);
        failures = 0;
        this.notifier.notify();
        await Promise.race([ended, stopped]);
      } catch (error) {
        failures += 1;
        this.logger.warn({ error: describeError(error), failures }, 'event store LISTEN connection failed');
      } finally {
        await client.end().catch(() => undefined);
      }
      if (!signal.aborted) await sleep(Math.min(5000, 100 * 2 ** Math.min(failures, 6)), signal);
    }
  }
}
