import { commandHandlersOf, type CommandHandlers } from '@app/platform';
import { BackupDatabasesHandler } from './backup-databases.handler';
import type { DatabaseHandlerDeps } from './deps';
import { ProvisionDatabasesHandler } from './provision-databases.handler';
import { RemoveDatabasesHandler } from './remove-databases.handler';
import { UpdateDatabaseLimitsHandler } from './update-database-limits.handler';
import { VerifyDatabaseBackupHandler } from './verify-database-backup.handler';
import { VerifyDatabasesHandler } from './verify-databases.handler';

export type { DatabaseHandlerDeps } from './deps';

/** The database-service's command handlers: one `@MessagePattern` class per command it owns. */
export const DATABASE_COMMAND_HANDLERS = [
  ProvisionDatabasesHandler,
  UpdateDatabaseLimitsHandler,
  VerifyDatabasesHandler,
  BackupDatabasesHandler,
  VerifyDatabaseBackupHandler,
  RemoveDatabasesHandler,
] as const;

/** The same handlers as plain command functions over `deps`, for tests that drive them without the broker. */
export function createHandlers(deps: DatabaseHandlerDeps): CommandHandlers {
  return commandHandlersOf(
    'database',
    DATABASE_COMMAND_HANDLERS.map((Handler) => new Handler(deps)),
  );
}
