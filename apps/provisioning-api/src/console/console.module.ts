import { EVENT_STORE, type EventStore } from '@app/event-store';
import type { Provider, Type } from '@nestjs/common';
import type { Logger } from 'pino';
import { ConsoleApiController } from './console-api.controller';
import type { ConsoleConfig } from './console.config';
import { ConsolePageController } from './console-page.controller';
import { ListReconciliationRunsHandler } from './list-reconciliation-runs.handler';
import { ListTenantsNeedingAttentionHandler } from './list-tenants-needing-attention.handler';
import { ReconciliationConsoleController } from './reconciliation-console.controller';
import { RolloutsConsoleController } from './rollouts-console.controller';
import { SloConsoleController } from './slo-console.controller';
import { consoleTenantFrame } from './tenant-console-actions';
import { TenantStreams } from './tenant-streams';
import { VerifyTenantAuditHandler } from './verify-tenant-audit.handler';

export const CONSOLE_CONTROLLERS: Type[] = [
  ConsolePageController,
  ConsoleApiController,
  SloConsoleController,
  RolloutsConsoleController,
  ReconciliationConsoleController,
];

/**
 * The console's providers, registered in the app module beside the controllers above (they share its
 * `ApiTokenGuard` and configuration, so a separate Nest module would only re-export them): its query
 * handlers and the live tenant streams.
 */
export function consoleProviders(deps: { config: ConsoleConfig; logger: Logger }): Provider[] {
  return [
    ListTenantsNeedingAttentionHandler,
    VerifyTenantAuditHandler,
    ListReconciliationRunsHandler,
    {
      provide: TenantStreams,
      inject: [EVENT_STORE],
      useFactory: (eventStore: EventStore) =>
        new TenantStreams(eventStore, {
          pollMs: deps.config.CONSOLE_STREAM_POLL_MS,
          logger: deps.logger.child({ component: 'console-stream' }),
          view: (summary, state) => consoleTenantFrame(summary, state, deps.config.GRAFANA_PUBLIC_URL),
        }),
    },
  ];
}
