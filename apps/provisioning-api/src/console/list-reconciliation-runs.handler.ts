import { RECONCILIATION_STREAM_CATEGORY } from '@app/contracts';
import { EVENT_STORE, type EventStore, type RecordedEvent } from '@app/event-store';
import { foldReconciliation, type ReconciliationView } from '@app/tenancy';
import { Inject } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';

const PAGE = 1000;

/** Every recorded reconciliation with its proposals and their decisions, newest first. */
export class ListReconciliationRuns extends Query<ReconciliationView[]> {}

/**
 * The console's reconciliation page: each run as recorded (source, operator, what was compared), with its
 * proposals, including runs that found nothing. Reads the reconciliation category (its own, few short streams:
 * one per run an operator asked for).
 */
@QueryHandler(ListReconciliationRuns)
export class ListReconciliationRunsHandler implements IQueryHandler<ListReconciliationRuns> {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  async execute(): Promise<ReconciliationView[]> {
    const streams = new Map<string, RecordedEvent[]>();
    for (let after: string | undefined; ;) {
      const filter = { category: RECONCILIATION_STREAM_CATEGORY };
      const page = await this.store.readAll({ filter, limit: PAGE, ...(after ? { after } : {}) });
      for (const event of page) {
        const events = streams.get(event.streamName);
        if (events) events.push(event);
        else streams.set(event.streamName, [event]);
      }
      if (page.length < PAGE) break;
      after = page[page.length - 1].position;
    }
    return [...streams.values()]
      .map((events) => foldReconciliation(events))
      .filter((view): view is ReconciliationView => view !== undefined)
      .sort(
        (a, b) =>
          b.recordedAt.localeCompare(a.recordedAt) || a.reconciliationId.localeCompare(b.reconciliationId),
      );
  }
}
