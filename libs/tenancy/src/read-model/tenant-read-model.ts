import type { Checkpoint, RecordedEvent } from '@app/event-store';
import type { Tier } from '@app/contracts';
import type { TenantStatus, TenantSummary } from './tenant-summary.projection';

export interface TenantListQuery {
  status?: TenantStatus;
  tier?: Tier;
  /** Case-insensitive substring of the tenant id, company name or domain. */
  q?: string;
  /** Only tenants with at least one open drift. */
  openDrift?: boolean;
  limit: number;
  offset: number;
}

export interface TenantPage {
  items: TenantSummary[];
  total: number;
}

/** What applying one event changed; undefined when the event was at or below the stored checkpoint. */
export interface AppliedChange {
  before: TenantSummary | null;
  after: TenantSummary | null;
}

/**
 * The tenant read model (DESIGN.md section 2): written only by the projector, one event at a time, with the
 * checkpoint stored atomically with the row so a replayed event has no second effect.
 */
export interface TenantReadModel {
  migrate(): Promise<void>;
  checkpoint(): Promise<Checkpoint | undefined>;
  apply(event: RecordedEvent): Promise<AppliedChange | undefined>;
  get(tenantId: string): Promise<TenantSummary | undefined>;
  list(query: TenantListQuery): Promise<TenantPage>;
  countByStatus(): Promise<Record<TenantStatus, number>>;
  /** Open drifts by kind, over every tenant not purged. */
  countOpenDrifts(): Promise<Record<string, number>>;
  /** Drops every row and the checkpoint, so the projector replays from the start. */
  reset(): Promise<void>;
  /** Cheap round trip for /ready. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export const PROJECTION_NAME = 'tenant_summaries';
