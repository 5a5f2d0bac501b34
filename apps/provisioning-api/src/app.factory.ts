import { createEventStore, type EventStore } from '@app/event-store';
import { createTenantReadModel, type Clock, type TenantReadModel } from '@app/tenancy';
import { createLogger } from '@app/platform';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { Logger } from 'pino';
import { AppModule, type AppDependencies } from './app.module';
import type { ProvisioningApiConfig } from './config';
import type { BrokerHealth } from './health/broker-health';
import { installBodyParsing } from './http/body-parsing';
import { HttpErrorFilter } from './http/exception.filter';
import { PinoNestLogger } from './http/nest-logger';
import { serveAsyncApi } from './docs/asyncapi.route';
import { docsAuthMiddleware } from './metrics/docs-auth.middleware';
import { createSeenSignatures } from './webhooks/create-seen-signatures';
import type { SeenSignatures } from './webhooks/seen-signatures';

export interface CreateAppOverrides {
  eventStore?: EventStore;
  readModel?: TenantReadModel;
  brokerHealth?: BrokerHealth;
  logger?: Logger;
  clock?: Clock;
  randomSuffix?: () => string;
  seenSignatures?: SeenSignatures;
}

/**
 * Builds the whole HTTP app (not yet listening) from a validated configuration; used by main.ts and by tests,
 * which pass their own event store or read model. Resources created here are closed by `app.close()`.
 */
export async function createApp(
  config: ProvisioningApiConfig,
  overrides: CreateAppOverrides = {},
): Promise<NestExpressApplication> {
  const logger = overrides.logger ?? createLogger('provisioning-api', config.LOG_LEVEL);
  const owned: AppDependencies['owned'] = [];
  if (config.webhookSecretDeprecated) {
    logger.warn(
      'WEBHOOK_SECRET is deprecated: rename it WEBHOOK_SIGNING_SECRET. It signs requests only; the bearer form ' +
        'takes its own WEBHOOK_BEARER_SECRET',
    );
  }
  try {
    const eventStore =
      overrides.eventStore ??
      (await createEventStore(config.EVENTSTORE_URL, {
        schema: config.EVENTSTORE_SCHEMA,
        logger: logger.child({ component: 'event-store' }),
        applicationName: 'provisioning-api',
        poolSize: config.EVENTSTORE_POOL_SIZE,
        startupTimeoutMs: config.STARTUP_TIMEOUT_SECONDS * 1000,
        connectTimeoutMs: config.EVENTSTORE_CONNECT_TIMEOUT_MS,
        statementTimeoutMs: config.EVENTSTORE_STATEMENT_TIMEOUT_MS,
      }));
    if (!overrides.eventStore) owned.push(eventStore);
    const readModel =
      overrides.readModel ??
      (await createTenantReadModel(config.READ_MODEL_URL, config.READ_MODEL_SCHEMA, {
        poolSize: config.READ_MODEL_POOL_SIZE,
        startupTimeoutMs: config.STARTUP_TIMEOUT_SECONDS * 1000,
        connectTimeoutMs: config.EVENTSTORE_CONNECT_TIMEOUT_MS,
        statementTimeoutMs: config.EVENTSTORE_STATEMENT_TIMEOUT_MS,
        logger,
      }));
    if (!overrides.readModel) owned.push(readModel);
    const seenSignatures =
      overrides.seenSignatures ??
      (await createSeenSignatures(config.READ_MODEL_URL, config.READ_MODEL_SCHEMA, {
        startupTimeoutMs: config.STARTUP_TIMEOUT_SECONDS * 1000,
        logger,
      }));
    if (!overrides.seenSignatures) owned.push(seenSignatures);

    const app = await NestFactory.create<NestExpressApplication>(
      AppModule.register(config, {
        eventStore,
        readModel,
        brokerHealth: overrides.brokerHealth ?? null,
        logger,
        clock: overrides.clock ?? (() => new Date()),
        randomSuffix: overrides.randomSuffix,
        seenSignatures,
        owned,
      }),
      { bodyParser: false, rawBody: true, logger: new PinoNestLogger(logger.child({ component: 'nest' })) },
    );
    app.disable('x-powered-by');
    installBodyParsing(app, config.BODY_LIMIT_BYTES, logger);
    app.useGlobalFilters(new HttpErrorFilter(logger));
    // Before the Swagger routes are mounted, so it runs first.
    const docsAuth = docsAuthMiddleware(config);
    if (docsAuth) app.use(docsAuth);
    const document = SwaggerModule.createDocument(
      app,
      new DocumentBuilder()
        .setTitle('Provisioning API')
        .setDescription(
          'Billing webhooks, tenant queries and audit history of the tenant provisioning control plane',
        )
        .setVersion('1')
        .addBearerAuth()
        .build(),
    );
    SwaggerModule.setup('api/docs', app, document, { jsonDocumentUrl: 'api/docs-json' });
    serveAsyncApi(app, config);
    return app;
  } catch (error) {
    for (const resource of owned) await resource.close().catch(() => undefined);
    throw error;
  }
}
