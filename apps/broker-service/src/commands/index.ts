import { commandHandlersOf, type CommandHandlers } from '@app/platform';
import type { BrokerHandlerDeps } from './deps';
import { ProvisionBrokerHandler } from './provision-broker.handler';
import { RemoveBrokerHandler } from './remove-broker.handler';
import { UpdateBrokerLimitsHandler } from './update-broker-limits.handler';
import { VerifyBrokerHandler } from './verify-broker.handler';

export type { AmqpProbe, BrokerHandlerDeps, BrokerManagement } from './deps';
export { generateBrokerPassword } from './tenant-broker';

/** The broker-service's command handlers: one `@MessagePattern` class per command it owns. */
export const BROKER_COMMAND_HANDLERS = [
  ProvisionBrokerHandler,
  UpdateBrokerLimitsHandler,
  VerifyBrokerHandler,
  RemoveBrokerHandler,
] as const;

/** The same handlers as plain command functions over `deps`, for tests that drive them without the broker. */
export function createHandlers(deps: BrokerHandlerDeps): CommandHandlers {
  return commandHandlersOf(
    'broker',
    BROKER_COMMAND_HANDLERS.map((Handler) => new Handler(deps)),
  );
}
