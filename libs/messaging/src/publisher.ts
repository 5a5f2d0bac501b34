import type { Message as AmqpMessage, Options } from 'amqplib';
import type { EncodedCloudEvent } from './cloudevents';
import { MessagingConnection, ManagedChannel } from './connection';
import { assertPublishable, Message, publishOptionsFor } from './envelope';
import { errorMessage, MessagingError } from './errors';
import { ExchangeKey } from './options';
import { applyTopology, assertRoutingKey, exchangeTopology } from './topology';
import { tracePublish } from './trace-spans';

export interface PublishOptions {
  /** Overrides the connection's publish timeout for this message. */
  timeoutMs?: number;
  /**
   * Default true: an unroutable message is an error (a command nobody consumes would be lost). Integration
   * events on `tenant.events` set it to false: having no subscriber there is legitimate.
   */
  mandatory?: boolean;
}

/**
 * Confirmed, persistent, mandatory publishing of envelopes. Many publishes may be in flight at once (the
 * confirm of each is awaited by its own caller, not serially), up to `maxPendingPublishes`; while the broker
 * is away they wait in memory up to the publish timeout and then fail with a typed error.
 */
export class MessagePublisher {
  private readonly channel: ManagedChannel;
  private pending = 0;
  /** Message ids the broker returned as unroutable; the return always precedes the confirm. */
  private readonly returned = new Map<string, number>();
  private idleWaiters: Array<() => void> = [];
  private closed = false;

  constructor(private readonly connection: MessagingConnection) {
    const topology = exchangeTopology(connection.options.exchanges);
    this.channel = connection.createChannel('publisher', async (channel) => {
      channel.on('return', (returned: AmqpMessage) => {
        const id = returned.properties.messageId as string | undefined;
        if (id !== undefined) this.returned.set(id, (this.returned.get(id) ?? 0) + 1);
      });
      await applyTopology(channel, topology);
    });
    connection.onClose(() => this.close());
  }

  exchangeName(key: ExchangeKey): string {
    return this.connection.options.exchanges[key];
  }

  /** Publishes waiting for the broker or for their confirm. */
  pendingCount(): number {
    return this.pending;
  }

  isOpen(): boolean {
    return this.channel.isOpen();
  }

  async publish(exchange: ExchangeKey, routingKey: string, message: Message, options: PublishOptions = {}) {
    assertPublishable(message);
    const body = Buffer.from(JSON.stringify(message));
    const ids = { type: message.type, ...this.ids(message) };
    await this.send(exchange, routingKey, body, publishOptionsFor(message), ids, options);
  }

  /**
   * Publishes a CloudEvent as `encodeCloudEvent` built it (structured mode), with the confirms, bound and
   * retries of `publish`; its id is also the AMQP message id.
   */
  async publishCloudEvent(
    exchange: ExchangeKey,
    routingKey: string,
    event: EncodedCloudEvent,
    options: PublishOptions = {},
  ) {
    const ids = {
      type: event.type,
      messageId: event.id,
      correlationId: event.correlationId,
      tenantId: event.subject,
    };
    await this.send(exchange, routingKey, event.body, event.properties, ids, options);
  }

  /** Every publish runs in its PRODUCER span, whose trace context travels in the message's headers. */
  private send(
    exchange: ExchangeKey,
    routingKey: string,
    body: Buffer,
    properties: Options.Publish,
    ids: { type: string; messageId: string; correlationId: string; tenantId: string },
    options: PublishOptions,
  ): Promise<void> {
    const facts = {
      exchange: this.exchangeName(exchange),
      routingKey,
      bodySize: body.length,
      server: this.connection.broker,
      ...ids,
    };
    return tracePublish(facts, (traceHeaders) => {
      const traced = { ...properties, headers: { ...properties.headers, ...traceHeaders } };
      return this.confirmedPublish(exchange, routingKey, body, traced, ids, options);
    });
  }

  private async confirmedPublish(
    exchange: ExchangeKey,
    routingKey: string,
    body: Buffer,
    properties: Options.Publish,
    ids: { type: string; messageId: string; correlationId: string; tenantId: string },
    options: PublishOptions,
  ) {
    const exchangeName = this.exchangeName(exchange);
    assertRoutingKey(routingKey, false);
    const log = { exchange: exchangeName, routingKey, ...ids };
    if (this.closed || this.connection.isClosing()) {
      throw new MessagingError('MESSAGING.CLOSED', 'publisher is closed', log);
    }
    if (this.pending >= this.connection.options.maxPendingPublishes) {
      this.connection.logger.error(log, 'publish refused: too many pending publishes');
      throw new MessagingError(
        'MESSAGING.BUFFER_FULL',
        `${this.pending} publishes already pending (broker ${this.connection.isConnected() ? 'slow' : 'unreachable'})`,
        log,
      );
    }
    const timeoutMs = options.timeoutMs ?? this.connection.options.publishTimeoutMs;
    const deadline = Date.now() + timeoutMs;
    const amqpOptions = { ...properties, mandatory: options.mandatory ?? true };
    this.pending += 1;
    try {
      for (;;) {
        try {
          await this.channel.wrapper.publish(exchangeName, routingKey, body, {
            ...amqpOptions,
            timeout: Math.max(1, deadline - Date.now()),
          });
          break;
        } catch (error) {
          // amqp-connection-manager fails unconfirmed messages when the connection drops under them instead
          // of queueing them for the next connection: send again (at least once; consumers dedupe).
          const lostWithChannel = errorMessage(error) === 'channel closed';
          if (lostWithChannel && Date.now() < deadline && !this.closed) {
            this.connection.logger.warn(log, 'publish unconfirmed when the channel closed, sending again');
            continue;
          }
          throw error;
        }
      }
    } catch (error) {
      const typed = this.toError(error, timeoutMs, log);
      this.connection.logger.error({ ...log, code: typed.code }, 'publish failed');
      throw typed;
    } finally {
      this.pending -= 1;
      if (this.pending === 0) this.notifyIdle();
    }
    const returns = this.returned.get(ids.messageId);
    if (returns !== undefined) {
      if (returns <= 1) this.returned.delete(ids.messageId);
      else this.returned.set(ids.messageId, returns - 1);
      this.connection.logger.error(log, 'publish returned: no queue bound for routing key');
      throw new MessagingError(
        'MESSAGING.UNROUTABLE',
        `no queue bound to ${exchangeName} for ${routingKey}`,
        log,
      );
    }
    this.connection.logger.debug(log, 'published');
  }

  private ids(message: Message) {
    return {
      messageId: message.metadata.messageId,
      correlationId: message.metadata.correlationId,
      tenantId: message.metadata.tenantId,
    };
  }

  private toError(error: unknown, timeoutMs: number, log: Record<string, string>): MessagingError {
    if (error instanceof MessagingError) return error;
    const message = errorMessage(error);
    if (message === 'timeout') {
      return new MessagingError(
        'MESSAGING.PUBLISH_TIMEOUT',
        `not confirmed within ${timeoutMs} ms (broker ${this.connection.isConnected() ? 'slow' : 'unreachable'})`,
        log,
      );
    }
    if (message === 'Channel closed') return new MessagingError('MESSAGING.CLOSED', 'publisher closed', log);
    return new MessagingError('MESSAGING.PUBLISH_NACKED', `broker refused the message: ${message}`, log);
  }

  private notifyIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const wake of waiters) wake();
  }

  /** Stops accepting publishes and waits (bounded) for the pending ones to settle. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.pending === 0) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, this.connection.options.shutdownTimeoutMs);
      timer.unref();
      this.idleWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
