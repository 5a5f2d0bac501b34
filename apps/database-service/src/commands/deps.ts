import type { BackupTarget } from '@app/archive';
import type { SecretStore } from '@app/secrets';
import type { DatabaseAdmin } from '../adapters/database-admin';

/** What the database-service's command handlers are constructed with (the `HANDLER_DEPS` provider). */
export interface DatabaseHandlerDeps {
  admin: DatabaseAdmin;
  secrets: SecretStore;
  backups: BackupTarget;
  /** Host/port written into the credentials secret (what tenant pods connect to). */
  secretHost: string;
  secretPort: number;
  /** Run the spec's FLUSH PRIVILEGES after the accounts (MYSQL_FLUSH_PRIVILEGES; default true). */
  flushPrivileges?: boolean;
  /** Defaults to 24 random bytes as base64url (32 characters); injectable for tests. */
  generatePassword?: () => string;
  /** The tenant admin's temporary password; defaults to `generateTemporaryPassword` over crypto bytes. */
  generateAdminPassword?: () => string;
}
