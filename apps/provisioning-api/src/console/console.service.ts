import { verifyTenant } from '@app/audit';
import { tenantStream } from '@app/contracts';
import { StreamNotFoundError, type EventStore } from '@app/event-store';
import { QueryError, QUERY_ERROR_CODES } from '../tenants/query.errors';
import type { TenantReadModel } from '../tenants/tenant-read-model';
import {
  assertTenantIdParam,
  LIST_MAX_LIMIT,
  parseListQuery,
  type RawQuery,
} from '../tenants/tenant-queries';
import type { TenantSummary } from '../tenants/tenant-summary.projection';
import type { ConsoleConfig } from './console.config';
import { auditView, consoleListItem, consoleTenantView, parkedWork, tenantHealth } from './views';

/** The attention page scans the read model page by page; past this many tenants it says it stopped. */
export const ATTENTION_SCAN_LIMIT = 10_000;

/** Read side of the console: the list with health badges, work waiting for an operator, chain verification. */
export class ConsoleQueries {
  constructor(
    private readonly store: EventStore,
    private readonly readModel: TenantReadModel,
    private readonly config: ConsoleConfig,
  ) {}

  async list(query: RawQuery) {
    const filter = parseListQuery(query);
    const page = await this.readModel.list(filter);
    return {
      items: page.items.map(consoleListItem),
      total: page.total,
      limit: filter.limit,
      offset: filter.offset,
    };
  }

  /** Tenants with parked steps, and failed or rolling-back tenants, newest change first. */
  async attention() {
    const found: TenantSummary[] = [];
    let offset = 0;
    let total = 0;
    do {
      const page = await this.readModel.list({ limit: LIST_MAX_LIMIT, offset });
      total = page.total;
      for (const summary of page.items) {
        const level = tenantHealth(summary).level;
        if (level === 'critical' || level === 'warning') found.push(summary);
      }
      if (page.items.length === 0) break;
      offset += page.items.length;
    } while (offset < total && offset < ATTENTION_SCAN_LIMIT);
    found.sort((a, b) => b.updatedAt.localeCompare(a.updatedAt));
    return {
      items: found.map((summary) => ({
        ...consoleListItem(summary),
        failure_reason: summary.failureReason,
        parked: parkedWork(summary),
      })),
      scanned: Math.min(offset, total),
      total,
    };
  }

  async audit(tenantId: string) {
    assertTenantIdParam(tenantId);
    const verification = await verifyTenant(this.store, tenantId);
    if (verification.uncoveredEvents === 0 && verification.coveredUpTo < 0) {
      await this.assertExists(tenantId);
    }
    return auditView(verification);
  }

  tenantView(summary: TenantSummary) {
    return consoleTenantView(summary, this.config.GRAFANA_PUBLIC_URL);
  }

  private async assertExists(tenantId: string): Promise<void> {
    try {
      await this.store.readStream(tenantStream(tenantId), { limit: 1 });
    } catch (error) {
      if (error instanceof StreamNotFoundError) {
        throw new QueryError(QUERY_ERROR_CODES.TENANT_NOT_FOUND, `tenant ${tenantId} not found`);
      }
      throw error;
    }
  }
}
