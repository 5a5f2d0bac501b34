import { TENANT_STREAM_CATEGORY } from '@app/contracts';
import { EVENT_STORE, type EventStore } from '@app/event-store';
import { Inject } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { CLOCK, type Clock } from '../tokens';
import { parseSloQuery } from './slo-period';
import { SloCollector, type SloReport } from './slo-report';
import { GetSloReport } from './slo.queries';

/** Events per read of the tenant category: bounded memory per page, few round trips. */
export const SLO_READ_BATCH = 1000;

/** Reads every tenant stream in log order, page by page, into the pure report. */
@QueryHandler(GetSloReport)
export class GetSloReportHandler implements IQueryHandler<GetSloReport> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async execute({ query }: GetSloReport): Promise<SloReport> {
    const period = parseSloQuery(query, this.clock());
    const collector = new SloCollector(period);
    let after: string | undefined;
    for (;;) {
      const page = await this.store.readAll({
        after,
        limit: SLO_READ_BATCH,
        filter: { category: TENANT_STREAM_CATEGORY },
      });
      if (page.length === 0) break;
      for (const event of page) collector.add(event);
      after = page[page.length - 1].position;
    }
    return collector.report();
  }
}
