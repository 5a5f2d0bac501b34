import { createEventStore, type EventStore } from '@app/event-store';
import { Module, type DynamicModule } from '@nestjs/common';
import type { Logger } from 'pino';
import type { BaseConfig } from './definitions';
import { CONFIG, EVENT_STORE, LOGGER } from './tokens';

/**
 * The event store chosen by EVENTSTORE_URL, opened (and, for PostgreSQL, migrated) while the context is
 * created. The app's lifecycle closes it, last, once nothing that appends to it still runs.
 */
@Module({})
export class EventStoreModule {
  static forRoot(options: { applicationName: string }): DynamicModule {
    return {
      module: EventStoreModule,
      global: true,
      providers: [
        {
          provide: EVENT_STORE,
          inject: [CONFIG, LOGGER],
          useFactory: (config: BaseConfig, logger: Logger): Promise<EventStore> =>
            createEventStore(config.EVENTSTORE_URL, {
              schema: config.EVENTSTORE_SCHEMA,
              applicationName: options.applicationName,
              poolSize: config.EVENTSTORE_POOL_SIZE,
              startupTimeoutMs: config.STARTUP_TIMEOUT_SECONDS * 1000,
              connectTimeoutMs: config.EVENTSTORE_CONNECT_TIMEOUT_MS,
              statementTimeoutMs: config.EVENTSTORE_STATEMENT_TIMEOUT_MS,
              logger,
            }),
        },
      ],
      exports: [EVENT_STORE],
    };
  }
}
