import type { ConfirmChannel, ConsumeMessage } from 'amqplib';
import type { Logger } from 'pino';
import { ConsumerChannel } from './consumer-channel';
import { MessagingConnection } from './connection';
import { DedupeStore, InMemoryDedupeStore } from './dedupe';
import { readDelivery, verdict } from './delivery';
import { HEADERS, Message } from './envelope';
import { classifyError, errorMessage } from './errors';
import { withDeadline } from './handler-deadline';
import { RetryPolicy } from './options';
import type {
  ConsumerObserver,
  HandlerContext,
  MessageHandler,
  ParkedMessage,
  Subscription,
} from './subscription';
import { QueueNames, queueNames } from './topology';
import { recordDeliveryFailure, traceDelivery } from './trace-spans';

/**
 * One subscribed queue's deliveries: each goes through its verdict, dedupe (copies of one message id one after
 * the other), the handler under its deadline, then is acked, retried or parked; stopping drains the handlers
 * in flight. The AMQP channel work is in consumer-channel.ts.
 */

type Outcome = 'handled' | 'duplicate' | 'retried' | 'parked' | 'failed' | 'requeued';

/** Pause before handing back a message whose retry/park publish failed on a live channel. */
const REQUEUE_DELAY_MS = 1000;

export class QueueWorker {
  readonly names: QueueNames;
  private readonly channel: ConsumerChannel;
  private readonly inflight = new Set<Promise<void>>();
  private readonly handling = new Map<string, Promise<Outcome>>();
  private readonly dedupe: DedupeStore | undefined;
  private readonly retry: RetryPolicy;
  private readonly handlerTimeoutMs: number;
  private readonly logger: Logger;
  private stopping = false;
  private stopped?: Promise<void>;

  constructor(
    private readonly connection: MessagingConnection,
    private readonly subscription: Subscription,
    private readonly observers: readonly ConsumerObserver[] = [],
  ) {
    const options = connection.options;
    this.retry = { ...options.retry, ...subscription.retry };
    this.handlerTimeoutMs = subscription.handlerTimeoutMs ?? options.handlerTimeoutMs;
    const queue = `${options.queuePrefix}${subscription.queue}`;
    this.names = queueNames(queue, this.retry);
    this.dedupe =
      subscription.dedupe === false ? undefined : (subscription.dedupe ?? new InMemoryDedupeStore());
    this.logger = connection.logger.child({ queue });
    this.channel = new ConsumerChannel(
      connection,
      queue,
      subscription,
      this.retry,
      (channel, msg) => this.onDelivery(channel, msg),
      this.logger,
    );
  }

  isOpen(): boolean {
    return this.channel.isOpen();
  }

  waitForConnect(): Promise<void> {
    return this.channel.waitForConnect();
  }

  private onDelivery(channel: ConfirmChannel, msg: ConsumeMessage | null): void {
    if (msg === null) {
      // The server cancelled the consumer (queue deleted): re-opening the channel re-declares and re-consumes.
      this.logger.error('consumer cancelled by the server, re-opening the channel');
      channel.close().catch(() => undefined);
      return;
    }
    if (this.stopping) {
      this.channel.settle(channel, msg, 'nack');
      return;
    }
    const task = traceDelivery(msg, this.names.work, () => this.process(channel, msg), this.connection.broker)
      .then((outcome) => {
        if (outcome === 'failed') this.requeueLater(channel, msg);
      })
      .catch((error: unknown) => {
        this.logger.error({ err: errorMessage(error) }, 'unexpected failure while processing a delivery');
        this.requeueLater(channel, msg);
      });
    this.inflight.add(task);
    void task.finally(() => this.inflight.delete(task));
  }

  private async process(channel: ConfirmChannel, msg: ConsumeMessage): Promise<Outcome> {
    const { attempt, exchange, routingKey, causationId, ...ids } = readDelivery(msg);
    const logger = this.logger.child({
      messageId: ids.messageId,
      correlationId: ids.correlationId,
      causationId,
      type: ids.type,
      attempt,
    });
    const decided = verdict(
      msg,
      attempt,
      this.subscription.handlers,
      this.connection.options.maxRedeliveries,
      this.subscription.decode,
    );
    if (decided.park !== undefined) {
      const { park: reason, ...parked } = decided;
      recordDeliveryFailure(parked.error);
      return this.park(channel, msg, logger, {
        exchange,
        routingKey,
        ...ids,
        queue: this.names.work,
        reason,
        ...parked,
      });
    }
    const { handler, message } = decided;

    // Copies of one message id are handled one after the other (claimed synchronously, before any await),
    // so a copy arriving while the first is still running finds it in the dedupe store afterwards.
    const key = message.metadata.messageId;
    const previous = this.handling.get(key);
    const run = (async (): Promise<Outcome> => {
      if (previous !== undefined) await previous.catch(() => undefined);
      if (this.dedupe !== undefined && (await this.dedupe.has(key))) {
        logger.debug('duplicate delivery acknowledged without handling');
        return this.ack(channel, msg, 'duplicate');
      }
      return this.runHandler(channel, msg, handler, message, logger, {
        attempt,
        redelivered: msg.fields.redelivered,
        exchange,
        routingKey,
        logger,
      });
    })();
    this.handling.set(key, run);
    try {
      return await run;
    } finally {
      if (this.handling.get(key) === run) this.handling.delete(key);
    }
  }

  private async runHandler(
    channel: ConfirmChannel,
    msg: ConsumeMessage,
    handler: MessageHandler,
    message: Message,
    logger: Logger,
    context: Omit<HandlerContext, 'signal'>,
  ): Promise<Outcome> {
    try {
      await withDeadline(
        (signal) => handler.handle(message, { ...context, signal }),
        this.handlerTimeoutMs,
        logger,
      );
    } catch (error) {
      const classified = classifyError(error);
      recordDeliveryFailure(classified);
      const base = { exchange: context.exchange, routingKey: context.routingKey, queue: this.names.work };
      const parked = {
        ...base,
        envelope: message,
        messageId: message.metadata.messageId,
        correlationId: message.metadata.correlationId,
        type: message.type,
        error: classified,
        attempts: context.attempt,
      };
      if (!classified.retryable)
        return this.park(channel, msg, logger, { ...parked, reason: 'permanent-error' });
      if (context.attempt >= this.retry.maxAttempts) {
        return this.park(channel, msg, logger, { ...parked, reason: 'retries-exhausted' });
      }
      logger.warn({ code: classified.code, err: classified.message }, 'handler failed, scheduling a retry');
      return this.channel
        .republish(channel, msg, this.names.retry[context.attempt - 1], {
          [HEADERS.retryCount]: context.attempt,
          [HEADERS.lastErrorCode]: classified.code,
          [HEADERS.lastErrorMessage]: classified.message,
          [HEADERS.originalExchange]: context.exchange,
          [HEADERS.originalRoutingKey]: context.routingKey,
        })
        .then((ok) => (ok ? this.ack(channel, msg, 'retried') : 'failed'));
    }
    if (this.dedupe !== undefined) await this.dedupe.add(message.metadata.messageId);
    logger.debug('handled');
    return this.ack(channel, msg, 'handled');
  }

  private async park(
    channel: ConfirmChannel,
    msg: ConsumeMessage,
    logger: Logger,
    parked: ParkedMessage,
  ): Promise<Outcome> {
    const errorHeaders = {
      [HEADERS.parkReason]: parked.reason,
      [HEADERS.lastErrorCode]: parked.error.code,
      [HEADERS.lastErrorMessage]: parked.error.message,
      [HEADERS.attempts]: parked.attempts,
      [HEADERS.originalExchange]: parked.exchange,
      [HEADERS.originalRoutingKey]: parked.routingKey,
    };
    if (this.subscription.onParked) {
      try {
        await this.subscription.onParked(parked);
      } catch (error) {
        logger.error(
          { reason: parked.reason, err: errorMessage(error) },
          'onParked hook failed; the message will come back and be parked later',
        );
        const lastRetry = this.names.retry[this.names.retry.length - 1];
        const ok = await this.channel.republish(channel, msg, lastRetry, {
          ...errorHeaders,
          [HEADERS.parkPending]: parked.reason,
        });
        return ok ? this.ack(channel, msg, 'retried') : 'failed';
      }
    }
    const ok = await this.channel.republish(channel, msg, this.names.parked, {
      ...errorHeaders,
      [HEADERS.parkedAt]: new Date().toISOString(),
      [HEADERS.parkedFrom]: this.names.work,
    });
    if (!ok) return 'failed';
    this.notify((observer) => observer.parked?.(parked));
    logger.warn(
      {
        reason: parked.reason,
        code: parked.error.code,
        err: parked.error.message,
        attempts: parked.attempts,
      },
      'message parked',
    );
    return this.ack(channel, msg, 'parked');
  }

  /** Tells the observers (all, or only `only`); one that throws is logged and skipped. */
  notify(call: (observer: ConsumerObserver) => void, only?: ConsumerObserver): void {
    for (const observer of only ? [only] : this.observers) {
      try {
        call(observer);
      } catch (error) {
        this.logger.warn({ err: errorMessage(error) }, 'consumer observer failed; ignored');
      }
    }
  }

  private ack(channel: ConfirmChannel, msg: ConsumeMessage, outcome: Outcome): Outcome {
    return this.channel.settle(channel, msg, 'ack') ? outcome : 'requeued';
  }

  private requeueLater(channel: ConfirmChannel, msg: ConsumeMessage): void {
    setTimeout(() => this.channel.settle(channel, msg, 'nack'), REQUEUE_DELAY_MS).unref();
  }

  stop(timeoutMs: number): Promise<void> {
    this.stopped ??= this.doStop(timeoutMs);
    return this.stopped;
  }

  private async doStop(timeoutMs: number): Promise<void> {
    this.stopping = true;
    await this.channel.cancel();
    if (this.inflight.size > 0) {
      this.logger.info({ inflight: this.inflight.size }, 'waiting for in-flight handlers');
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        Promise.allSettled([...this.inflight]).then(() => false),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(true), timeoutMs);
        }),
      ]);
      clearTimeout(timer);
      if (timedOut) {
        this.logger.warn(
          { inflight: this.inflight.size },
          'shutdown timeout: unfinished deliveries will be redelivered',
        );
      }
    }
    await this.channel.close();
  }
}
