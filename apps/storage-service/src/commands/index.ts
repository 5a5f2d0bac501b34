import { commandHandlersOf, type CommandHandlers } from '@app/platform';
import { BackupStorageHandler } from './backup-storage.handler';
import type { StorageHandlerDeps } from './deps';
import { ProvisionStorageHandler } from './provision-storage.handler';
import { RemoveStorageHandler } from './remove-storage.handler';
import { UpdateStorageQuotaHandler } from './update-storage-quota.handler';
import { VerifyStorageBackupHandler } from './verify-storage-backup.handler';
import { VerifyStorageHandler } from './verify-storage.handler';

export type { StorageHandlerDeps } from './deps';

/** The storage-service's command handlers: one `@MessagePattern` class per command it owns. */
export const STORAGE_COMMAND_HANDLERS = [
  ProvisionStorageHandler,
  UpdateStorageQuotaHandler,
  VerifyStorageHandler,
  RemoveStorageHandler,
  BackupStorageHandler,
  VerifyStorageBackupHandler,
] as const;

/** The same handlers as plain command functions over `deps`, for tests that drive them without the broker. */
export function createHandlers(deps: StorageHandlerDeps): CommandHandlers {
  return commandHandlersOf(
    'storage',
    STORAGE_COMMAND_HANDLERS.map((Handler) => new Handler(deps)),
  );
}
