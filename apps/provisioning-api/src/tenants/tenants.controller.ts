import { Controller, Get, Param, Query, UseGuards } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOperation, ApiParam, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import { TIERS } from '@app/contracts';
import {
  GetTenant,
  GetTenantHistory,
  historyEvent,
  ListTenants,
  TENANT_STATUSES,
  tenantDetail,
  tenantListItem,
  type RawQuery,
} from '@app/tenancy';
import { ApiTokenGuard } from './api-token.guard';

/** Operator and auditor queries; any configured operator or auditor token may read. */
@ApiTags('tenants')
@ApiBearerAuth()
@ApiResponse({ status: 401, description: 'Missing or unknown operator/auditor token' })
@Controller('api/v1/tenants')
@UseGuards(ApiTokenGuard)
export class TenantsController {
  constructor(private readonly queries: QueryBus) {}

  @Get()
  @ApiOperation({ summary: 'List tenants (state, tier, company, domain, current step, timestamps)' })
  @ApiQuery({ name: 'state', required: false, enum: [...TENANT_STATUSES] })
  @ApiQuery({ name: 'tier', required: false, enum: [...TIERS] })
  @ApiQuery({ name: 'q', required: false, description: 'substring of tenant id, company or domain' })
  @ApiQuery({ name: 'drift', required: false, enum: ['open'], description: 'only tenants with open drift' })
  @ApiQuery({ name: 'limit', required: false, type: Number })
  @ApiQuery({ name: 'offset', required: false, type: Number })
  async list(@Query() query: RawQuery) {
    const page = await this.queries.execute(new ListTenants(query));
    return { ...page, items: page.items.map(tenantListItem) };
  }

  @Get(':id')
  @ApiOperation({
    summary: 'Tenant status: state, current step, per-step status, timestamps, failure reason',
  })
  @ApiParam({ name: 'id', example: 'abc-corporation-7f3a9c' })
  @ApiResponse({ status: 404, description: 'Unknown tenant' })
  @ApiResponse({ status: 400, description: 'Malformed tenant id' })
  async get(@Param('id') id: string) {
    return tenantDetail(await this.queries.execute(new GetTenant(id)));
  }

  @Get(':id/events')
  @ApiOperation({ summary: 'Audit history: the tenant stream, paged by revision' })
  @ApiParam({ name: 'id', example: 'abc-corporation-7f3a9c' })
  @ApiQuery({ name: 'from', required: false, type: Number, description: 'first revision (inclusive)' })
  @ApiQuery({ name: 'limit', required: false, type: Number })
  async events(@Param('id') id: string, @Query() query: RawQuery) {
    const page = await this.queries.execute(new GetTenantHistory(id, query));
    return { tenant_id: page.tenantId, events: page.events.map(historyEvent), next_from: page.nextFrom };
  }
}
