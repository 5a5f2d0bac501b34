import type { TenantPlan } from '@app/plans';
import { Query } from '@nestjs/cqrs';
import type { RawQuery } from '../queries/query-params';

/**
 * What one change (`tier`, `suspend`, `purge` or `imageTag` in `query`, exactly one) would do to a tenant,
 * computed from its stream with the services' builders. Nothing is appended: a plan is no request.
 */
export class GetTenantPlan extends Query<TenantPlan> {
  constructor(
    readonly tenantId: string,
    readonly query: RawQuery,
  ) {
    super();
  }
}
