import { EVENT_STORE, readStreamOrEmpty, type EventStore } from '@app/event-store';
import { tenantStream } from '@app/contracts';
import { Inject } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { TenantReadModel } from '../read-model/tenant-read-model';
import {
  foldTenantSummary,
  toSummaryEvent,
  type TenantSummary,
} from '../read-model/tenant-summary.projection';
import { TENANT_READ_MODEL } from '../tokens';
import { assertTenantIdParam, tenantNotFound } from './query-params';
import { GetTenant } from './tenant.queries';

/**
 * The read model answers; a tenant accepted a moment ago and not yet projected is folded from its stream with
 * the same function, so the `status_url` of a 202 never answers 404.
 */
@QueryHandler(GetTenant)
export class GetTenantHandler implements IQueryHandler<GetTenant> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(TENANT_READ_MODEL) private readonly readModel: TenantReadModel,
  ) {}

  async execute({ tenantId }: GetTenant): Promise<TenantSummary> {
    assertTenantIdParam(tenantId);
    const projected = await this.readModel.get(tenantId);
    if (projected) return projected;
    const events = await readStreamOrEmpty(this.store, tenantStream(tenantId));
    const folded = foldTenantSummary(events.map(toSummaryEvent));
    if (!folded) throw tenantNotFound(tenantId);
    return folded;
  }
}
