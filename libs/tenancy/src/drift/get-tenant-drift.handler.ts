import { isTenantId, tenantStream } from '@app/contracts';
import { EVENT_STORE, readStreamOrEmpty, type EventStore } from '@app/event-store';
import { Inject } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { UseCaseError } from '../errors';
import { foldTenantSummary, toSummaryEvent } from '../read-model/tenant-summary.projection';
import { emptyDriftSummary, type DriftSummary } from './drift.projection';
import { GetTenantDrift } from './drift.commands';

/** A tenant's drift checks and drifts, folded from its stream by the read model's own fold. */
@QueryHandler(GetTenantDrift)
export class GetTenantDriftHandler implements IQueryHandler<GetTenantDrift> {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  async execute({ tenantId }: GetTenantDrift): Promise<DriftSummary> {
    if (!isTenantId(tenantId)) {
      throw new UseCaseError('QUERY.INVALID_TENANT_ID', 'tenant id must look like abc-corporation-7f3a9c');
    }
    const events = await readStreamOrEmpty(this.store, tenantStream(tenantId));
    const summary = foldTenantSummary(events.map(toSummaryEvent));
    if (!summary) throw new UseCaseError('QUERY.TENANT_NOT_FOUND', `tenant ${tenantId} not found`);
    return summary.drift ?? emptyDriftSummary();
  }
}
