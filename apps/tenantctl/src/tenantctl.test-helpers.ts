import { createEventStore, type EventStore } from '@app/event-store';
import { testSchemas } from '@app/testing';
import pino from 'pino';
import { run } from './tenantctl';

/** A read model no command may open: a command that needs it fails to connect instead of passing unnoticed. */
const ABSENT_READ_MODEL = 'postgres://nobody@127.0.0.1:1/absent_test';

/** What one `tenantctl` run printed and how it exited. */
export interface TenantctlOutcome {
  code: number;
  stdout: string;
  stderr: string;
}

export interface TenantctlTestStore {
  /** The event store the CLI reads and writes, for the spec's seeds and assertions. */
  store: EventStore;
  /** The CLI's environment: this store, its read model (or none), silent logs, and the spec's variables. */
  env: NodeJS.ProcessEnv;
  /** Runs the CLI in this process with `env` (and `extra` over it), capturing both streams. */
  tenantctl(argv: readonly string[], extra?: NodeJS.ProcessEnv): Promise<TenantctlOutcome>;
  /** Closes the store, then drops its schemas. */
  close(): Promise<void>;
}

export interface TenantctlTestStoreOptions {
  /** Prefix of the schemas (`<prefix>_es_<hex>`, `<prefix>_rm_<hex>`). */
  schemaPrefix: string;
  /** Whether the CLI gets a read model; without one it is pointed at a server that does not exist. */
  readModel: boolean;
  /** Variables over the defaults (`USER` names the operator the CLI records). */
  env?: NodeJS.ProcessEnv;
  /** The CLI's clock. */
  now?: () => Date;
}

/**
 * A fresh event store schema on the local PostgreSQL test database and a `tenantctl` wired to it: what a CLI
 * integration spec needs, set up in one place.
 */
export async function startTenantctlTestStore(
  options: TenantctlTestStoreOptions,
): Promise<TenantctlTestStore> {
  const schemas = testSchemas(options.schemaPrefix);
  const { databaseUrl, eventSchema, readSchema } = schemas;
  const env: NodeJS.ProcessEnv = {
    EVENTSTORE_URL: databaseUrl,
    EVENTSTORE_SCHEMA: eventSchema,
    ...(options.readModel
      ? { READ_MODEL_URL: databaseUrl, READ_MODEL_SCHEMA: readSchema }
      : { READ_MODEL_URL: ABSENT_READ_MODEL }),
    LOG_LEVEL: 'silent',
    ...options.env,
  };
  const store = await createEventStore(databaseUrl, {
    schema: eventSchema,
    logger: pino({ level: 'silent' }),
    pollIntervalMs: 100,
  });
  const tenantctl = async (argv: readonly string[], extra: NodeJS.ProcessEnv = {}) => {
    const outcome: TenantctlOutcome = { code: -1, stdout: '', stderr: '' };
    outcome.code = await run(argv, {
      stdout: { write: (text: string) => (outcome.stdout += text) },
      stderr: { write: (text: string) => (outcome.stderr += text) },
      env: { ...env, ...extra },
      ...(options.now ? { now: options.now } : {}),
    });
    return outcome;
  };
  const close = async () => {
    await store.close();
    await schemas.drop();
  };
  return { store, env, tenantctl, close };
}
