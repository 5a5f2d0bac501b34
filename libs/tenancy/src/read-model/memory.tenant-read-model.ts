import { tenantIdFromStream } from '@app/contracts';
import type { Checkpoint, RecordedEvent } from '@app/event-store';
import type { AppliedChange, TenantListQuery, TenantPage, TenantReadModel } from './tenant-read-model';
import {
  evolveTenantSummary,
  TENANT_STATUSES,
  toSummaryEvent,
  type TenantStatus,
  type TenantSummary,
} from './tenant-summary.projection';

/** In-process read model for unit tests and `READ_MODEL_URL=memory:`; same fold as the PostgreSQL one. */
export class MemoryTenantReadModel implements TenantReadModel {
  private rows = new Map<string, TenantSummary>();
  private stored: Checkpoint | undefined;

  async migrate(): Promise<void> {}

  async checkpoint(): Promise<Checkpoint | undefined> {
    return this.stored;
  }

  async apply(event: RecordedEvent): Promise<AppliedChange | undefined> {
    if (this.stored !== undefined && event.position <= this.stored) return undefined;
    const tenantId = tenantIdFromStream(event.streamName);
    const before = this.rows.get(tenantId) ?? null;
    const after = evolveTenantSummary(before, toSummaryEvent(event));
    if (after) this.rows.set(tenantId, after);
    this.stored = event.position;
    return { before, after };
  }

  async get(tenantId: string): Promise<TenantSummary | undefined> {
    return this.rows.get(tenantId);
  }

  async list(query: TenantListQuery): Promise<TenantPage> {
    const needle = query.q?.toLowerCase();
    const matching = [...this.rows.values()]
      .filter((row) => !query.status || row.status === query.status)
      .filter((row) => !query.tier || row.tier === query.tier)
      .filter((row) => !query.openDrift || (row.drift?.open.length ?? 0) > 0)
      .filter(
        (row) =>
          !needle ||
          [row.tenantId, row.companyName, row.domain].some((value) => value.toLowerCase().includes(needle)),
      )
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt) || a.tenantId.localeCompare(b.tenantId));
    return { items: matching.slice(query.offset, query.offset + query.limit), total: matching.length };
  }

  async countByStatus(): Promise<Record<TenantStatus, number>> {
    const counts = Object.fromEntries(TENANT_STATUSES.map((status) => [status, 0])) as Record<
      TenantStatus,
      number
    >;
    for (const row of this.rows.values()) counts[row.status] += 1;
    return counts;
  }

  async countOpenDrifts(): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    for (const row of this.rows.values()) {
      if (row.status === 'purged') continue;
      for (const drift of row.drift?.open ?? []) counts[drift.kind] = (counts[drift.kind] ?? 0) + 1;
    }
    return counts;
  }

  async reset(): Promise<void> {
    this.rows = new Map();
    this.stored = undefined;
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {}
}
