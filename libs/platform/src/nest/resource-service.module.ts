import type { EventStore } from '@app/event-store';
import type { MessageConsumer, MessagingConnection } from '@app/messaging';
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
import { startResourceService } from '../resource-service';
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
 * Starts consuming the service's queue once everything is wired, then serves health; on shutdown drains the
 * in-flight commands first, then closes what they used, in that order: runtime (its adapters), broker
 * connection, event store, health endpoint.
 */
@Injectable()
export class ResourceServiceLifecycle
  implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown
{
  private readonly name: string;

  constructor(
    @Inject(RESOURCE_SERVICE) private readonly settings: ResourceServiceSettings,
    @Inject(CONFIG) private readonly config: BaseConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(EVENT_STORE) private readonly eventStore: EventStore,
    @Inject(MESSAGING_CONNECTION) private readonly connection: MessagingConnection,
    @Inject(MESSAGE_CONSUMER) private readonly consumer: MessageConsumer,
    @Inject(SERVICE_RUNTIME) private readonly runtime: ServiceRuntime,
    private readonly metrics: ResourceServiceMetrics,
    private readonly health: HealthServer,
  ) {
    this.name = `${settings.service}-service`;
  }

  async onApplicationBootstrap(): Promise<void> {
    await startResourceService({
      service: this.settings.service,
      handlers: this.metrics.instrument(this.runtime.handlers),
      eventStore: this.eventStore,
      consumer: this.consumer,
      logger: this.logger,
      prefetch: this.config.COMMAND_PREFETCH,
      faults: this.settings.faults,
    });
    const healthPort = await this.health.start(
      async () => (await this.runtime.ready()) && this.connection.isHealthy() && this.consumer.isHealthy(),
      this.metrics.registry,
    );
    this.logger.info({ healthPort }, `${this.name} started`);
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.logger.info(`${this.name} stopping`);
    await this.consumer.stop();
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
 * service's own runtime (its adapters and command handlers), metrics and health, each a provider by token.
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
        ResourceServiceLifecycle,
      ],
    };
  }
}
