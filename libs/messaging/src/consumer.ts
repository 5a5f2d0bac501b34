import { MessagingConnection } from './connection';
import { QueueWorker } from './queue-worker';
import type { ConsumerObserver, Subscription } from './subscription';
import { QueueNames } from './topology';

/**
 * Consumes envelopes with manual acks: ack after the handler resolved, retry through per-attempt TTL queues,
 * park after the last attempt (or at once for permanent errors and malformed messages), dedupe redeliveries.
 */
export class MessageConsumer {
  private readonly workers: QueueWorker[] = [];
  private readonly observers: ConsumerObserver[] = [];

  constructor(private readonly connection: MessagingConnection) {
    connection.onClose(() => this.stop());
  }

  /** Adds an observer for the queues subscribed from now on (and tells it those already subscribed). */
  observe(observer: ConsumerObserver): void {
    this.observers.push(observer);
    for (const worker of this.workers) worker.notify((o) => o.subscribed?.(worker.names.work), observer);
  }

  /** Declares the queue's topology and starts consuming; resolves once the first channel is set up. */
  async subscribe(subscription: Subscription): Promise<QueueNames> {
    const worker = new QueueWorker(this.connection, subscription, this.observers);
    this.workers.push(worker);
    await worker.waitForConnect();
    worker.notify((observer) => observer.subscribed?.(worker.names.work));
    return worker.names;
  }

  isHealthy(): boolean {
    return this.workers.every((worker) => worker.isOpen());
  }

  /** Cancels consumers, waits for in-flight handlers (bounded), then closes the consumer channels. */
  async stop(timeoutMs = this.connection.options.shutdownTimeoutMs): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.stop(timeoutMs)));
  }
}
