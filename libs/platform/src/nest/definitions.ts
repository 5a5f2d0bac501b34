import type { ResourceService } from '@app/contracts';
import type { Type } from '@nestjs/common';
import { z } from 'zod';
import type { Logger } from '../logger';

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

/** Time the consumer gives in-flight handlers on shutdown: two thirds of the forced-exit deadline. */
export function drainTimeoutMs(shutdownTimeoutSeconds: number): number {
  return Math.max(1, Math.floor((shutdownTimeoutSeconds * 1000 * 2) / 3));
}

/** What a resource service's runtime factory opens: the adapters its handlers use, its readiness, its close. */
export interface ServiceRuntime<D = unknown> {
  /** Handed to the service's command handler classes under the `HANDLER_DEPS` token. */
  deps: D;
  ready(): Promise<boolean>;
  close(): Promise<void>;
}

export interface ResourceServiceDefinition<S extends z.ZodType> {
  service: ResourceService;
  configSchema: S;
  /** The service's command handlers: classes with one `@MessagePattern(<command type>)` method each. */
  commandHandlers?: readonly Type<unknown>[];
  createRuntime(config: z.infer<S> & BaseConfig, logger: Logger): Promise<ServiceRuntime>;
}
