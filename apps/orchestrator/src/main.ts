import { hostname } from 'node:os';
import { AuditChainProjector } from '@app/audit';
import { createEventStore } from '@app/event-store';
import { MessagePublisher, MessagingConnection } from '@app/messaging';
import {
  baseConfigSchema,
  brokerConnectTimeoutMs,
  closeHealthServer,
  createLogger,
  exitOnSignals,
  loadConfig,
  startHealthServer,
} from '@app/platform';
import { orchestratorConfigSchema } from './config';
import { fileClock, systemClock } from './runtime/clock';
import { OrchestratorMetrics } from './runtime/metrics';
import { Orchestrator } from './runtime/orchestrator';

async function main(): Promise<void> {
  const logger = createLogger('orchestrator');
  const config = loadConfig(baseConfigSchema.extend(orchestratorConfigSchema.shape));
  const eventStore = await createEventStore(config.EVENTSTORE_URL, {
    schema: config.EVENTSTORE_SCHEMA,
    applicationName: 'orchestrator',
    poolSize: config.EVENTSTORE_POOL_SIZE,
    startupTimeoutMs: config.STARTUP_TIMEOUT_SECONDS * 1000,
    connectTimeoutMs: config.EVENTSTORE_CONNECT_TIMEOUT_MS,
    statementTimeoutMs: config.EVENTSTORE_STATEMENT_TIMEOUT_MS,
    logger,
  });
  const connection = new MessagingConnection({
    url: config.AMQP_URL,
    connectionName: `orchestrator.${hostname()}.${process.pid}`,
    queuePrefix: config.QUEUE_PREFIX,
    logger,
  });
  await connection.connect(brokerConnectTimeoutMs(config.STARTUP_TIMEOUT_SECONDS));
  const orchestrator = new Orchestrator({
    eventStore,
    publisher: new MessagePublisher(connection),
    clock: config.CLOCK_FILE ? fileClock(config.CLOCK_FILE) : systemClock,
    logger,
    timerIntervalMs: config.TIMER_INTERVAL_MS,
    decider: {
      maxAttempts: config.STEP_MAX_ATTEMPTS,
      compensationMaxAttempts: config.COMPENSATION_MAX_ATTEMPTS,
      gracePeriodDays: config.GRACE_PERIOD_DAYS,
      purgeRetryDelaySeconds: config.PURGE_RETRY_DELAY_SECONDS,
      deadlineScale: config.DEADLINE_SCALE,
    },
    guardrails: {
      purgesPerHour: config.PURGES_PER_HOUR,
      breakerCancellations: config.PURGE_BREAKER_CANCELLATIONS,
      breakerWindowMinutes: config.PURGE_BREAKER_WINDOW_MINUTES,
      breakerRecheckSeconds: config.PURGE_RETRY_DELAY_SECONDS,
      snapshotEvery: config.GUARDRAIL_SNAPSHOT_EVERY,
    },
    onFatal: () => process.exit(1),
  });
  await orchestrator.start();
  // The audit chain rides along in this process; the store it reads has no upcasters, so the chain covers
  // events exactly as stored.
  const audit = new AuditChainProjector(eventStore, { logger: logger.child({ component: 'audit-chain' }) });
  await audit.start();
  const health = await startHealthServer(
    config,
    async () => orchestrator.isReady() && connection.isHealthy(),
    new OrchestratorMetrics(eventStore).registry,
  );
  logger.info({ healthPort: health?.port }, 'orchestrator ready');
  exitOnSignals(
    async () => {
      await audit.stop();
      await orchestrator.stop();
      await closeHealthServer(health?.server);
      await connection.close();
      await eventStore.close();
    },
    { deadlineMs: config.SHUTDOWN_TIMEOUT_SECONDS * 1000, logger },
  );
}

main().catch((error: unknown) => {
  createLogger('orchestrator').fatal({ err: error }, 'start-up failed');
  process.exit(1);
});
