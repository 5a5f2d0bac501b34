import { EsdbEventStore } from './esdb/esdb.adapter';
import { EventStoreUnavailableError, UnsupportedEventStoreUrlError } from './errors';
import type { Logger } from './logger';
import { MemoryEventStore } from './memory/memory.adapter';
import { PostgresEventStore } from './postgres/postgres.adapter';
import { retryWhileUnavailable } from './startup-retry';
import { TracedEventStore } from './tracing';
import type { EventStore, Upcasters } from './types';

export interface CreateEventStoreOptions {
  upcasters?: Upcasters;
  logger?: Logger;
  /** PostgreSQL only: schema name (default `event_store`). */
  schema?: string;
  /** PostgreSQL only: run migrations before returning (default true). */
  migrate?: boolean;
  /** PostgreSQL only. */
  poolSize?: number;
  /** PostgreSQL only. */
  applicationName?: string;
  /** PostgreSQL only: fallback poll period of subscriptions (ms). */
  pollIntervalMs?: number;
  /**
   * How long to keep trying while the server refuses connections at start-up (not started yet, restarting, or
   * out of connection slots), with backoff; 0 tries once. Other errors fail at once. PostgreSQL: the migrations
   * are the attempt (default 0). EventStoreDB: when set (even to 0), one read of `$all` must succeed before the
   * store is returned; unset, nothing is checked until the first use.
   */
  startupTimeoutMs?: number;
  /** EventStoreDB only: the server's `MaxAppendSize` in bytes (default 1 MiB); larger batches are refused. */
  maxAppendBytes?: number;
  /** PostgreSQL only: bound on opening a connection (default 10 s). */
  connectTimeoutMs?: number;
  /** PostgreSQL only: bound on one statement (default 30 s). */
  statementTimeoutMs?: number;
}

/**
 * Picks the adapter from the URL scheme: `esdb://`, `esdb+discover://`, `kurrentdb://` (EventStoreDB, the
 * production default), `postgres://` / `postgresql://` (PostgreSQL, migrated on start unless `migrate: false`),
 * `memory:` (in-process, for unit tests). Every append is traced, its trace context kept in the events'
 * metadata (tracing.ts).
 */
export async function createEventStore(
  url: string,
  options: CreateEventStoreOptions = {},
): Promise<EventStore> {
  return new TracedEventStore(await createAdapter(url, options));
}

async function createAdapter(url: string, options: CreateEventStoreOptions): Promise<EventStore> {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase() ?? '';
  switch (scheme) {
    case 'memory':
      return new MemoryEventStore({ upcasters: options.upcasters, logger: options.logger });
    case 'postgres':
    case 'postgresql': {
      const store = new PostgresEventStore(url, {
        schema: options.schema,
        upcasters: options.upcasters,
        logger: options.logger,
        poolSize: options.poolSize,
        applicationName: options.applicationName,
        pollIntervalMs: options.pollIntervalMs,
        connectTimeoutMs: options.connectTimeoutMs,
        statementTimeoutMs: options.statementTimeoutMs,
      });
      if (options.migrate !== false) {
        try {
          await retryWhileUnavailable(() => store.migrate(), {
            timeoutMs: options.startupTimeoutMs ?? 0,
            isUnavailable: (error) => error instanceof EventStoreUnavailableError,
            what: 'PostgreSQL event store',
            logger: options.logger,
          });
        } catch (error) {
          await store.close();
          throw error;
        }
      }
      return store;
    }
    case 'esdb':
    case 'esdb+discover':
    case 'kurrentdb':
    case 'kurrentdb+discover':
    case 'kurrent':
    case 'kurrent+discover': {
      const store = new EsdbEventStore(url, {
        upcasters: options.upcasters,
        logger: options.logger,
        maxAppendBytes: options.maxAppendBytes,
      });
      if (options.startupTimeoutMs !== undefined) {
        try {
          await retryWhileUnavailable(() => store.ping(), {
            timeoutMs: options.startupTimeoutMs,
            isUnavailable: (error) => error instanceof EventStoreUnavailableError,
            what: 'EventStoreDB event store',
            logger: options.logger,
          });
        } catch (error) {
          await store.close();
          throw error;
        }
      }
      return store;
    }
    default:
      throw new UnsupportedEventStoreUrlError(scheme);
  }
}
