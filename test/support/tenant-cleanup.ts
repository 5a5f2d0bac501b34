import { randomUUID } from 'node:crypto';
import { buildMessage, type CommandType, type TenantProfile } from '@app/contracts';
import { loadConfig, type CommandHandler, type CommandHandlers } from '@app/platform';
import pino from 'pino';
import { configSchema as brokerConfigSchema } from '../../apps/broker-service/src/config';
import {
  createHandlers as brokerHandlers,
  createServiceRuntime as brokerRuntime,
} from '../../apps/broker-service/src';
import { configSchema as databaseConfigSchema } from '../../apps/database-service/src/config';
import {
  createHandlers as databaseHandlers,
  createServiceRuntime as databaseRuntime,
} from '../../apps/database-service/src';
import { configSchema as storageConfigSchema } from '../../apps/storage-service/src/config';
import {
  createHandlers as storageHandlers,
  createServiceRuntime as storageRuntime,
} from '../../apps/storage-service/src';
import type { LocalStack } from './local-stack';

/**
 * Removes what provisioning created on the shared servers (MariaDB databases and users, RabbitMQ vhost and
 * user, RGW buckets with every version and the IAM user) for tenants that a suite leaves active. It runs the
 * services' own removal handlers with the stack's configuration instead of a purge through the saga: the same
 * idempotent code, without the backup and the grace period a purge needs. Everything else a stack holds
 * (GitOps repository, stand-ins, PostgreSQL schemas) goes with the stack itself.
 */
export async function removeTenantResources(
  stack: LocalStack,
  tenants: readonly TenantProfile[],
): Promise<void> {
  if (tenants.length === 0) return;
  const logger = pino({ level: 'silent' });
  const envOf = (app: 'database-service' | 'broker-service' | 'storage-service') => {
    const env = stack.envs.get(app);
    if (!env) throw new Error(`${app} has no environment: was the stack started?`);
    return env;
  };
  const database = await databaseRuntime(loadConfig(databaseConfigSchema, envOf('database-service')), logger);
  const broker = await brokerRuntime(loadConfig(brokerConfigSchema, envOf('broker-service')), logger);
  const storage = await storageRuntime(loadConfig(storageConfigSchema, envOf('storage-service')), logger);
  const runtimes = [
    { command: 'RemoveDatabases', runtime: database, handlers: databaseHandlers(database.deps) },
    { command: 'RemoveBroker', runtime: broker, handlers: brokerHandlers(broker.deps) },
    { command: 'RemoveStorage', runtime: storage, handlers: storageHandlers(storage.deps) },
  ] as const;
  const failures: string[] = [];
  try {
    for (const tenant of tenants) {
      for (const { command, handlers } of runtimes) {
        try {
          await invoke(handlers, command, tenant, logger);
        } catch (error) {
          failures.push(
            `${command} ${tenant.tenantId}: ${error instanceof Error ? error.message : String(error)}`,
          );
        }
      }
    }
  } finally {
    await Promise.all(runtimes.map(({ runtime }) => runtime.close()));
  }
  if (failures.length > 0) throw new Error(`tenant clean-up failed:\n${failures.join('\n')}`);
}

async function invoke(
  handlers: CommandHandlers,
  type: CommandType,
  tenant: TenantProfile,
  logger: pino.Logger,
): Promise<void> {
  const handler = handlers[type] as CommandHandler | undefined;
  if (!handler) throw new Error(`no handler for ${type}`);
  const commandId = randomUUID();
  const message = buildMessage(
    type,
    { step: 'test-cleanup', tenant, params: {} },
    { tenantId: tenant.tenantId, correlationId: commandId, actor: 'test-cleanup' },
    commandId,
    new Date(),
  );
  // As the services' consumers do: a retryable failure (a server busy for a moment) is tried again.
  for (let attempt = 1; ; attempt++) {
    try {
      await handler(message as never, { commandId, correlationId: commandId, attempt, logger });
      return;
    } catch (error) {
      if ((error as { retryable?: boolean }).retryable === false || attempt === 3) throw error;
      await new Promise((resolve) => setTimeout(resolve, 1_000 * attempt));
    }
  }
}
