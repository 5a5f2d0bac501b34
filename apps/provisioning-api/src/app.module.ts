import {
  Module,
  type DynamicModule,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { EVENT_STORE, type EventStore } from '@app/event-store';
import type { Logger } from 'pino';
import type { ProvisioningApiConfig } from './config';
import { CONSOLE_CONTROLLERS, consoleProviders } from './console/console.module';
import { loadConsoleConfig } from './console/console.config';
import type { BrokerHealth } from './health/broker-health';
import { GuardrailsController } from './guardrails/guardrails.controller';
import { PurgeBreaker } from './guardrails/purge-breaker.service';
import { HealthController } from './health/health.controller';
import { SubscriptionIntake } from './intake/intake.service';
import { MetricsController } from './metrics/metrics.controller';
import { MetricsGuard } from './metrics/metrics.guard';
import { ProvisioningMetrics } from './metrics/provisioning-metrics';
import { OperationsController } from './operations/operations.controller';
import { TenantOperations } from './operations/operations.service';
import { OperatorRoleGuard } from './operations/operator-role.guard';
import { ApiTokenGuard } from './tenants/api-token.guard';
import { TenantQueries } from './tenants/tenant-queries';
import { TenantProjector } from './tenants/tenant-projector';
import type { TenantReadModel } from './tenants/tenant-read-model';
import { TenantsController } from './tenants/tenants.controller';
import { APP_CONFIG, APP_LOGGER, BROKER_HEALTH, CLOCK, TENANT_READ_MODEL, type Clock } from './tokens';
import { SEEN_SIGNATURES, type SeenSignatures } from './webhooks/seen-signatures';
import { WebhookAuthGuard } from './webhooks/webhook-auth.guard';
import { WebhooksController } from './webhooks/webhooks.controller';

export interface AppDependencies {
  eventStore: EventStore;
  readModel: TenantReadModel;
  brokerHealth: BrokerHealth | null;
  logger: Logger;
  clock: Clock;
  randomSuffix?: () => string;
  /** Signed webhook requests already accepted (replays are refused). */
  seenSignatures: SeenSignatures;
  /** Closed when the app shuts down (the ones `createApp` opened itself, not the caller's). */
  owned: { close(): Promise<void> }[];
}

/** Starts the projector once the app is up; on shutdown stops it, then closes what the app opened. */
class AppLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    private readonly projector: TenantProjector,
    private readonly owned: AppDependencies['owned'],
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.projector.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.projector.stop();
    for (const resource of this.owned) await resource.close();
  }
}

@Module({})
export class AppModule {
  static register(config: ProvisioningApiConfig, deps: AppDependencies): DynamicModule {
    return {
      module: AppModule,
      controllers: [
        WebhooksController,
        TenantsController,
        OperationsController,
        GuardrailsController,
        HealthController,
        MetricsController,
        ...CONSOLE_CONTROLLERS,
      ],
      providers: [
        { provide: APP_CONFIG, useValue: config },
        { provide: EVENT_STORE, useValue: deps.eventStore },
        { provide: TENANT_READ_MODEL, useValue: deps.readModel },
        { provide: BROKER_HEALTH, useValue: deps.brokerHealth },
        { provide: APP_LOGGER, useValue: deps.logger },
        { provide: CLOCK, useValue: deps.clock },
        { provide: SEEN_SIGNATURES, useValue: deps.seenSignatures },
        {
          provide: SubscriptionIntake,
          useValue: new SubscriptionIntake(deps.eventStore, {
            gracePeriodDays: config.GRACE_PERIOD_DAYS,
            now: deps.clock,
            randomSuffix: deps.randomSuffix,
          }),
        },
        {
          provide: TenantOperations,
          useValue: new TenantOperations(deps.eventStore, {
            gracePeriodDays: config.GRACE_PERIOD_DAYS,
            now: deps.clock,
          }),
        },
        { provide: PurgeBreaker, useValue: new PurgeBreaker(deps.eventStore, deps.clock) },
        { provide: ProvisioningMetrics, useValue: new ProvisioningMetrics(deps.eventStore, deps.readModel) },
        {
          provide: TenantProjector,
          useFactory: (metrics: ProvisioningMetrics) =>
            new TenantProjector(
              deps.eventStore,
              deps.readModel,
              metrics,
              deps.logger.child({ component: 'projector' }),
            ),
          inject: [ProvisioningMetrics],
        },
        { provide: TenantQueries, useValue: new TenantQueries(deps.eventStore, deps.readModel) },
        {
          provide: AppLifecycle,
          useFactory: (projector: TenantProjector) => new AppLifecycle(projector, deps.owned),
          inject: [TenantProjector],
        },
        ...consoleProviders({
          config: loadConsoleConfig(),
          eventStore: deps.eventStore,
          readModel: deps.readModel,
          logger: deps.logger,
        }),
        WebhookAuthGuard,
        ApiTokenGuard,
        OperatorRoleGuard,
        MetricsGuard,
      ],
      // The bus consumer the lead wires reaches intake through this export.
      exports: [SubscriptionIntake, TenantProjector],
    };
  }
}
