import { LIST_MAX_LIMIT, TENANT_READ_MODEL, type TenantReadModel, type TenantSummary } from '@app/tenancy';
import { Inject } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { ListTenantsNeedingAttention, type AttentionPage } from './console.queries';
import { tenantHealth } from './views';

/** The attention page scans the read model page by page; past this many tenants it says it stopped. */
const ATTENTION_SCAN_LIMIT = 10_000;

@QueryHandler(ListTenantsNeedingAttention)
export class ListTenantsNeedingAttentionHandler implements IQueryHandler<ListTenantsNeedingAttention> {
  constructor(@Inject(TENANT_READ_MODEL) private readonly readModel: TenantReadModel) {}

  async execute(): Promise<AttentionPage> {
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
    return { items: found, scanned: Math.min(offset, total), total };
  }
}
