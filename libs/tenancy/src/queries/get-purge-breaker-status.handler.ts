import { EVENT_STORE, type EventStore } from '@app/event-store';
import { Inject } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { breakerStatus, readGuardrailHistory, type BreakerStatus } from '../operations/purge-breaker';
import { CLOCK, type Clock } from '../tokens';
import { GetPurgeBreakerStatus } from './tenant.queries';

@QueryHandler(GetPurgeBreakerStatus)
export class GetPurgeBreakerStatusHandler implements IQueryHandler<GetPurgeBreakerStatus> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async execute(): Promise<BreakerStatus> {
    return breakerStatus(await readGuardrailHistory(this.store), this.clock());
  }
}
