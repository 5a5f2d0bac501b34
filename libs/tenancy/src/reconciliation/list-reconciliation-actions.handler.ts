import { RECONCILIATION_ID_PATTERN, RECONCILIATION_STREAM_CATEGORY, type Violation } from '@app/contracts';
import { EVENT_STORE, type EventStore, type RecordedEvent } from '@app/event-store';
import { Inject } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { invalidRequest } from '../errors';
import { ListReconciliationActions, type ReconciliationActionPage } from './reconciliation.commands';
import {
  foldReconciliation,
  RECONCILIATION_ACTION_STATES,
  type ReconciliationActionState,
} from './reconciliation-stream';

const PAGE = 1000;

/**
 * Proposed actions folded from the reconciliation streams (their own category, read in commit order). Operators
 * decide them one by one, so the streams stay few and short; the console lists the open ones.
 */
@QueryHandler(ListReconciliationActions)
export class ListReconciliationActionsHandler implements IQueryHandler<ListReconciliationActions> {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  async execute({ query }: ListReconciliationActions): Promise<ReconciliationActionPage> {
    const state = query.state ?? 'open';
    const violations: Violation[] = [];
    const states: readonly string[] = [...RECONCILIATION_ACTION_STATES, 'all'];
    if (typeof state !== 'string' || !states.includes(state)) {
      violations.push({
        field: 'state',
        rules: ['isIn'],
        messages: [`state must be one of ${states.join(', ')}`],
      });
    }
    const only = query.reconciliationId;
    if (only !== undefined && (typeof only !== 'string' || !RECONCILIATION_ID_PATTERN.test(only))) {
      violations.push({
        field: 'reconciliation_id',
        rules: ['isUuid'],
        messages: ['reconciliation_id must be a lowercase UUID'],
      });
    }
    if (violations.length > 0) throw invalidRequest('invalid query', violations);
    const streams = new Map<string, RecordedEvent[]>();
    for (let after: string | undefined; ;) {
      const page = await this.store.readAll({
        filter: { category: RECONCILIATION_STREAM_CATEGORY },
        limit: PAGE,
        ...(after ? { after } : {}),
      });
      for (const event of page)
        streams.set(event.streamName, [...(streams.get(event.streamName) ?? []), event]);
      if (page.length < PAGE) break;
      after = page[page.length - 1].position;
    }
    const views = [...streams.values()]
      .map((events) => foldReconciliation(events))
      .filter((view) => view !== undefined && (only === undefined || view.reconciliationId === only));
    const items = views
      .flatMap((view) => view!.actions)
      .filter((action) => state === 'all' || action.state === (state as ReconciliationActionState))
      .sort((a, b) => b.proposedAt.localeCompare(a.proposedAt) || a.actionId.localeCompare(b.actionId));
    return { items, reconciliations: views.length };
  }
}
