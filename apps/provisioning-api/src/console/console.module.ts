import { EVENT_STORE, type EventStore } from '@app/event-store';
import type { Provider, Type } from '@nestjs/common';
import type { Logger } from 'pino';
import { ConsoleApiController } from './console-api.controller';
import type { ConsoleConfig } from './console.config';
import { ConsolePageController } from './console-page.controller';
import { ListTenantsNeedingAttentionHandler } from './list-tenants-needing-attention.handler';
import { RolloutsConsoleController } from './rollouts-console.controller';
import { SloConsoleController } from './slo-console.controller';
import { TenantStreams } from './tenant-streams';
import { VerifyTenantAuditHandler } from './verify-tenant-audit.handler';
import { consoleTenantView } from './views';

export const CONSOLE_CONTROLLERS: Type[] = [
  ConsolePageController,
  ConsoleApiController,
  SloConsoleController,
  RolloutsConsoleController,
];

/**
 * The console's providers, registered in the app module beside the controllers above (they share its
 * `ApiTokenGuard` and configuration, so a separate Nest module would only re-export them): its two query
 * handlers and the live tenant streams.
 */
export function consoleProviders(deps: { config: ConsoleConfig; logger: Logger }): Provider[] {
  return [
    ListTenantsNeedingAttentionHandler,
    VerifyTenantAuditHandler,
    {
      provide: TenantStreams,
      inject: [EVENT_STORE],
      useFactory: (eventStore: EventStore) =>
        new TenantStreams(eventStore, {
          pollMs: deps.config.CONSOLE_STREAM_POLL_MS,
          logger: deps.logger.child({ component: 'console-stream' }),
          view: (summary) => consoleTenantView(summary, deps.config.GRAFANA_PUBLIC_URL),
        }),
    },
  ];
}
