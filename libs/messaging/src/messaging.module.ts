import type { BeforeApplicationShutdown, DynamicModule, OnModuleInit, Provider } from '@nestjs/common';
import { MessagingConnection } from './connection';
import { MessageConsumer } from './consumer';
import { MessagingOptions } from './options';
import { MessagePublisher } from './publisher';

// Only type imports from @nestjs/common (ESM-only in v12): factory providers need no decorators, so this
// library loads under Jest's CommonJS runtime too, and apps' unit specs can import '@app/messaging'.

export const MESSAGING_OPTIONS = Symbol('MESSAGING_OPTIONS');

export interface MessagingModuleOptions extends MessagingOptions {
  /** Wait this long for the broker at start-up, then fail the start (default 15 s); 0 starts without waiting. */
  connectTimeoutMs?: number;
}

export interface MessagingModuleAsyncOptions {
  imports?: DynamicModule['imports'];
  inject?: Array<string | symbol | (abstract new (...args: never[]) => unknown)>;
  useFactory: (...args: never[]) => MessagingModuleOptions | Promise<MessagingModuleOptions>;
}

/** Connects at module init and closes (consumers drained first) before the application shuts down. */
export class MessagingLifecycle implements OnModuleInit, BeforeApplicationShutdown {
  constructor(
    private readonly connection: MessagingConnection,
    private readonly options: MessagingModuleOptions,
  ) {}

  async onModuleInit(): Promise<void> {
    const timeout = this.options.connectTimeoutMs ?? 15_000;
    if (timeout === 0) {
      this.connection.connect(60_000).catch(() => undefined);
      return;
    }
    await this.connection.connect(timeout);
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.connection.close();
  }
}

const sharedProviders: Provider[] = [
  {
    provide: MessagingConnection,
    useFactory: (options: MessagingModuleOptions) => new MessagingConnection(options),
    inject: [MESSAGING_OPTIONS],
  },
  {
    provide: MessagePublisher,
    useFactory: (connection: MessagingConnection) => new MessagePublisher(connection),
    inject: [MessagingConnection],
  },
  {
    provide: MessageConsumer,
    useFactory: (connection: MessagingConnection) => new MessageConsumer(connection),
    inject: [MessagingConnection],
  },
  {
    provide: MessagingLifecycle,
    useFactory: (connection: MessagingConnection, options: MessagingModuleOptions) =>
      new MessagingLifecycle(connection, options),
    inject: [MessagingConnection, MESSAGING_OPTIONS],
  },
];

/**
 * One AMQP connection per app, with a confirmed publisher and a consumer whose subscriptions the app
 * registers at bootstrap (`consumer.subscribe({ queue, bindings, handlers, onParked })`).
 */
export class MessagingModule {
  static forRoot(options: MessagingModuleOptions): DynamicModule {
    return {
      module: MessagingModule,
      global: true,
      providers: [{ provide: MESSAGING_OPTIONS, useValue: options }, ...sharedProviders],
      exports: [MessagingConnection, MessagePublisher, MessageConsumer],
    };
  }

  static forRootAsync(options: MessagingModuleAsyncOptions): DynamicModule {
    return {
      module: MessagingModule,
      global: true,
      imports: options.imports ?? [],
      providers: [
        { provide: MESSAGING_OPTIONS, useFactory: options.useFactory, inject: options.inject ?? [] },
        ...sharedProviders,
      ],
      exports: [MessagingConnection, MessagePublisher, MessageConsumer],
    };
  }
}
