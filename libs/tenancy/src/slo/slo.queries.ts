import { Query } from '@nestjs/cqrs';
import type { RawQuery } from '../queries/query-params';
import type { SloReport } from './slo-report';

/**
 * The provisioning SLO report of a period (`since`, `until`, `tier` in `query`, as sent), computed from the
 * tenant streams of the event store alone (never the read model), so any period can be replayed.
 */
export class GetSloReport extends Query<SloReport> {
  constructor(readonly query: RawQuery) {
    super();
  }
}
