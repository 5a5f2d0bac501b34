import { tenantStream } from '@app/contracts';
import { EVENT_STORE, readStreamOrEmpty, type EventStore } from '@app/event-store';
import { foldTenant, LifecycleRefusal } from '@app/lifecycle';
import { computePlan, DEFAULT_RENDER_OPTIONS, type RenderOptions, type TenantPlan } from '@app/plans';
import { Inject, Optional } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { refusalError, type RefusalCodes } from '../errors';
import { assertTenantIdParam, tenantNotFound } from '../queries/query-params';
import { CLOCK, TENANCY_OPTIONS, type Clock, type TenancyOptions } from '../tokens';
import { GetTenantPlan } from './plan.queries';
import { parsePlanQuery } from './plan-query';

/** The k8s-service's rendering options, when the app knows them; the services' defaults otherwise. */
export const PLAN_RENDER_OPTIONS = Symbol('PLAN_RENDER_OPTIONS');

/** A change the tenant's state does not admit answers 409 with the lifecycle's reason. */
const PLAN_REFUSALS: RefusalCodes = {
  TENANT_NOT_ACTIVE: 'PLAN.NOT_ADMISSIBLE',
  CHANGE_IN_PROGRESS: 'PLAN.NOT_ADMISSIBLE',
  NOT_IN_GRACE_PERIOD: 'PLAN.NOT_ADMISSIBLE',
  NOT_CANCELLABLE: 'PLAN.NOT_ADMISSIBLE',
  PURGE_ALREADY_REQUESTED: 'PLAN.NOT_ADMISSIBLE',
  TENANT_PURGED: 'PLAN.NOT_ADMISSIBLE',
  SUBSCRIPTION_MISMATCH: 'PLAN.NOT_ADMISSIBLE',
  INVALID_IMAGE_TAG: 'VALIDATION_FAILED',
};

/** Folds the tenant's stream and computes the plan; reads only, appends nothing. */
@QueryHandler(GetTenantPlan)
export class GetTenantPlanHandler implements IQueryHandler<GetTenantPlan> {
  private readonly options: RenderOptions;

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(TENANCY_OPTIONS) private readonly tenancy: TenancyOptions,
    @Optional() @Inject(PLAN_RENDER_OPTIONS) options?: RenderOptions,
  ) {
    this.options = options ?? DEFAULT_RENDER_OPTIONS;
  }

  async execute({ tenantId, query }: GetTenantPlan): Promise<TenantPlan> {
    assertTenantIdParam(tenantId);
    const change = parsePlanQuery(query);
    const state = foldTenant(await readStreamOrEmpty(this.store, tenantStream(tenantId)));
    if (!state.tenant) throw tenantNotFound(tenantId);
    const plan = computePlan(state, change, {
      options: this.options,
      now: this.clock(),
      gracePeriodDays: this.tenancy.gracePeriodDays,
    });
    if (plan instanceof LifecycleRefusal) throw refusalError(plan, PLAN_REFUSALS);
    return plan;
  }
}
