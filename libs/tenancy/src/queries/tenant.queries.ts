import type { RecordedEvent } from '@app/event-store';
import { Query } from '@nestjs/cqrs';
import type { BreakerStatus } from '../operations/purge-breaker';
import type { TenantSummary } from '../read-model/tenant-summary.projection';
import type { RawQuery } from './query-params';

/* The read side: tenants from the read model, their audit history and the purge breaker from the event store. */

export interface TenantListPage {
  items: TenantSummary[];
  total: number;
  limit: number;
  offset: number;
}

export interface TenantHistoryPage {
  tenantId: string;
  events: RecordedEvent[];
  /** The revision the next page starts at, null on the last page. */
  nextFrom: number | null;
}

/** A page of tenants; `query` holds the filters as sent (state, tier, q, limit, offset), validated by the handler. */
export class ListTenants extends Query<TenantListPage> {
  constructor(readonly query: RawQuery) {
    super();
  }
}

/** One tenant's summary: state, current step, per-step status, timestamps, failure. */
export class GetTenant extends Query<TenantSummary> {
  constructor(readonly tenantId: string) {
    super();
  }
}

/** A page of a tenant's stream, by revision (`from`, `limit` in `query`). */
export class GetTenantHistory extends Query<TenantHistoryPage> {
  constructor(
    readonly tenantId: string,
    readonly query: RawQuery,
  ) {
    super();
  }
}

/** The mass-cancellation breaker and the purges of the last hour. */
export class GetPurgeBreakerStatus extends Query<BreakerStatus> {}
