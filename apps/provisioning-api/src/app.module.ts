import {
  Inject,
  Injectable,
  Module,
  type DynamicModule,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { EVENT_STORE, type EventStore } from '@app/event-store';
import { renderOptionsFromEnv } from '@app/plans';
import { TENANT_READ_MODEL, TenancyModule, type Clock, type TenantReadModel } from '@app/tenancy';
import type { Logger } from 'pino';
import type { ProvisioningApiConfig } from './config';
import { CONSOLE_CONTROLLERS, consoleProviders } from './console/console.module';
import { loadConsoleConfig } from './console/console.config';
import type { BrokerHealth } from './health/broker-health';
import { GuardrailsController } from './guardrails/guardrails.controller';
import { HealthController } from './health/health.controller';
import { IntakeModule } from './intake/intake.module';
import { MetricsController } from './metrics/metrics.controller';
import { MetricsGuard } from './metrics/metrics.guard';
import { ProvisioningMetrics } from './metrics/provisioning-metrics';
import { SloController } from './slo/slo.controller';
import { PlansController } from './plans/plans.controller';
import { OperationsController } from './operations/operations.controller';
import { OperatorRoleGuard } from './operations/operator-role.guard';
import { ReprovisionController } from './operations/reprovision.controller';
import { DriftController } from './drift/drift.controller';
import { ReconciliationsController } from './reconciliation/reconciliations.controller';
import { RolloutsModule } from '@app/rollouts';
import { RolloutsController } from './rollouts/rollouts.controller';
import { ApiTokenGuard } from './tenants/api-token.guard';
import { TenantProjector } from './tenants/tenant-projector';
import { TenantsController } from './tenants/tenants.controller';
import { APP_CONFIG, APP_LOGGER, BROKER_HEALTH } from './tokens';
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

const OWNED_RESOURCES = Symbol('OWNED_RESOURCES');

/** Starts the projector once the app is up; on shutdown stops it, then closes what the app opened. */
@Injectable()
class AppLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    private readonly projector: TenantProjector,
    @Inject(OWNED_RESOURCES) private readonly owned: AppDependencies['owned'],
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.projector.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.projector.stop();
    for (const resource of this.owned) await resource.close();
  }
}

/**
 * The HTTP app: billing webhooks, operator actions and tenant queries reach their use cases through the
 * command and query buses (@nestjs/cqrs): billing intake in `IntakeModule`, operator commands and tenant
 * queries in `TenancyModule` (shared with tenantctl), the console's own queries beside its controllers.
 */
@Module({})
export class AppModule {
  static register(config: ProvisioningApiConfig, deps: AppDependencies): DynamicModule {
    return {
      module: AppModule,
      imports: [
        CqrsModule.forRoot(),
        TenancyModule.register({
          eventStore: deps.eventStore,
          readModel: deps.readModel,
          clock: deps.clock,
          gracePeriodDays: config.GRACE_PERIOD_DAYS,
          renderOptions: renderOptionsFromEnv(config),
        }),
        IntakeModule.register({ randomSuffix: deps.randomSuffix }),
        RolloutsModule,
      ],
      controllers: [
        WebhooksController,
        TenantsController,
        OperationsController,
        ReprovisionController,
        DriftController,
        ReconciliationsController,
        RolloutsController,
        GuardrailsController,
        SloController,
        PlansController,
        HealthController,
        MetricsController,
        ...CONSOLE_CONTROLLERS,
      ],
      providers: [
        { provide: APP_CONFIG, useValue: config },
        { provide: BROKER_HEALTH, useValue: deps.brokerHealth },
        { provide: APP_LOGGER, useValue: deps.logger },
        { provide: SEEN_SIGNATURES, useValue: deps.seenSignatures },
        { provide: OWNED_RESOURCES, useValue: deps.owned },
        {
          provide: ProvisioningMetrics,
          inject: [EVENT_STORE, TENANT_READ_MODEL],
          useFactory: (store: EventStore, readModel: TenantReadModel) =>
            new ProvisioningMetrics(store, readModel),
        },
        {
          provide: TenantProjector,
          inject: [EVENT_STORE, TENANT_READ_MODEL, ProvisioningMetrics],
          useFactory: (store: EventStore, readModel: TenantReadModel, metrics: ProvisioningMetrics) =>
            new TenantProjector(store, readModel, metrics, deps.logger.child({ component: 'projector' })),
        },
        AppLifecycle,
        ...consoleProviders({ config: loadConsoleConfig(), logger: deps.logger }),
        WebhookAuthGuard,
        ApiTokenGuard,
        OperatorRoleGuard,
        MetricsGuard,
      ],
    };
  }
}
