export * from './types';
export * from './errors';
export { streamCategory } from './streams';
export { compareCheckpoints } from './checkpoint';
export { createEventStore, type CreateEventStoreOptions } from './factory';
export { eventTraceContext, TracedEventStore } from './tracing';
export { MemoryEventStore, type MemoryEventStoreOptions } from './memory/memory.adapter';
export { PostgresEventStore, type PostgresEventStoreOptions } from './postgres/postgres.adapter';
export { isPostgresUnavailable, postgresTimeouts } from './postgres/postgres-connection';
export { retryWhileUnavailable, type StartupRetryOptions } from './startup-retry';
export { MIGRATIONS as POSTGRES_MIGRATIONS } from './postgres/migrations';
export { EsdbEventStore, type EsdbEventStoreOptions } from './esdb/esdb.adapter';
export {
  ConcurrencyExhaustedError,
  decideAndAppend,
  readStreamOrEmpty,
  type DecideAndAppendOptions,
  type StreamDecision,
} from './decide-and-append';
