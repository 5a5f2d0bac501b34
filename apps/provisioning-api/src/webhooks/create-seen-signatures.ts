import { isPostgresUnavailable, retryWhileUnavailable } from '@app/event-store';
import type { Logger } from 'pino';
import { PostgresSeenSignatures } from './postgres.seen-signatures';
import { MemorySeenSignatures, type SeenSignatures } from './seen-signatures';

/** Beside the tenant read model: in its PostgreSQL schema, or in memory when it is `memory:`. */
export async function createSeenSignatures(
  url: string,
  schema: string,
  options: { startupTimeoutMs: number; logger: Logger },
): Promise<SeenSignatures> {
  if (url.startsWith('memory:')) return new MemorySeenSignatures();
  const store = new PostgresSeenSignatures(url, schema, { logger: options.logger });
  try {
    await retryWhileUnavailable(() => store.migrate(), {
      timeoutMs: options.startupTimeoutMs,
      isUnavailable: isPostgresUnavailable,
      what: 'webhook replay store',
      logger: options.logger,
    });
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}
