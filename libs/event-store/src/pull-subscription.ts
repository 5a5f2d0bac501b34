import { describeError, type Logger } from './logger';
import { ChangeNotifier, sleep } from './notifier';
import type { Checkpoint, RecordedEvent, SubscribeOptions, Subscription, SubscriptionStats } from './types';
import { subscriptionStats } from './subscription-stats';

export interface PullBatch {
  events: RecordedEvent[];
  /** True when events exist that are not yet safe to read (PostgreSQL: an older transaction is still open). */
  pending: boolean;
  /**
   * A filtered read that looked at every event up to here and matched only `events`: the subscription's position
   * moves here after them, so the next read starts past what the filter skipped instead of reading it again.
   */
  scannedTo?: Checkpoint;
}

export interface PullSource {
  fetch(after: Checkpoint | undefined, limit: number): Promise<PullBatch>;
  /** Checkpoint of the last event readable now, for `fromCheckpoint: 'end'`. */
  end(): Promise<Checkpoint | undefined>;
  /** Errors worth retrying (connection lost); anything else stops the subscription. */
  isTransient(error: unknown): boolean;
  notifier: ChangeNotifier;
}

export interface PullSettings {
  batchSize: number;
  /** Fallback poll period when no notification arrives. */
  pollIntervalMs: number;
  /** Re-read period while a pending (uncommitted, older) transaction holds readers back. */
  pendingPollMs: number;
  maxBackoffMs: number;
}

/**
 * Catch-up then live, event by event: read a batch after the checkpoint, await the handler for each event, and
 * when nothing is left wait for a change notification (or the poll period, which covers lost notifications).
 */
export class PullSubscription implements Subscription {
  private readonly abort = new AbortController();
  private readonly loop: Promise<void>;
  private current: Checkpoint | undefined;
  private delivered = 0;
  private caughtUp = false;
  private stopped = false;
  private lastRecordedAt: Date | undefined;

  constructor(
    readonly name: string,
    private readonly source: PullSource,
    private readonly options: SubscribeOptions,
    private readonly settings: PullSettings,
    private readonly logger: Logger,
    private readonly onStopped: (subscription: PullSubscription) => void,
  ) {
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
    await this.loop;
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    let failures = 0;
    try {
      const from = this.options.fromCheckpoint;
      while (!signal.aborted && from === 'end' && this.current === undefined) {
        try {
          this.current = await this.source.end();
          break;
        } catch (error) {
          if (!this.source.isTransient(error)) throw error;
          failures += 1;
          await this.backoff(failures, error);
        }
      }
      if (from !== 'end' && from !== 'start') this.current = from;
      while (!signal.aborted) {
        const version = this.source.notifier.version;
        let batch: PullBatch;
        try {
          batch = await this.source.fetch(this.current, this.settings.batchSize);
          failures = 0;
        } catch (error) {
          if (!this.source.isTransient(error)) throw error;
          failures += 1;
          await this.backoff(failures, error);
          continue;
        }
        if (batch.events.length === 0) {
          if (batch.scannedTo !== undefined) this.current = batch.scannedTo;
          this.caughtUp = true;
          const wait = batch.pending ? this.settings.pendingPollMs : this.settings.pollIntervalMs;
          await this.source.notifier.wait(version, wait, signal);
          continue;
        }
        this.caughtUp = false;
        for (const event of batch.events) {
          if (signal.aborted) return;
          await this.options.handler(event);
          this.current = event.position;
          this.delivered += 1;
          this.lastRecordedAt = event.recordedAt;
        }
        if (batch.scannedTo !== undefined && !signal.aborted) this.current = batch.scannedTo;
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

  private async backoff(failures: number, error: unknown): Promise<void> {
    const delay = Math.min(this.settings.maxBackoffMs, 50 * 2 ** Math.min(failures, 10));
    this.logger.warn(
      { error: describeError(error), subscription: this.name, retryInMs: delay },
      'subscription read failed, retrying',
    );
    await sleep(delay, this.abort.signal);
  }
}
