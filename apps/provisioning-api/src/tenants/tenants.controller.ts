import { Controller, Get, Param, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiParam, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import { TENANT_STATUSES } from './tenant-summary.projection';
import { TIERS } from '@app/contracts';
import { ApiTokenGuard } from './api-token.guard';
import { TenantQueries, type RawQuery } from './tenant-queries';

/** Operator and auditor queries; any configured operator or auditor token may read. */
@ApiTags('tenants')
@ApiBearerAuth()
@ApiResponse({ status: 401, description: 'Missing or unknown operator/auditor token' })
@Controller('api/v1/tenants')
@UseGuards(ApiTokenGuard)
export class TenantsController {
  constructor(private readonly queries: TenantQueries) {}

  @Get()
  @ApiOperation({ summary: 'List tenants (state, tier, company, domain, current step, timestamps)' })
  @ApiQuery({ name: 'state', required: false, enum: [...TENANT_STATUSES] })
  @ApiQuery({ name: 'tier', required: false, enum: [...TIERS] })
  @ApiQuery({ name: 'q', required: false, description: 'substring of tenant id, company or domain' })
  @ApiQuery({ name: 'limit', required: false, type: Number })
  @ApiQuery({ name: 'offset', required: false, type: Number })
  list(@Query() query: RawQuery) {
    return this.queries.list(query);
  }

  @Get(':id')
  @ApiOperation({
    summary: 'Tenant status: state, current step, per-step status, timestamps, failure reason',
  })
  @ApiParam({ name: 'id', example: 'abc-corporation-7f3a9c' })
  @ApiResponse({ status: 404, description: 'Unknown tenant' })
  @ApiResponse({ status: 400, description: 'Malformed tenant id' })
  get(@Param('id') id: string) {
    return this.queries.get(id);
  }

  @Get(':id/events')
  @ApiOperation({ summary: 'Audit history: the tenant stream, paged by revision' })
  @ApiParam({ name: 'id', example: 'abc-corporation-7f3a9c' })
  @ApiQuery({ name: 'from', required: false, type: Number, description: 'first revision (inclusive)' })
  @ApiQuery({ name: 'limit', required: false, type: Number })
  events(@Param('id') id: string, @Query() query: RawQuery) {
    return this.queries.events(id, query);
  }
}
