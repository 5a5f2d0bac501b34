import { randomBytes } from 'node:crypto';
import { createEventStore, type EventStore } from '@app/event-store';
import { testSchemas } from '@app/testing';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Client } from 'pg';
import pino from 'pino';
import request from 'supertest';
import { createApp, type CreateAppOverrides } from '../app.factory';
import { loadProvisioningApiConfig, type ProvisioningApiConfig } from '../config';

/** The credentials the app accepts: fresh random values per app, so no two specs share one. */
export interface TestApiSecrets {
  /** Static operator token, named `alice`. */
  operator: string;
  /** Static auditor token, named `audrey`. */
  auditor: string;
  webhookBearer: string;
  webhookSigning: string;
}

export interface TestApi {
  app: NestExpressApplication;
  http: ReturnType<typeof request>;
  /** The app's event store (the test may append to it: seeds, concurrent writers). */
  store: EventStore;
  config: ProvisioningApiConfig;
  secrets: TestApiSecrets;
  /** The PostgreSQL test database, for a spec's own connections (a lock holder, `pg_locks`). */
  databaseUrl: string;
  /** The schema of the app's event store (its tables, the names of its advisory locks). */
  eventSchema: string;
  /**
   * Events in the store, counted in SQL: every committed append, including those a `readAll` would not show
   * yet (the PostgreSQL adapter reads below the server's snapshot horizon).
   */
  eventCount(): Promise<number>;
  /** Closes the app and the store, then drops both schemas. */
  close(): Promise<void>;
}

export interface TestApiOptions {
  /** Prefix of the two schemas this app creates (`<prefix>_es_<hex>`, `<prefix>_rm_<hex>`). */
  schemaPrefix: string;
  /** Variables over the defaults (PostgreSQL test database, fresh secrets, silent logs). */
  env?: Record<string, string>;
  /** Runs once the store exists and before the app starts (its projector then sees the seeded streams). */
  seed?: (store: EventStore) => Promise<void>;
  overrides?: Omit<CreateAppOverrides, 'eventStore'>;
}

/**
 * The whole provisioning API over the local PostgreSQL, listening on an ephemeral port, with its own schemas:
 * what an HTTP integration spec needs, set up in one place.
 */
export async function startTestApi(options: TestApiOptions): Promise<TestApi> {
  const schemas = testSchemas(options.schemaPrefix);
  const { databaseUrl, eventSchema, readSchema } = schemas;
  const secret = (prefix: string, bytes: number) => `${prefix}_${randomBytes(bytes).toString('hex')}`;
  const secrets: TestApiSecrets = {
    operator: secret('op', 12),
    auditor: secret('au', 12),
    webhookBearer: secret('whsec', 16),
    webhookSigning: secret('whsig', 16),
  };
  const logger = options.overrides?.logger ?? pino({ level: 'silent' });
  const sql = new Client({ connectionString: databaseUrl });
  await sql.connect();
  let store: EventStore | undefined;
  let app: NestExpressApplication | undefined;
  const close = async () => {
    await app?.close();
    await store?.close();
    await sql.end();
    await schemas.drop();
  };
  try {
    store = await createEventStore(databaseUrl, { schema: eventSchema, logger, pollIntervalMs: 100 });
    await options.seed?.(store);
    const config = loadProvisioningApiConfig({
      EVENTSTORE_URL: databaseUrl,
      EVENTSTORE_SCHEMA: eventSchema,
      READ_MODEL_URL: databaseUrl,
      READ_MODEL_SCHEMA: readSchema,
      WEBHOOK_BEARER_SECRET: secrets.webhookBearer,
      WEBHOOK_SIGNING_SECRET: secrets.webhookSigning,
      OPERATOR_TOKENS: `alice:${secrets.operator}`,
      AUDITOR_TOKENS: `audrey:${secrets.auditor}`,
      GRACE_PERIOD_DAYS: '30',
      LOG_LEVEL: 'silent',
      ...options.env,
    });
    app = await createApp(config, { logger, ...options.overrides, eventStore: store });
    await app.listen(0, '127.0.0.1');
    const counted = `SELECT count(*)::int AS n FROM "${eventSchema}".events`;
    return {
      app,
      http: request(app.getHttpServer()),
      store,
      config,
      secrets,
      databaseUrl,
      eventSchema,
      eventCount: async () => (await sql.query<{ n: number }>(counted)).rows[0].n,
      close,
    };
  } catch (error) {
    await close().catch(() => undefined);
    throw error;
  }
}
