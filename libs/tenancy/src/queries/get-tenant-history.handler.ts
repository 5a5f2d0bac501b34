import { tenantStream, type Violation } from '@app/contracts';
import { EVENT_STORE, StreamNotFoundError, type EventStore, type RecordedEvent } from '@app/event-store';
import { Inject } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { invalidRequest } from '../errors';
import { assertTenantIdParam, EVENTS_MAX_LIMIT, intParam, tenantNotFound } from './query-params';
import { GetTenantHistory, type TenantHistoryPage } from './tenant.queries';

/** The audit history: the tenant's stream as stored, paged by revision. */
@QueryHandler(GetTenantHistory)
export class GetTenantHistoryHandler implements IQueryHandler<GetTenantHistory> {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  async execute({ tenantId, query }: GetTenantHistory): Promise<TenantHistoryPage> {
    assertTenantIdParam(tenantId);
    const violations: Violation[] = [];
    const from = intParam(query, 'from', 0, 0, 1_000_000_000, violations);
    const limit = intParam(query, 'limit', 100, 1, EVENTS_MAX_LIMIT, violations);
    if (violations.length > 0) throw invalidRequest('invalid query', violations);
    let events: RecordedEvent[];
    try {
      // One more than asked tells whether another page follows.
      events = await this.store.readStream(tenantStream(tenantId), { from, limit: limit + 1 });
    } catch (error) {
      if (error instanceof StreamNotFoundError) throw tenantNotFound(tenantId);
      throw error;
    }
    const page = events.slice(0, limit);
    return {
      tenantId,
      events: page,
      nextFrom: events.length > limit ? page[page.length - 1].revision + 1 : null,
    };
  }
}
