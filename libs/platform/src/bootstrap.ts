import { hostname } from 'node:os';
import type { ResourceService } from '@app/contracts';
import { createEventStore, type EventStore } from '@app/event-store';
import { MessageConsumer, MessagingConnection } from '@app/messaging';
import { z } from 'zod';
import { loadConfig } from './config';
import type { CommandHandlers } from './handlers';
import { parseFaultInjection } from './fault-injection';
import { closeHealthServer, startHealthServer } from './health-server';
import { createLogger, type Logger } from './logger';
import { ResourceServiceMetrics } from './metrics';
import { startResourceService } from './resource-service';
import { exitOnSignals } from './shutdown';

/** Variables every process of the control plane reads; each app adds its own schema on top. */
export const baseConfigSchema = z.object({
  EVENTSTORE_URL: z
    .string()
    .regex(
      // `+discover`: a cluster found through DNS, which the EventStoreDB adapter's factory supports.
      /^((esdb|kurrentdb|kurrent)(\+discover)?|postgres|postgresql|memory):/,
      'must be an esdb:// (or esdb+discover://), kurrentdb:// (or kurrentdb+discover://), postgres:// or memory: URL',
    )
    .default('postgres://postgres@127.0.0.1:5432/provisioning'),
  EVENTSTORE_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/)
    .default('event_store'),
  /** PostgreSQL event store only: connections this process may hold at most. */
  EVENTSTORE_POOL_SIZE: z.coerce.number().int().min(1).max(100).default(10),
  /**
   * How long a process waits at start-up for an event store that is unavailable (PostgreSQL refusing
   * connections, not started yet or out of connection slots; EventStoreDB not answering) before it exits; 0
   * fails at once.
   */
  STARTUP_TIMEOUT_SECONDS: z.coerce.number().int().min(0).max(600).default(60),
  AMQP_URL: z
    .string()
    .regex(/^amqps?:\/\//, 'must be an amqp:// or amqps:// URL')
    .default('amqp://guest:guest@127.0.0.1:5672'),
  /** Optional prefix for every queue (lets several isolated stacks share one broker, e.g. in tests). */
  QUEUE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,60}$/)
    .optional(),
  /** Port of /health, /ready and /metrics of a resource service or the orchestrator; 0 = random, unset = none. */
  HEALTH_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  /** Interface of that endpoint: every one by default, so the kubelet's probes reach it. */
  HEALTH_HOST: z.string().min(1).default('0.0.0.0'),
  COMMAND_PREFETCH: z.coerce.number().int().min(1).max(1000).default(8),
  COMMAND_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(5),
  COMMAND_RETRY_INITIAL_MS: z.coerce.number().int().min(1).default(1000),
  /**
   * How long one command handler may run before the message is retried and the late result discarded; above
   * the longest legitimate step (a final backup of a large tenant).
   */
  COMMAND_HANDLER_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(86_400).default(900),
  /**
   * From SIGTERM to a forced exit: in-flight handlers get two thirds of it to finish, the rest closes the
   * connections. Below the pods' terminationGracePeriodSeconds (90).
   */
  SHUTDOWN_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(3600).default(60),
  /** PostgreSQL event store only: bound on opening a connection. */
  EVENTSTORE_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
  /** PostgreSQL event store only: bound on one statement, enforced by the server and by the client. */
  EVENTSTORE_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(100).default(30_000),
});
export type BaseConfig = z.infer<typeof baseConfigSchema>;

/**
 * How long start-up waits for RabbitMQ (retrying inside the connection manager): STARTUP_TIMEOUT_SECONDS, and
 * never less than one attempt's 15 s, so STARTUP_TIMEOUT_SECONDS=0 still gets one fair try.
 */
export function brokerConnectTimeoutMs(startupTimeoutSeconds: number): number {
  return Math.max(15_000, startupTimeoutSeconds * 1000);
}

export interface ServiceRuntime {
  handlers: CommandHandlers;
  ready(): Promise<boolean>;
  close(): Promise<void>;
}

export interface ResourceServiceDefinition<S extends z.ZodType> {
  service: ResourceService;
  configSchema: S;
  createRuntime(config: z.infer<S> & BaseConfig, logger: Logger): Promise<ServiceRuntime>;
}

export interface RunningService {
  stop(): Promise<void>;
  healthPort?: number;
  /** SHUTDOWN_TIMEOUT_SECONDS in ms: the forced-exit deadline of `mainResourceService`. */
  shutdownTimeoutMs: number;
  logger: Logger;
}

/** Time the consumer gives in-flight handlers on shutdown: two thirds of the forced-exit deadline. */
export function drainTimeoutMs(shutdownTimeoutSeconds: number): number {
  return Math.max(1, Math.floor((shutdownTimeoutSeconds * 1000 * 2) / 3));
}

/** Connects a resource service to the event store and the broker, and serves /health, /ready and /metrics. */
export async function runResourceService<S extends z.ZodType>(
  definition: ResourceServiceDefinition<S>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<RunningService> {
  const name = `${definition.service}-service`;
  const logger = createLogger(name);
  // Two schemas, read separately: an app's schema may carry cross-field refinements that cannot be merged.
  const config = {
    ...loadConfig(baseConfigSchema, env),
    ...(loadConfig(definition.configSchema, env) as Record<string, unknown>),
  } as z.infer<S> & BaseConfig;
  // Read (and, under NODE_ENV=production, refused) before any connection is made.
  const faults = parseFaultInjection(env);

  const eventStore: EventStore = await createEventStore(config.EVENTSTORE_URL, {
    schema: config.EVENTSTORE_SCHEMA,
    applicationName: name,
    poolSize: config.EVENTSTORE_POOL_SIZE,
    startupTimeoutMs: config.STARTUP_TIMEOUT_SECONDS * 1000,
    connectTimeoutMs: config.EVENTSTORE_CONNECT_TIMEOUT_MS,
    statementTimeoutMs: config.EVENTSTORE_STATEMENT_TIMEOUT_MS,
    logger,
  });
  const connection = new MessagingConnection({
    url: config.AMQP_URL,
    connectionName: `${name}.${hostname()}.${process.pid}`,
    queuePrefix: config.QUEUE_PREFIX,
    prefetch: config.COMMAND_PREFETCH,
    retry: { maxAttempts: config.COMMAND_MAX_ATTEMPTS, initialDelayMs: config.COMMAND_RETRY_INITIAL_MS },
    handlerTimeoutMs: config.COMMAND_HANDLER_TIMEOUT_SECONDS * 1000,
    shutdownTimeoutMs: drainTimeoutMs(config.SHUTDOWN_TIMEOUT_SECONDS),
    logger,
  });
  await connection.connect(brokerConnectTimeoutMs(config.STARTUP_TIMEOUT_SECONDS));
  const metrics = new ResourceServiceMetrics(name, eventStore);
  const consumer = new MessageConsumer(connection);
  consumer.observe(metrics.consumerObserver);
  const runtime = await definition.createRuntime(config, logger);
  await startResourceService({
    service: definition.service,
    handlers: metrics.instrument(runtime.handlers),
    eventStore,
    consumer,
    logger,
    prefetch: config.COMMAND_PREFETCH,
    faults,
  });

  const health = await startHealthServer(
    config,
    async () => (await runtime.ready()) && connection.isHealthy() && consumer.isHealthy(),
    metrics.registry,
  );
  logger.info({ healthPort: health?.port }, `${name} started`);

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      logger.info(`${name} stopping`);
      await consumer.stop();
      await runtime.close();
      await connection.close();
      await eventStore.close();
      await closeHealthServer(health?.server);
      logger.info(`${name} stopped`);
    })());
  return {
    stop,
    healthPort: health?.port,
    shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_SECONDS * 1000,
    logger,
  };
}

/** main.ts of a resource service: run it, stop cleanly on SIGTERM/SIGINT, exit non-zero on a bad start. */
export function mainResourceService<S extends z.ZodType>(definition: ResourceServiceDefinition<S>): void {
  runResourceService(definition).then(
    (running) =>
      exitOnSignals(() => running.stop(), { deadlineMs: running.shutdownTimeoutMs, logger: running.logger }),
    (error: unknown) => {
      createLogger(`${definition.service}-service`).fatal({ err: error }, 'start-up failed');
      process.exit(1);
    },
  );
}
