import { Inject } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { TenantReadModel } from '../read-model/tenant-read-model';
import { TENANT_READ_MODEL } from '../tokens';
import { parseListQuery } from './query-params';
import { ListTenants, type TenantListPage } from './tenant.queries';

@QueryHandler(ListTenants)
export class ListTenantsHandler implements IQueryHandler<ListTenants> {
  constructor(@Inject(TENANT_READ_MODEL) private readonly readModel: TenantReadModel) {}

  async execute({ query }: ListTenants): Promise<TenantListPage> {
    const filter = parseListQuery(query);
    const page = await this.readModel.list(filter);
    return { items: page.items, total: page.total, limit: filter.limit, offset: filter.offset };
  }
}
