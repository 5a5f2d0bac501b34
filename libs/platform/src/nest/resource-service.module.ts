import type { EventStore } from '@app/event-store';
import type { MessageConsumer, MessagingConnection } from '@app/messaging';
import { APP_FILTER } from '@nestjs/core';
import {
  Inject,
  Injectable,
  Module,
  type BeforeApplicationShutdown,
  type DynamicModule,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { Logger } from 'pino';
import type { z } from 'zod';
import type { FaultRule } from '../fault-injection';
import { ResourceServiceMetrics } from '../metrics';
import { RethrowRpcErrors } from './command-handlers';
import { CommandTransport } from './command-transport';
import { PlatformConfigModule } from './config.module';
import {
  drainTimeoutMs,
  type BaseConfig,
  type ResourceServiceDefinition,
  type ServiceRuntime,
} from './definitions';
import { EventStoreModule } from './event-store.module';
import { HealthModule, HealthServer } from './health.module';
import { MessagingModule } from './messaging.module';
import { ShutdownModule } from './shutdown.module';
import {
  CONFIG,
  EVENT_STORE,
  HANDLER_DEPS,
  LOGGER,
  MESSAGE_CONSUMER,
  MESSAGING_CONNECTION,
  SERVICE_RUNTIME,
} from './tokens';

/** Which service this process is, and its test-only injected failures. */
export const RESOURCE_SERVICE = Symbol('RESOURCE_SERVICE');
export interface ResourceServiceSettings {
  service: ResourceServiceDefinition<z.ZodType>['service'];
  faults: readonly FaultRule[];
}

/**
 * Serves health once everything is wired (the transport starts consuming right after, when the microservice
 * listens; `/ready` answers 503 until it does); on shutdown drains the in-flight commands first, then closes
 * what they used, in that order: runtime (its adapters), broker connection, event store, health endpoint.
 */
@Injectable()
export class ResourceServiceLifecycle
  implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown
{
  private readonly name: string;

  constructor(
    @Inject(RESOURCE_SERVICE) settings: ResourceServiceSettings,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(EVENT_STORE) private readonly eventStore: EventStore,
    @Inject(MESSAGING_CONNECTION) private readonly connection: MessagingConnection,
    @Inject(MESSAGE_CONSUMER) private readonly consumer: MessageConsumer,
    @Inject(SERVICE_RUNTIME) private readonly runtime: ServiceRuntime,
    private readonly transport: CommandTransport,
    private readonly metrics: ResourceServiceMetrics,
    private readonly health: HealthServer,
  ) {
    this.name = `${settings.service}-service`;
  }

  async onApplicationBootstrap(): Promise<void> {
    const healthPort = await this.health.start(
      async () =>
        this.transport.listening &&
        (await this.runtime.ready()) &&
        this.connection.isHealthy() &&
        this.consumer.isHealthy(),
      this.metrics.registry,
    );
    this.logger.info({ healthPort }, `${this.name} started`);
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.logger.info(`${this.name} stopping`);
    await this.transport.close();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.runtime.close();
    await this.connection.close();
    await this.eventStore.close();
    await this.health.close();
    this.logger.info(`${this.name} stopped`);
  }
}

/**
 * The root module of a resource service: configuration, event store, broker connection and consumer, the
 * service's own runtime (its adapters, handed to its command handler classes under `HANDLER_DEPS`), the command
 * transport, metrics and health, each a provider by token. Started with `NestFactory.createMicroservice`
 * (`createResourceServiceApp`), whose microservice module registers the handlers' `@MessagePattern`s with
 * the transport.
 */
@Module({})
export class ResourceServiceModule {
  static forRoot<S extends z.ZodType>(
    definition: ResourceServiceDefinition<S>,
    config: z.infer<S> & BaseConfig,
    options: { logger: Logger; faults: readonly FaultRule[] },
  ): DynamicModule {
    const name = `${definition.service}-service`;
    return {
      module: ResourceServiceModule,
      imports: [
        PlatformConfigModule.forRoot(config, options.logger),
        EventStoreModule.forRoot({ applicationName: name }),
        MessagingModule.forRoot({
          name,
          consumer: true,
          settings: (c) => ({
            prefetch: c.COMMAND_PREFETCH,
            retry: { maxAttempts: c.COMMAND_MAX_ATTEMPTS, initialDelayMs: c.COMMAND_RETRY_INITIAL_MS },
            handlerTimeoutMs: c.COMMAND_HANDLER_TIMEOUT_SECONDS * 1000,
            shutdownTimeoutMs: drainTimeoutMs(c.SHUTDOWN_TIMEOUT_SECONDS),
          }),
        }),
        HealthModule,
        ShutdownModule,
      ],
      providers: [
        { provide: RESOURCE_SERVICE, useValue: { service: definition.service, faults: options.faults } },
        {
          provide: ResourceServiceMetrics,
          inject: [EVENT_STORE, MESSAGE_CONSUMER],
          useFactory: (eventStore: EventStore, consumer: MessageConsumer) => {
            const metrics = new ResourceServiceMetrics(name, eventStore);
            consumer.observe(metrics.consumerObserver);
            return metrics;
          },
        },
        {
          provide: SERVICE_RUNTIME,
          // After the broker connection, as before: the runtime's adapters are opened only once the process
          // can consume.
          inject: [CONFIG, LOGGER, MESSAGING_CONNECTION],
          useFactory: (c: z.infer<S> & BaseConfig, logger: Logger) => definition.createRuntime(c, logger),
        },
        { provide: HANDLER_DEPS, inject: [SERVICE_RUNTIME], useFactory: (r: ServiceRuntime) => r.deps },
        { provide: APP_FILTER, useClass: RethrowRpcErrors },
        {
          provide: CommandTransport,
          inject: [CONFIG, LOGGER, EVENT_STORE, MESSAGE_CONSUMER, ResourceServiceMetrics],
          useFactory: (
            c: BaseConfig,
            logger: Logger,
            eventStore: EventStore,
            consumer: MessageConsumer,
            metrics: ResourceServiceMetrics,
          ) =>
            new CommandTransport({
              service: definition.service,
              eventStore,
              consumer,
              logger,
              prefetch: c.COMMAND_PREFETCH,
              faults: options.faults,
              instrument: (handlers) => metrics.instrument(handlers),
            }),
        },
        ResourceServiceLifecycle,
      ],
      controllers: [...(definition.commandHandlers ?? [])],
    };
  }
}
