import type { EventStore } from '@app/event-store';
import type { Provider, Type } from '@nestjs/common';
import type { Logger } from 'pino';
import type { TenantReadModel } from '../tenants/tenant-read-model';
import { ConsoleApiController } from './console-api.controller';
import type { ConsoleConfig } from './console.config';
import { ConsolePageController } from './console-page.controller';
import { ConsoleQueries } from './console.service';
import { TenantStreams } from './tenant-streams';

export const CONSOLE_CONTROLLERS: Type[] = [ConsolePageController, ConsoleApiController];

/**
 * The console's providers, registered in the app module beside the controllers above (they share its
 * `ApiTokenGuard` and configuration, so a separate Nest module would only re-export them).
 */
export function consoleProviders(deps: {
  config: ConsoleConfig;
  eventStore: EventStore;
  readModel: TenantReadModel;
  logger: Logger;
}): Provider[] {
  const queries = new ConsoleQueries(deps.eventStore, deps.readModel, deps.config);
  return [
    { provide: ConsoleQueries, useValue: queries },
    {
      provide: TenantStreams,
      useFactory: () =>
        new TenantStreams(deps.eventStore, {
          pollMs: deps.config.CONSOLE_STREAM_POLL_MS,
          logger: deps.logger.child({ component: 'console-stream' }),
          view: (summary) => queries.tenantView(summary),
        }),
    },
  ];
}
