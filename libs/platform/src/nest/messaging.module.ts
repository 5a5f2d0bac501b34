import { hostname } from 'node:os';
import { MessageConsumer, MessagingConnection, type MessagingOptions } from '@app/messaging';
import { Module, type DynamicModule } from '@nestjs/common';
import type { Logger } from 'pino';
import { brokerConnectTimeoutMs, type BaseConfig } from './definitions';
import { CONFIG, EVENT_STORE, LOGGER, MESSAGE_CONSUMER, MESSAGING_CONNECTION } from './tokens';

export interface MessagingModuleOptions {
  /** Prefix of the client-provided connection name (`<name>.<host>.<pid>`) the management API shows. */
  name: string;
  /** Connection settings read from the app's configuration (prefetch, retries, timeouts). */
  settings?: (
    config: BaseConfig,
  ) => Omit<MessagingOptions, 'url' | 'connectionName' | 'queuePrefix' | 'logger'>;
  /** Provide a MESSAGE_CONSUMER too (a process that only publishes needs none). */
  consumer?: boolean;
}

/**
 * The RabbitMQ connection, connected while the context is created (retrying up to STARTUP_TIMEOUT_SECONDS),
 * and, if asked, a consumer on it. The app's lifecycle starts the consumer once everything is wired and closes
 * both.
 */
@Module({})
export class MessagingModule {
  static forRoot(options: MessagingModuleOptions): DynamicModule {
    return {
      module: MessagingModule,
      global: true,
      providers: [
        {
          provide: MESSAGING_CONNECTION,
          // The event store comes first: a process whose store is unreachable exits without ever having held
          // a broker connection.
          inject: [CONFIG, LOGGER, EVENT_STORE],
          useFactory: async (config: BaseConfig, logger: Logger): Promise<MessagingConnection> => {
            const connection = new MessagingConnection({
              url: config.AMQP_URL,
              connectionName: `${options.name}.${hostname()}.${process.pid}`,
              queuePrefix: config.QUEUE_PREFIX,
              ...options.settings?.(config),
              logger,
            });
            await connection.connect(brokerConnectTimeoutMs(config.STARTUP_TIMEOUT_SECONDS));
            return connection;
          },
        },
        ...(options.consumer
          ? [
              {
                provide: MESSAGE_CONSUMER,
                inject: [MESSAGING_CONNECTION],
                useFactory: (connection: MessagingConnection) => new MessageConsumer(connection),
              },
            ]
          : []),
      ],
      exports: options.consumer ? [MESSAGING_CONNECTION, MESSAGE_CONSUMER] : [MESSAGING_CONNECTION],
    };
  }
}
