import { Client, type ClientConfig, type Pool } from 'pg';
import { describeError, type Logger } from '../logger';
import { ChangeNotifier, sleep } from '../notifier';
import { notifyChannel, quoteIdent } from './migrations';

/**
 * How the subscriptions of a PostgreSQL store learn that events were appended: appends of this process wake
 * them at once, appends of other processes through a NOTIFY on the schema's channel, heard on one LISTEN
 * connection per store.
 */

/** Minimum gap between two cross-process NOTIFYs of one store. */
const NOTIFY_INTERVAL_MS = 20;

function aborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

export class PostgresChangeFeed {
  readonly notifier = new ChangeNotifier();
  private readonly channel: string;
  private readonly listenerAbort = new AbortController();
  private listenerLoop: Promise<void> | undefined;
  private notifyTimer: NodeJS.Timeout | undefined;
  private lastNotifyAt = 0;
  private pendingNotify: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly pool: Pool,
    private readonly schema: string,
    /** The settings of a new connection, for the LISTEN one. */
    private readonly clientConfig: () => ClientConfig,
    private readonly logger: Logger,
  ) {
    this.channel = notifyChannel(schema);
  }

  /**
   * Wakes subscribers after a commit: local ones at once, other processes through NOTIFY. The NOTIFY is sent
   * after the append's own transaction, never inside it, because a notifying commit takes a database-wide
   * lock that would serialise concurrent appends; and it is throttled to one per NOTIFY_INTERVAL_MS per store,
   * so a busy writer does not double its round trips. Remote subscribers wake at most that much later.
   */
  announceAppend(): void {
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

  /**
   * Opens the LISTEN connection, once. If it drops, it reconnects with backoff and wakes everyone once
   * connected again; the subscriptions' poll period covers the gap meanwhile.
   */
  listen(): void {
    if (this.listenerLoop || this.closed) return;
    this.listenerLoop = this.listenLoop();
  }

  /** Stops listening and notifying at once; resolves when the LISTEN connection and last NOTIFY are done. */
  async close(): Promise<void> {
    this.closed = true;
    this.listenerAbort.abort();
    clearTimeout(this.notifyTimer);
    await this.listenerLoop;
    await this.pendingNotify;
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
        await client.query(`LISTEN ${quoteIdent(this.channel)}`);
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
