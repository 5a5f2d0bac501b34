import { Controller, Get, Param, Query, UseGuards } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOperation, ApiParam, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import { IMAGE_TAG_PATTERN, TIERS } from '@app/contracts';
import type { TenantPlan } from '@app/plans';
import { GetTenantPlan, type RawQuery } from '@app/tenancy';
import { ApiTokenGuard } from '../tenants/api-token.guard';

/** What-if plans: read like the other tenant queries, by any operator or auditor token. */
@ApiTags('tenants')
@ApiBearerAuth()
@ApiResponse({ status: 401, description: 'Missing or unknown operator/auditor token' })
@Controller('api/v1/tenants')
@UseGuards(ApiTokenGuard)
export class PlansController {
  constructor(private readonly queries: QueryBus) {}

  @Get(':id/plan')
  @ApiOperation({
    summary: 'What-if plan: every change one action would make, computed and never applied',
    description:
      'Exactly one of tier, suspend, purge or imageTag. The tenant tree is rendered before and after with the ' +
      "services' own builders: Kubernetes objects added, removed and changed (each changed one with its fields and a " +
      'unified diff), database users and statements, vhost limits and topology, buckets and quotas, Grafana objects ' +
      'and the e-mails that would be sent. Nothing is appended to the tenant stream.',
  })
  @ApiParam({ name: 'id', example: 'abc-corporation-7f3a9c' })
  @ApiQuery({ name: 'tier', required: false, enum: [...TIERS], description: 'plan a change to this tier' })
  @ApiQuery({ name: 'suspend', required: false, enum: ['true'], description: 'plan a suspension' })
  @ApiQuery({
    name: 'purge',
    required: false,
    enum: ['true'],
    description: 'plan the purge (now in the grace period, else after the cancellation that starts it)',
  })
  @ApiQuery({
    name: 'imageTag',
    required: false,
    description: `plan an image tag change (${IMAGE_TAG_PATTERN})`,
  })
  @ApiResponse({ status: 200, description: 'The plan' })
  @ApiResponse({ status: 400, description: 'Malformed tenant id, or not exactly one valid change' })
  @ApiResponse({ status: 404, description: 'Unknown tenant' })
  @ApiResponse({
    status: 409,
    description: "The change is not admissible in the tenant's state (PLAN.NOT_ADMISSIBLE)",
  })
  async plan(@Param('id') id: string, @Query() query: RawQuery): Promise<TenantPlan> {
    return this.queries.execute(new GetTenantPlan(id, query));
  }
}
