import { randomUUID } from 'node:crypto';
import type { ConfirmChannel, ConsumeMessage, MessagePropertyHeaders, Options } from 'amqplib';
import type { Logger } from 'pino';
import { ManagedChannel, MessagingConnection } from './connection';
import { DedupeStore, InMemoryDedupeStore } from './dedupe';
import { HEADERS, Message, parseEnvelope } from './envelope';
import {
  classifyError,
  ErrorClassification,
  errorMessage,
  MessagingErrorCode,
  RetryableError,
} from './errors';
import { ExchangeKey, RetryPolicy } from './options';
import {
  applyTopology,
  exchangeTopology,
  mergeTopologies,
  QueueNames,
  queueNames,
  queueTopology,
} from './topology';

export interface HandlerContext {
  /** 1-based handler attempt (first delivery = 1, each retry adds one). */
  attempt: number;
  /** True when the broker delivers this copy again (lost ack, crashed consumer). */
  redelivered: boolean;
  exchange: string;
  routingKey: string;
  /** Logger carrying the message's correlation, causation and message ids. */
  logger: Logger;
  /**
   * Aborted when the handler deadline passes: the consumer has already scheduled a retry and will ignore
   * whatever this run does from then on, so a handler that can stop early should.
   */
  signal: AbortSignal;
}

export interface MessageHandler<T extends Message = Message> {
  /** Resolves only once the handler's effect is durable: the delivery is acknowledged right after. */
  handle(message: T, context: HandlerContext): Promise<void>;
  /** The violated rules of an invalid message (empty or undefined when valid); invalid messages are parked. */
  validate?(message: Message): readonly string[] | undefined;
}

/** Why a message was parked; stored in the `x-park-reason` header. */
export type ParkReason =
  | 'malformed'
  | 'unknown-type'
  | 'validation-failed'
  | 'permanent-error'
  | 'retries-exhausted'
  | 'redelivery-limit';

export interface ParkedMessage {
  queue: string;
  reason: ParkReason;
  error: ErrorClassification;
  /** Handler attempts made (0 when the message never reached a handler). */
  attempts: number;
  /** The envelope, when the body could be decoded (absent for malformed messages). */
  envelope?: Message;
  messageId?: string;
  correlationId?: string;
  type?: string;
  exchange: string;
  routingKey: string;
}

export interface SubscriptionBinding {
  exchange: ExchangeKey;
  /** Topic pattern, e.g. `database.#`. */
  routingKey: string;
}

export interface Subscription {
  /** Queue name without the connection's queue prefix, e.g. `provisioning.database-service`. */
  queue: string;
  bindings: readonly SubscriptionBinding[];
  /** Handler per message type; a type without handler is parked as `unknown-type`. */
  handlers: Readonly<Record<string, MessageHandler>>;
  /**
   * Called before a message is parked (e.g. to append a failure event to the tenant stream). The message
   * is moved to the parking queue only after it resolves; if it throws, the message comes back after the
   * longest retry delay and the hook is called again, so it must be idempotent.
   */
  onParked?: (parked: ParkedMessage) => Promise<void>;
  /** Defaults to an in-memory LRU; `false` turns deduplication off for naturally idempotent handlers. */
  dedupe?: DedupeStore | false;
  prefetch?: number;
  retry?: Partial<RetryPolicy>;
  /** Overrides the connection's `handlerTimeoutMs` for this queue. */
  handlerTimeoutMs?: number;
}

/**
 * Watches a consumer from outside (e.g. metrics): told which queues it consumes and each message it parked.
 * Called synchronously; a listener that throws is ignored, so watching can never change what the consumer does.
 */
export interface ConsumerObserver {
  /** A queue (prefix included) is now consumed. */
  subscribed?(queue: string): void;
  /** The message is in the parking queue. */
  parked?(parked: ParkedMessage): void;
}

type Outcome = 'handled' | 'duplicate' | 'retried' | 'parked' | 'failed' | 'requeued';

const STRIPPED_HEADERS = [
  'x-death',
  'x-first-death-exchange',
  'x-first-death-queue',
  'x-first-death-reason',
  HEADERS.deliveryCount,
  HEADERS.parkPending,
];
/** Pause before handing back a message whose retry/park publish failed on a live channel. */
const REQUEUE_DELAY_MS = 1000;
/** Code of the retryable failure a handler gets when it overruns its deadline. */
export const HANDLER_TIMEOUT_CODE = 'MESSAGING.HANDLER_TIMEOUT';

const TIMED_OUT = Symbol('timed out');

/**
 * Runs the handler against its deadline. On time, its own result; late, a retryable error, and the run's
 * eventual result (or failure) is dropped: the caller retries or parks the delivery and acknowledges it, so a
 * late run can never acknowledge, dedupe or retry it a second time. The run itself cannot be killed (it is a
 * promise); it is told through the aborted signal, and what it still does must be idempotent, which the
 * at-least-once contract already demands of every handler: a resource service's late outcome event carries
 * the same deterministic id as the one the retry (or the park hook) appends, so the event store keeps
 * whichever comes first and drops the other.
 */
async function withDeadline(
  run: (signal: AbortSignal) => Promise<void>,
  timeoutMs: number,
  logger: Logger,
): Promise<void> {
  const controller = new AbortController();
  // Started before the timer, so a handler that throws synchronously leaves no timer behind.
  const running = run(controller.signal);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), timeoutMs);
  });
  try {
    const result = await Promise.race([running, deadline]);
    if (result !== TIMED_OUT) return;
  } finally {
    clearTimeout(timer);
  }
  controller.abort(new RetryableError(HANDLER_TIMEOUT_CODE, `handler deadline of ${timeoutMs} ms passed`));
  running.then(
    () => logger.warn({ timeoutMs }, 'handler finished after its deadline; result discarded'),
    (error: unknown) =>
      logger.warn({ timeoutMs, err: errorMessage(error) }, 'handler failed after its deadline; discarded'),
  );
  throw new RetryableError(HANDLER_TIMEOUT_CODE, `handler did not finish within ${timeoutMs} ms`);
}

function headerNumber(headers: MessagePropertyHeaders | undefined, key: string): number | undefined {
  const value: unknown = headers?.[key];
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && /^\d+$/.test(value)) return Number(value);
  return undefined;
}

function headerString(headers: MessagePropertyHeaders | undefined, key: string): string | undefined {
  const value: unknown = headers?.[key];
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  return undefined;
}

class QueueWorker {
  readonly names: QueueNames;
  private readonly channel: ManagedChannel;
  private readonly consumerTags = new Map<ConfirmChannel, string>();
  private readonly inflight = new Set<Promise<void>>();
  private readonly handling = new Map<string, Promise<Outcome>>();
  private readonly returned = new Set<string>();
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
    const topology = mergeTopologies(
      exchangeTopology(options.exchanges),
      queueTopology({
        queue,
        bindings: subscription.bindings.map((b) => ({
          exchange: options.exchanges[b.exchange],
          routingKey: b.routingKey,
        })),
        retry: this.retry,
        queueType: options.queueType,
        deliveryLimit: options.maxRedeliveries + 5,
      }),
    );
    const prefetch = subscription.prefetch ?? options.prefetch;
    this.channel = connection.createChannel(`consumer:${queue}`, async (channel) => {
      channel.on('return', (returned: ConsumeMessage) => {
        const id = headerString(returned.properties.headers, 'x-publish-id');
        if (id !== undefined) this.returned.add(id);
      });
      await applyTopology(channel, topology);
      if (this.stopping) return;
      await channel.prefetch(prefetch);
      const { consumerTag } = await channel.consume(this.names.work, (msg) => this.onDelivery(channel, msg), {
        noAck: false,
      });
      this.consumerTags.set(channel, consumerTag);
      channel.on('close', () => this.consumerTags.delete(channel));
    });
  }

  isOpen(): boolean {
    return this.channel.isOpen();
  }

  waitForConnect(): Promise<void> {
    return this.channel.wrapper.waitForConnect();
  }

  private onDelivery(channel: ConfirmChannel, msg: ConsumeMessage | null): void {
    if (msg === null) {
      // The server cancelled the consumer (queue deleted): re-opening the channel re-declares and re-consumes.
      this.logger.error('consumer cancelled by the server, re-opening the channel');
      channel.close().catch(() => undefined);
      return;
    }
    if (this.stopping) {
      this.settle(channel, msg, 'nack');
      return;
    }
    const task = this.process(channel, msg)
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
    const props = msg.properties;
    const headers = props.headers;
    const attempt = (headerNumber(headers, HEADERS.retryCount) ?? 0) + 1;
    const exchange = headerString(headers, HEADERS.originalExchange) ?? msg.fields.exchange;
    const routingKey = headerString(headers, HEADERS.originalRoutingKey) ?? msg.fields.routingKey;
    const base = {
      exchange,
      routingKey,
      messageId: props.messageId as string | undefined,
      correlationId: props.correlationId as string | undefined,
      type: props.type as string | undefined,
    };
    const logger = this.logger.child({
      messageId: base.messageId,
      correlationId: base.correlationId,
      causationId: headerString(headers, HEADERS.causationId),
      type: base.type,
      attempt,
    });

    const parsed = parseEnvelope(msg.content, props);
    const envelope = parsed.ok ? parsed.message : undefined;
    const park = (reason: ParkReason, error: ErrorClassification, attempts: number) =>
      this.park(channel, msg, logger, { ...base, queue: this.names.work, reason, error, attempts, envelope });
    const permanent = (code: MessagingErrorCode, message: string): ErrorClassification => ({
      retryable: false,
      code,
      message,
    });

    const pendingReason = headerString(headers, HEADERS.parkPending) as ParkReason | undefined;
    if (pendingReason !== undefined) {
      return park(
        pendingReason,
        {
          retryable: false,
          code: headerString(headers, HEADERS.lastErrorCode) ?? 'UNKNOWN',
          message: headerString(headers, HEADERS.lastErrorMessage) ?? '',
        },
        headerNumber(headers, HEADERS.attempts) ?? attempt - 1,
      );
    }
    if (!parsed.ok) return park('malformed', permanent('MESSAGING.MALFORMED', parsed.reason), 0);
    const message = parsed.message;
    const handler: MessageHandler | undefined = this.subscription.handlers[message.type];
    if (handler === undefined) {
      return park(
        'unknown-type',
        permanent('MESSAGING.UNKNOWN_TYPE', `no handler for type ${message.type}`),
        0,
      );
    }
    let problems: readonly string[] | undefined;
    try {
      problems = handler.validate?.(message);
    } catch (error) {
      problems = [`validator threw: ${errorMessage(error)}`];
    }
    if (problems !== undefined && problems.length > 0) {
      return park('validation-failed', permanent('MESSAGING.VALIDATION_FAILED', problems.join('; ')), 0);
    }
    const deliveries = headerNumber(headers, HEADERS.deliveryCount) ?? 0;
    if (deliveries >= this.connection.options.maxRedeliveries) {
      const error = permanent(
        'MESSAGING.REDELIVERY_LIMIT',
        `delivered ${deliveries + 1} times without an outcome`,
      );
      return park('redelivery-limit', error, attempt);
    }

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
      return this.republish(channel, msg, this.names.retry[context.attempt - 1], {
        [HEADERS.retryCount]: context.attempt,
        [HEADERS.lastErrorCode]: classified.code,
        [HEADERS.lastErrorMessage]: classified.message,
        [HEADERS.originalExchange]: context.exchange,
        [HEADERS.originalRoutingKey]: context.routingKey,
      }).then((ok) => (ok ? this.ack(channel, msg, 'retried') : 'failed'));
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
        const ok = await this.republish(channel, msg, lastRetry, {
          ...errorHeaders,
          [HEADERS.parkPending]: parked.reason,
        });
        return ok ? this.ack(channel, msg, 'retried') : 'failed';
      }
    }
    const ok = await this.republish(channel, msg, this.names.parked, {
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

  /** Confirmed copy of the delivery into one of this queue's own queues, through the default exchange. */
  private republish(
    channel: ConfirmChannel,
    msg: ConsumeMessage,
    queue: string,
    extraHeaders: Record<string, string | number>,
  ): Promise<boolean> {
    const props = msg.properties;
    const headers: Record<string, unknown> = { ...props.headers };
    for (const key of STRIPPED_HEADERS) delete headers[key];
    const publishId = randomUUID();
    const options: Options.Publish = {
      persistent: true,
      mandatory: true,
      contentType: props.contentType as string | undefined,
      contentEncoding: props.contentEncoding as string | undefined,
      messageId: props.messageId as string | undefined,
      correlationId: props.correlationId as string | undefined,
      type: props.type as string | undefined,
      timestamp: props.timestamp as number | undefined,
      appId: props.appId as string | undefined,
      headers: { ...headers, ...extraHeaders, 'x-publish-id': publishId },
    };
    return new Promise<boolean>((resolve) => {
      try {
        channel.publish('', queue, msg.content, options, (err) => {
          const returned = this.returned.delete(publishId);
          if (err || returned) {
            this.logger.error(
              { target: queue, messageId: options.messageId, err: err ? errorMessage(err) : 'returned' },
              'copy to retry/parking queue failed',
            );
          }
          resolve(!err && !returned);
        });
      } catch (error) {
        this.logger.warn({ target: queue, err: errorMessage(error) }, 'channel closed before copy');
        resolve(false);
      }
    });
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
    return this.settle(channel, msg, 'ack') ? outcome : 'requeued';
  }

  /** Settles on the delivery's own channel; if that channel is gone the broker redelivers, so skip. */
  private settle(channel: ConfirmChannel, msg: ConsumeMessage, how: 'ack' | 'nack'): boolean {
    if (this.channel.current() !== channel) return false;
    try {
      if (how === 'ack') channel.ack(msg);
      else channel.nack(msg, false, true);
      return true;
    } catch {
      return false;
    }
  }

  private requeueLater(channel: ConfirmChannel, msg: ConsumeMessage): void {
    setTimeout(() => this.settle(channel, msg, 'nack'), REQUEUE_DELAY_MS).unref();
  }

  stop(timeoutMs: number): Promise<void> {
    this.stopped ??= this.doStop(timeoutMs);
    return this.stopped;
  }

  private async doStop(timeoutMs: number): Promise<void> {
    this.stopping = true;
    await Promise.all(
      [...this.consumerTags].map(([channel, tag]) => channel.cancel(tag).catch(() => undefined)),
    );
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
