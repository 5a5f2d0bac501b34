import { randomUUID } from 'node:crypto';
import { EVENT_STORE, type EventStore } from '@app/event-store';
import { Module, type DynamicModule, type ValueProvider } from '@nestjs/common';
import { RequestStepRetryHandler } from './operations/request-step-retry.handler';
import { RequestTenantCancellationHandler } from './operations/request-tenant-cancellation.handler';
import { RequestTenantPurgeHandler } from './operations/request-tenant-purge.handler';
import { ResetPurgeBreakerHandler } from './operations/reset-purge-breaker.handler';
import { GetPurgeBreakerStatusHandler } from './queries/get-purge-breaker-status.handler';
import { GetTenantHistoryHandler } from './queries/get-tenant-history.handler';
import { GetTenantHandler } from './queries/get-tenant.handler';
import { ListTenantsHandler } from './queries/list-tenants.handler';
import { RequestReprovisioningHandler } from './reprovisioning/request-reprovisioning.handler';
import { ApproveDriftRepairHandler } from './drift/approve-drift-repair.handler';
import { GetTenantDriftHandler } from './drift/get-tenant-drift.handler';
import { RequestDriftCheckHandler } from './drift/request-drift-check.handler';
import { GetSloReportHandler } from './slo/get-slo-report.handler';
import { GetTenantPlanHandler, PLAN_RENDER_OPTIONS } from './plans/get-tenant-plan.handler';
import type { RenderOptions } from '@app/plans';
import {
  RECONCILIATION_READ_MODEL_HANDLERS,
  RECONCILIATION_STORE_HANDLERS,
} from './reconciliation/reconciliation.handlers';
import type { TenantReadModel } from './read-model/tenant-read-model';
import { RequestsInFlight } from './operations/requests-in-flight';
import {
  CLOCK,
  REQUESTS_IN_FLIGHT,
  TENANCY_OPTIONS,
  TENANT_READ_MODEL,
  type Clock,
  type TenancyOptions,
} from './tokens';

export interface TenancyDependencies {
  eventStore: EventStore;
  /** Without one, the queries that read it (list, detail) are not registered: tenantctl's actions never open it. */
  readModel?: TenantReadModel;
  clock?: Clock;
  gracePeriodDays: number;
  newId?: () => string;
  /**
   * What the k8s-service renders tenant objects with (`loadRenderOptions`, from the same variables): what-if
   * plans render with it. Without it, plans use the builders' defaults (tests).
   */
  renderOptions?: RenderOptions;
}

/** Handlers that need only the event store. */
const STORE_HANDLERS = [
  RequestStepRetryHandler,
  RequestTenantCancellationHandler,
  RequestTenantPurgeHandler,
  ResetPurgeBreakerHandler,
  GetTenantHistoryHandler,
  GetPurgeBreakerStatusHandler,
  ...RECONCILIATION_STORE_HANDLERS,
  GetSloReportHandler,
  GetTenantPlanHandler,
  RequestReprovisioningHandler,
  RequestDriftCheckHandler,
  ApproveDriftRepairHandler,
  GetTenantDriftHandler,
];
const READ_MODEL_HANDLERS = [ListTenantsHandler, GetTenantHandler, ...RECONCILIATION_READ_MODEL_HANDLERS];

/**
 * The operator commands and tenant queries shared by the API and tenantctl, and the ports they run on. Global,
 * so the app's own handlers (billing intake, the console) inject the same store, read model and clock. The
 * importing app also imports `CqrsModule.forRoot()`, whose buses find these handlers.
 */
@Module({})
export class TenancyModule {
  static register(deps: TenancyDependencies): DynamicModule {
    const options: TenancyOptions = {
      gracePeriodDays: deps.gracePeriodDays,
      newId: deps.newId ?? randomUUID,
    };
    const ports: ValueProvider[] = [
      { provide: EVENT_STORE, useValue: deps.eventStore },
      { provide: CLOCK, useValue: deps.clock ?? (() => new Date()) },
      { provide: TENANCY_OPTIONS, useValue: options },
      { provide: REQUESTS_IN_FLIGHT, useValue: new RequestsInFlight() },
      ...(deps.readModel ? [{ provide: TENANT_READ_MODEL, useValue: deps.readModel }] : []),
      ...(deps.renderOptions ? [{ provide: PLAN_RENDER_OPTIONS, useValue: deps.renderOptions }] : []),
    ];
    return {
      module: TenancyModule,
      global: true,
      providers: [...ports, ...STORE_HANDLERS, ...(deps.readModel ? READ_MODEL_HANDLERS : [])],
      exports: ports.map((port) => port.provide),
    };
  }
}
