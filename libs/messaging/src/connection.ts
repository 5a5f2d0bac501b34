import { AmqpConnectionManagerClass } from 'amqp-connection-manager';
import type { AmqpConnectionManager, ChannelWrapper } from 'amqp-connection-manager';
import type { ConfirmChannel } from 'amqplib';
import pino, { Logger } from 'pino';
import { errorMessage, MessagingError } from './errors';
import { MessagingOptions, redactUrl, ResolvedMessagingOptions, resolveOptions } from './options';
import { brokerEndpoint, type BrokerEndpoint } from './trace-spans';

/**
 * Why not `@nestjs/microservices`' RMQ transport: it acknowledges automatically unless `noAck: false`, has no
 * retry, dead-letter or parking abstraction, wraps payloads in its own `{ pattern, data }` shape instead of
 * our `{ type, data, metadata }` envelope, publishes without `mandatory` (unroutable commands are confirmed
 * and lost), and an unmatched pattern with manual acks stalls the consumer once prefetch fills. This module
 * keeps amqp-connection-manager for reconnects and owns confirms, returns, retry/park and shutdown.
 */

export interface ChannelHealth {
  name: string;
  open: boolean;
}

export interface MessagingHealth {
  connected: boolean;
  channels: ChannelHealth[];
}

/** A channel re-created and re-set-up (topology, consumers) on every reconnect. */
export interface ManagedChannel {
  readonly name: string;
  readonly wrapper: ChannelWrapper;
  /** The live amqplib channel, if any; deliveries must be acked on the channel they came from. */
  current(): ConfirmChannel | undefined;
  isOpen(): boolean;
  /** Closes the channel for good: no recovery, no longer part of health. */
  close(): Promise<void>;
}

type Stopper = () => Promise<void>;

/**
 * Delay before forcing a reconnect when the server closed a channel but kept the connection, doubled for each
 * reconnect the channel forced in a row (a declaration the server keeps refusing would otherwise tear the
 * connection down, and every other channel on it, five times a second), up to the maximum.
 */
const CHANNEL_RECOVERY_DELAY_MS = 200;
const CHANNEL_RECOVERY_MAX_DELAY_MS = 30_000;
/** A channel that stayed open this long was healthy: its next closure starts the backoff again. */
const CHANNEL_HEALTHY_AFTER_MS = 30_000;

export class MessagingConnection {
  readonly options: ResolvedMessagingOptions;
  readonly logger: Logger;
  /** Host and port of the broker (no credentials), for the spans' `server.address` and `server.port`. */
  readonly broker: BrokerEndpoint | undefined;
  private readonly manager: AmqpConnectionManager;
  private channels: Array<ManagedChannel & { setCurrent(channel: ConfirmChannel | undefined): void }> = [];
  private readonly stoppers: Stopper[] = [];
  private closing = false;
  private closed?: Promise<void>;

  constructor(options: MessagingOptions) {
    this.options = resolveOptions(options);
    this.broker = brokerEndpoint(this.options.url);
    this.logger = (this.options.logger ?? pino({ name: 'messaging' })).child({
      component: 'messaging',
      connectionName: this.options.connectionName,
    });
    this.manager = new AmqpConnectionManagerClass(this.options.url, {
      heartbeatIntervalInSeconds: this.options.heartbeatSeconds,
      reconnectTimeInSeconds: this.options.reconnectSeconds,
      connectionOptions: {
        timeout: 10_000,
        clientProperties: { connection_name: this.options.connectionName },
      },
    });
    const url = redactUrl(this.options.url);
    this.manager.on('connect', () => this.logger.info({ url }, 'amqp connected'));
    this.manager.on('disconnect', ({ err }) =>
      this.logger.warn({ url, err: err?.message }, 'amqp disconnected, reconnecting'),
    );
    this.manager.on('connectFailed', ({ err }) =>
      this.logger.warn({ url, err: err.message }, 'amqp connect failed'),
    );
    this.manager.on('blocked', ({ reason }) =>
      this.logger.warn({ reason }, 'amqp connection blocked by broker'),
    );
    this.manager.on('unblocked', () => this.logger.info('amqp connection unblocked'));
  }

  /** Resolves once connected; keeps reconnecting in the background if it times out. */
  async connect(timeoutMs = 15_000): Promise<void> {
    try {
      await this.manager.connect({ timeout: timeoutMs });
    } catch (error) {
      const message = errorMessage(error);
      throw new MessagingError(
        'MESSAGING.CONNECT_TIMEOUT',
        `could not connect to ${redactUrl(this.options.url)} within ${timeoutMs} ms: ${message}`,
      );
    }
  }

  isConnected(): boolean {
    return this.manager.isConnected();
  }

  isClosing(): boolean {
    return this.closing;
  }

  health(): MessagingHealth {
    return {
      connected: this.isConnected(),
      channels: this.channels.map((channel) => ({ name: channel.name, open: channel.isOpen() })),
    };
  }

  /** Ready for /ready: connected and every channel open. */
  isHealthy(): boolean {
    const health = this.health();
    return health.connected && health.channels.every((channel) => channel.open);
  }

  createChannel(name: string, setup: (channel: ConfirmChannel) => Promise<void>): ManagedChannel {
    let current: ConfirmChannel | undefined;
    let retired = false;
    /** Reconnects this channel forced since it was last healthy, and when it last finished its setup. */
    const recovery = { forced: 0, openedAt: undefined as number | undefined };
    const logger = this.logger;
    const managed = {
      name,
      wrapper: undefined as unknown as ChannelWrapper,
      current: () => current,
      isOpen: () => current !== undefined,
      setCurrent: (channel: ConfirmChannel | undefined) => {
        current = channel;
      },
      close: async () => {
        retired = true;
        this.channels = this.channels.filter((channel) => channel !== managed);
        await managed.wrapper.close().catch(() => undefined);
        current = undefined;
      },
    };
    managed.wrapper = this.manager.createChannel({
      name,
      confirm: true,
      setup: async (channel: ConfirmChannel) => {
        channel.on('error', (err: Error) =>
          logger.warn({ channel: name, err: err.message }, 'amqp channel error'),
        );
        channel.on('close', () => {
          if (current === channel) current = undefined;
          if (recovery.openedAt !== undefined && Date.now() - recovery.openedAt >= CHANNEL_HEALTHY_AFTER_MS)
            recovery.forced = 0;
          recovery.openedAt = undefined;
          if (!retired) this.recoverChannel(name, managed, recovery);
        });
        await setup(channel);
        current = channel;
        recovery.openedAt = Date.now();
      },
    });
    managed.wrapper.on('error', (err: Error) =>
      logger.error({ channel: name, err: err.message }, 'amqp channel setup failed'),
    );
    this.channels.push(managed);
    return managed;
  }

  /**
   * amqp-connection-manager re-opens channels only on reconnect, so a channel the server closed on a live
   * connection (e.g. a precondition failure) would stay dead and publishes would wait for nothing: force one.
   */
  private recoverChannel(name: string, managed: ManagedChannel, recovery: { forced: number }): void {
    // Only reconnects this channel forced count: a closure from a dropped connection, or from a reconnect
    // another channel forced, says nothing about this one.
    const delayMs = Math.min(
      CHANNEL_RECOVERY_MAX_DELAY_MS,
      CHANNEL_RECOVERY_DELAY_MS * 2 ** Math.min(recovery.forced, 16),
    );
    setTimeout(() => {
      if (this.closing || managed.isOpen() || !this.manager.isConnected()) return;
      recovery.forced += 1;
      this.logger.error(
        { channel: name, forced: recovery.forced, delayMs },
        'amqp channel closed by the server on a live connection, reconnecting',
      );
      try {
        this.manager.reconnect();
      } catch (error) {
        this.logger.warn({ err: errorMessage(error) }, 'reconnect failed');
      }
    }, delayMs).unref();
  }

  /** Consumers and publishers register how to stop; `close` runs them before closing channels. */
  onClose(stopper: Stopper): void {
    this.stoppers.push(stopper);
  }

  close(): Promise<void> {
    this.closed ??= this.doClose();
    return this.closed;
  }

  private async doClose(): Promise<void> {
    this.closing = true;
    await Promise.all(
      this.stoppers.map((stop) =>
        stop().catch((error: unknown) => this.logger.warn({ err: errorMessage(error) }, 'stop failed')),
      ),
    );
    await this.manager.close();
    for (const channel of this.channels) channel.setCurrent(undefined);
    this.logger.info('amqp connection closed');
  }
}
