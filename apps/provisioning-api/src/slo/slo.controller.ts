import { Controller, Get, Query, UseGuards } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOperation, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import { TIERS } from '@app/contracts';
import { GetSloReport, type RawQuery, type SloReport } from '@app/tenancy';
import { ApiTokenGuard } from '../tenants/api-token.guard';

const INSTANT =
  'a date (2025-01-15), a date-time with a zone (2025-01-15T10:00:00Z) or a duration back from now (90m, 24h, 7d, 2w)';

/** The provisioning SLO report; operators and auditors may read it. */
@ApiTags('slo')
@ApiBearerAuth()
@ApiResponse({ status: 401, description: 'Missing or unknown operator/auditor token' })
@Controller('api/v1/slo')
@UseGuards(ApiTokenGuard)
export class SloController {
  constructor(private readonly queries: QueryBus) {}

  @Get()
  @ApiOperation({
    summary: 'Provisioning SLO report of a period, computed from the tenant event streams alone',
    description:
      'Time-to-active p50/p95/p99 overall and per tier, success ratio, per-step and per-phase durations and time ' +
      "in each lifecycle state, against the specification's 8-11 minutes, phase budgets and 99.5 %. Runs count " +
      'in the period they ended in; events from `until` on are not read into it, so a past period never changes.',
  })
  @ApiQuery({ name: 'since', required: false, description: `${INSTANT}; default 30 days before until` })
  @ApiQuery({ name: 'until', required: false, description: `${INSTANT}; default now` })
  @ApiQuery({ name: 'tier', required: false, enum: [...TIERS] })
  @ApiResponse({ status: 400, description: 'Malformed since, until or tier, or since not before until' })
  async report(@Query() query: RawQuery): Promise<SloReport> {
    return this.queries.execute(new GetSloReport(query));
  }
}
