import { isPostgresUnavailable, retryWhileUnavailable } from '@app/event-store';
import type { Logger } from 'pino';
import { MemoryTenantReadModel } from './memory.tenant-read-model';
import { PostgresTenantReadModel } from './postgres.tenant-read-model';
import type { TenantReadModel } from './tenant-read-model';

/** `memory:` or a PostgreSQL URL; the PostgreSQL tables are created on start (idempotent). */
export async function createTenantReadModel(
  url: string,
  schema: string,
  options: {
    poolSize?: number;
    startupTimeoutMs?: number;
    logger?: Logger;
    connectTimeoutMs?: number;
    statementTimeoutMs?: number;
  } = {},
): Promise<TenantReadModel> {
  if (url === 'memory:' || url.startsWith('memory:')) return new MemoryTenantReadModel();
  const model = new PostgresTenantReadModel(url, schema, {
    applicationName: 'provisioning-api-read-model',
    poolSize: options.poolSize,
    logger: options.logger,
    connectTimeoutMs: options.connectTimeoutMs,
    statementTimeoutMs: options.statementTimeoutMs,
  });
  try {
    await retryWhileUnavailable(() => model.migrate(), {
      timeoutMs: options.startupTimeoutMs ?? 0,
      isUnavailable: isPostgresUnavailable,
      what: 'tenant read model',
      logger: options.logger,
    });
  } catch (error) {
    await model.close();
    throw error;
  }
  return model;
}
