import { commandHandlersOf, type CommandHandlers } from '@app/platform';
import { CreateGrafanaViewerHandler } from './create-grafana-viewer.handler';
import type { MonitoringHandlerDeps } from './deps';
import { ProvisionMonitoringHandler } from './provision-monitoring.handler';
import { RemoveGrafanaViewerHandler } from './remove-grafana-viewer.handler';
import { RemoveMonitoringHandler } from './remove-monitoring.handler';

export type { MonitoringHandlerDeps } from './deps';

/** The monitoring-service's command handlers: one `@MessagePattern` class per command it owns. */
export const MONITORING_COMMAND_HANDLERS = [
  ProvisionMonitoringHandler,
  RemoveMonitoringHandler,
  CreateGrafanaViewerHandler,
  RemoveGrafanaViewerHandler,
] as const;

/** The same handlers as plain command functions over `deps`, for tests that drive them without the broker. */
export function createHandlers(deps: MonitoringHandlerDeps): CommandHandlers {
  return commandHandlersOf(
    'monitoring',
    MONITORING_COMMAND_HANDLERS.map((Handler) => new Handler(deps)),
  );
}
