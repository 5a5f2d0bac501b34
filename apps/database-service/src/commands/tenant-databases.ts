import { randomBytes } from 'node:crypto';
import { ContractError, tenantLimits, type CommandMessage, type Tier } from '@app/contracts';
import { permanent } from '@app/platform';
import { withSecretStore } from '@app/secrets';
import type { DatabaseAdmin } from '../adapters/database-admin';
import { tenantDatabases, type ServiceDatabase, userConnectionLimitSql } from '@app/plans';

/** What every database the service creates is, and what verification checks. */
export const CHARSET = 'utf8mb4';
export const COLLATION = 'utf8mb4_unicode_ci';

export function generateDatabasePassword(): string {
  return randomBytes(24).toString('base64url');
}

/** Names derived from the command's tenant; every identifier is validated here, before any SQL. */
export function planFor(command: CommandMessage): ServiceDatabase[] {
  try {
    return tenantDatabases(command.data.tenant.tenantId);
  } catch (error) {
    if (error instanceof ContractError) {
      throw permanent('DATABASE.INVALID_TENANT_ID', error.message);
    }
    throw error;
  }
}

/** One secret-store call, classified by `@app/secrets` for every service alike. */
export function secretCall<T>(action: string, path: string, run: () => Promise<T>): Promise<T> {
  return withSecretStore('DATABASE', action, path, run);
}

/** The tier's MAX_USER_CONNECTIONS on every service account of the plan (ALTER USER: safe to repeat). */
export async function applyConnectionLimits(
  admin: DatabaseAdmin,
  plan: ServiceDatabase[],
  tier: Tier,
): Promise<number> {
  const max = tenantLimits(tier).database.maxUserConnections;
  await Promise.all(
    plan.map((entry) => admin.run(userConnectionLimitSql(entry.user, max), 'grant', entry.user)),
  );
  return max;
}
