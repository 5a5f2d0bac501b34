// First: @app/platform starts tracing (OTEL_*) before the modules it instruments (http, pg) are loaded.
import {
  baseConfigSchema,
  createLogger,
  createServiceContext,
  enableGracefulShutdown,
  EVENT_STORE,
  EventStoreModule,
  flushTracing,
  HealthModule,
  HealthServer,
  loadConfig,
  LOGGER,
  MESSAGING_CONNECTION,
  MessagingModule,
  PlatformConfigModule,
  ShutdownModule,
  type BaseConfig,
  type Logger,
} from '@app/platform';
import { AuditChainProjector } from '@app/audit';
import type { EventStore } from '@app/event-store';
import { MessagePublisher, type MessagingConnection } from '@app/messaging';
import {
  Inject,
  Injectable,
  Module,
  type BeforeApplicationShutdown,
  type DynamicModule,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { z } from 'zod';
import { orchestratorConfigSchema } from './config';
import { fileClock, systemClock } from './runtime/clock';
import { OrchestratorMetrics } from './runtime/metrics';
import { Orchestrator } from './runtime/orchestrator';
import { RolloutRunner } from './runtime/rollout-runner';

const configSchema = baseConfigSchema.extend(orchestratorConfigSchema.shape);
type OrchestratorConfig = z.infer<typeof configSchema> & BaseConfig;

const ORCHESTRATOR_CONFIG = Symbol('ORCHESTRATOR_CONFIG');

/**
 * Follows the event store (the orchestrator, then the audit chain that rides along in this process), then
 * serves health; on shutdown stops following, then closes health, the broker connection and the store.
 */
@Injectable()
class OrchestratorLifecycle
  implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown
{
  constructor(
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(EVENT_STORE) private readonly eventStore: EventStore,
    @Inject(MESSAGING_CONNECTION) private readonly connection: MessagingConnection,
    private readonly orchestrator: Orchestrator,
    private readonly audit: AuditChainProjector,
    private readonly health: HealthServer,
    private readonly rollouts: RolloutRunner,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.orchestrator.start();
    await this.audit.start();
    await this.rollouts.start();
    const healthPort = await this.health.start(
      async () => this.orchestrator.isReady() && this.rollouts.isFollowing() && this.connection.isHealthy(),
      new OrchestratorMetrics(this.eventStore).registry,
    );
    this.logger.info({ healthPort }, 'orchestrator ready');
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.rollouts.stop();
    await this.audit.stop();
    await this.orchestrator.stop();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.health.close();
    await this.connection.close();
    await this.eventStore.close();
    await flushTracing();
  }
}

@Module({})
class OrchestratorModule {
  static forRoot(config: OrchestratorConfig, logger: Logger): DynamicModule {
    return {
      module: OrchestratorModule,
      imports: [
        PlatformConfigModule.forRoot(config, logger),
        EventStoreModule.forRoot({ applicationName: 'orchestrator' }),
        MessagingModule.forRoot({ name: 'orchestrator' }),
        HealthModule,
        ShutdownModule,
      ],
      providers: [
        { provide: ORCHESTRATOR_CONFIG, useValue: config },
        {
          provide: Orchestrator,
          inject: [ORCHESTRATOR_CONFIG, LOGGER, EVENT_STORE, MESSAGING_CONNECTION],
          useFactory: (
            c: OrchestratorConfig,
            log: Logger,
            eventStore: EventStore,
            connection: MessagingConnection,
          ) =>
            new Orchestrator({
              eventStore,
              publisher: new MessagePublisher(connection),
              clock: c.CLOCK_FILE ? fileClock(c.CLOCK_FILE) : systemClock,
              logger: log,
              timerIntervalMs: c.TIMER_INTERVAL_MS,
              decider: {
                maxAttempts: c.STEP_MAX_ATTEMPTS,
                compensationMaxAttempts: c.COMPENSATION_MAX_ATTEMPTS,
                gracePeriodDays: c.GRACE_PERIOD_DAYS,
                purgeRetryDelaySeconds: c.PURGE_RETRY_DELAY_SECONDS,
                deadlineScale: c.DEADLINE_SCALE,
              },
              guardrails: {
                purgesPerHour: c.PURGES_PER_HOUR,
                breakerCancellations: c.PURGE_BREAKER_CANCELLATIONS,
                breakerWindowMinutes: c.PURGE_BREAKER_WINDOW_MINUTES,
                breakerRecheckSeconds: c.PURGE_RETRY_DELAY_SECONDS,
                snapshotEvery: c.GUARDRAIL_SNAPSHOT_EVERY,
              },
              drift: {
                periodSeconds: c.ORCHESTRATOR_DRIFT_CHECK_PERIOD_S,
                maxInFlight: c.ORCHESTRATOR_DRIFT_MAX_IN_FLIGHT,
                maxBusyCommands: c.ORCHESTRATOR_DRIFT_MAX_BUSY_COMMANDS,
              },
              onFatal: () => process.exit(1),
            }),
        },
        {
          // The store it reads has no upcasters, so the chain covers events exactly as stored.
          provide: AuditChainProjector,
          inject: [EVENT_STORE, LOGGER],
          useFactory: (eventStore: EventStore, log: Logger) =>
            new AuditChainProjector(eventStore, { logger: log.child({ component: 'audit-chain' }) }),
        },
        {
          // Rollouts are driven where each tenant's change is applied: see rollout-runner.ts.
          provide: RolloutRunner,
          inject: [ORCHESTRATOR_CONFIG, LOGGER, EVENT_STORE],
          useFactory: (c: OrchestratorConfig, log: Logger, eventStore: EventStore) =>
            new RolloutRunner({
              eventStore,
              clock: c.CLOCK_FILE ? fileClock(c.CLOCK_FILE) : systemClock,
              logger: log.child({ component: 'rollouts' }),
              intervalMs: c.ROLLOUT_INTERVAL_MS,
              onFatal: () => process.exit(1),
            }),
        },
        OrchestratorLifecycle,
      ],
    };
  }
}

async function main(): Promise<void> {
  const logger = createLogger('orchestrator');
  // Read before the context exists: a ConfigError names the variables before any connection is opened.
  const config = loadConfig(configSchema);
  const app = await createServiceContext(OrchestratorModule.forRoot(config, logger), logger);
  enableGracefulShutdown(app);
}

main().catch((error: unknown) => {
  createLogger('orchestrator').fatal({ err: error }, 'start-up failed');
  process.exit(1);
});
