import { randomUUID } from 'node:crypto';
import type { ConfirmChannel, ConsumeMessage } from 'amqplib';
import type { Logger } from 'pino';
import type { ManagedChannel, MessagingConnection } from './connection';
import { copyOptions, headerString, PUBLISH_ID_HEADER } from './delivery';
import { errorMessage } from './errors';
import type { RetryPolicy } from './options';
import type { Subscription } from './subscription';
import { applyTopology, exchangeTopology, mergeTopologies, queueTopology } from './topology';

/**
 * The AMQP side of one consumed queue: a managed confirm channel that declares the queue's topology (its
 * bindings, retry and parking queues) and consumes on every (re)connect, settles each delivery on the channel it came on, and copies deliveries into
 * the queue's retry and parking queues with publisher confirms.
 */
export class ConsumerChannel {
  private readonly channel: ManagedChannel;
  private readonly consumerTags = new Map<ConfirmChannel, string>();
  /** Publish ids of the copies the broker returned as unroutable; the return precedes the confirm. */
  private readonly returned = new Set<string>();
  private cancelled = false;

  constructor(
    connection: MessagingConnection,
    queue: string,
    subscription: Subscription,
    retry: RetryPolicy,
    onDelivery: (channel: ConfirmChannel, msg: ConsumeMessage | null) => void,
    private readonly logger: Logger,
  ) {
    const options = connection.options;
    const topology = mergeTopologies(
      exchangeTopology(options.exchanges),
      queueTopology({
        queue,
        bindings: subscription.bindings.map((b) => ({
          exchange: options.exchanges[b.exchange],
          routingKey: b.routingKey,
        })),
        retry,
        queueType: options.queueType,
        deliveryLimit: options.maxRedeliveries + 5,
      }),
    );
    const prefetch = subscription.prefetch ?? options.prefetch;
    this.channel = connection.createChannel(`consumer:${queue}`, async (channel) => {
      channel.on('return', (returned: ConsumeMessage) => {
        const id = headerString(returned.properties.headers, PUBLISH_ID_HEADER);
        if (id !== undefined) this.returned.add(id);
      });
      await applyTopology(channel, topology);
      if (this.cancelled) return;
      await channel.prefetch(prefetch);
      const { consumerTag } = await channel.consume(queue, (msg) => onDelivery(channel, msg), {
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

  /** Settles on the delivery's own channel; if that channel is gone the broker redelivers, so skip. */
  settle(channel: ConfirmChannel, msg: ConsumeMessage, how: 'ack' | 'nack'): boolean {
    if (this.channel.current() !== channel) return false;
    try {
      if (how === 'ack') channel.ack(msg);
      else channel.nack(msg, false, true);
      return true;
    } catch {
      return false;
    }
  }

  /** Confirmed copy of the delivery into one of this queue's own queues, through the default exchange. */
  republish(
    channel: ConfirmChannel,
    msg: ConsumeMessage,
    queue: string,
    extraHeaders: Record<string, string | number>,
  ): Promise<boolean> {
    const publishId = randomUUID();
    const options = copyOptions(msg, extraHeaders, publishId);
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

  /** Stops consuming, now and on any later reconnect; deliveries in flight can still be settled. */
  async cancel(): Promise<void> {
    this.cancelled = true;
    await Promise.all(
      [...this.consumerTags].map(([channel, tag]) => channel.cancel(tag).catch(() => undefined)),
    );
  }

  close(): Promise<void> {
    return this.channel.close();
  }
}
