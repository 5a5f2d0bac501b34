import {
  Global,
  Inject,
  Injectable,
  Module,
  type DynamicModule,
  type InjectionToken,
  type ModuleMetadata,
  type OnApplicationShutdown,
  type OptionalFactoryDependency,
} from '@nestjs/common';
import { createEventStore, type CreateEventStoreOptions } from '../factory';
import { EVENT_STORE, type EventStore } from '../types';

export interface EventStoreModuleOptions extends CreateEventStoreOptions {
  url: string;
}

export interface EventStoreModuleAsyncOptions {
  imports?: ModuleMetadata['imports'];
  inject?: (InjectionToken | OptionalFactoryDependency)[];
  useFactory: (...args: never[]) => EventStoreModuleOptions | Promise<EventStoreModuleOptions>;
}

const EVENT_STORE_OPTIONS = Symbol('EVENT_STORE_OPTIONS');

/** Closes the store's connections when Nest shuts down (requires `app.enableShutdownHooks()` for signals). */
@Injectable()
class EventStoreCloser implements OnApplicationShutdown {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
  }
}

@Global()
@Module({})
export class EventStoreModule {
  static forRoot(options: EventStoreModuleOptions): DynamicModule {
    return EventStoreModule.forRootAsync({ useFactory: () => options });
  }

  static forRootAsync(options: EventStoreModuleAsyncOptions): DynamicModule {
    return {
      module: EventStoreModule,
      imports: options.imports ?? [],
      providers: [
        { provide: EVENT_STORE_OPTIONS, useFactory: options.useFactory, inject: options.inject ?? [] },
        {
          provide: EVENT_STORE,
          useFactory: ({ url, ...rest }: EventStoreModuleOptions) => createEventStore(url, rest),
          inject: [EVENT_STORE_OPTIONS],
        },
        EventStoreCloser,
      ],
      exports: [EVENT_STORE],
    };
  }
}
