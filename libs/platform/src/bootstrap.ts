import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { INestMicroservice } from '@nestjs/common';
import type { AsyncMicroserviceOptions } from '@nestjs/microservices';
import type { z } from 'zod';
import { loadConfig } from './config';
import { parseFaultInjection } from './fault-injection';
import { createLogger, type Logger } from './logger';
import { CommandTransport } from './nest/command-transport';
import { baseConfigSchema, type BaseConfig, type ResourceServiceDefinition } from './nest/definitions';
import { HealthServer } from './nest/health.module';
import { NestPinoLogger } from './nest/nest-logger';
import { ResourceServiceModule } from './nest/resource-service.module';
import { enableGracefulShutdown } from './nest/shutdown.module';

export {
  baseConfigSchema,
  brokerConnectTimeoutMs,
  drainTimeoutMs,
  type BaseConfig,
  type ResourceServiceDefinition,
  type ServiceRuntime,
} from './nest/definitions';

export interface RunningService {
  /** Closes the context: drains, then closes the connections (its shutdown hooks). */
  stop(): Promise<void>;
  app: INestApplicationContext;
  healthPort?: number;
  /** SHUTDOWN_TIMEOUT_SECONDS in ms: the forced-exit deadline of `mainResourceService`. */
  shutdownTimeoutMs: number;
  logger: Logger;
}

/**
 * Creates a Nest application context (no HTTP server) with options that keep a process's behaviour its own:
 * Nest's messages go to the app's pino logger, and a failed start-up is thrown to the caller (which logs it and
 * exits 1) instead of aborting the process.
 */
export function createServiceContext(module: unknown, logger: Logger): Promise<INestApplicationContext> {
  return NestFactory.createApplicationContext(
    module as Parameters<typeof NestFactory.createApplicationContext>[0],
    {
      logger: new NestPinoLogger(logger),
      abortOnError: false,
    },
  );
}

/**
 * Creates a resource service's Nest microservice (same options as `createServiceContext`) served by its
 * `CommandTransport`, and starts it: init and bootstrap hooks (health), then the transport consumes.
 */
export async function createResourceServiceApp(module: unknown, logger: Logger): Promise<INestMicroservice> {
  const app = await NestFactory.createMicroservice<AsyncMicroserviceOptions>(
    module as Parameters<typeof NestFactory.createMicroservice>[0],
    {
      inject: [CommandTransport],
      useFactory: (strategy: CommandTransport) => ({ strategy }),
      logger: new NestPinoLogger(logger),
      abortOnError: false,
    } as AsyncMicroserviceOptions,
  );
  try {
    await app.listen();
  } catch (error) {
    await app.close();
    throw error;
  }
  return app;
}

/**
 * Starts a resource service as a Nest microservice: the configuration is read first (a ConfigError
 * names the variables before any connection is opened), then the context connects to the event store and the
 * broker, starts consuming and serves /health, /ready and /metrics.
 */
export async function runResourceService<S extends z.ZodType>(
  definition: ResourceServiceDefinition<S>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<RunningService> {
  const logger = createLogger(`${definition.service}-service`);
  // Two schemas, read separately: an app's schema may carry cross-field refinements that cannot be merged.
  const config = {
    ...loadConfig(baseConfigSchema, env),
    ...(loadConfig(definition.configSchema, env) as Record<string, unknown>),
  } as z.infer<S> & BaseConfig;
  // Read (and, under NODE_ENV=production, refused) before any connection is made.
  const faults = parseFaultInjection(env);
  const app = await createResourceServiceApp(
    ResourceServiceModule.forRoot(definition, config, { logger, faults }),
    logger,
  );
  let stopping: Promise<void> | undefined;
  return {
    stop: () => (stopping ??= app.close()),
    app,
    healthPort: app.get(HealthServer).port,
    shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_SECONDS * 1000,
    logger,
  };
}

/**
 * main.ts of a resource service: run it, stop cleanly on SIGTERM/SIGINT within SHUTDOWN_TIMEOUT_SECONDS, exit
 * 1 on a bad start.
 */
export function mainResourceService<S extends z.ZodType>(definition: ResourceServiceDefinition<S>): void {
  runResourceService(definition).then(
    (running) => enableGracefulShutdown(running.app),
    (error: unknown) => {
      createLogger(`${definition.service}-service`).fatal({ err: error }, 'start-up failed');
      process.exit(1);
    },
  );
}
