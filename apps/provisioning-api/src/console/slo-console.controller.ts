import { Controller, Get, Query, UseGuards } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOperation, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import { GetSloReport, type RawQuery } from '@app/tenancy';
import { ApiTokenGuard } from '../tenants/api-token.guard';
import { sloConsoleView } from './slo-views';

/** The console's SLO page: the report of `GET /api/v1/slo` with its charts laid out. */
@ApiTags('console')
@ApiBearerAuth()
@ApiResponse({ status: 401, description: 'Missing or unknown operator/auditor token' })
@Controller('api/v1/console/slo')
@UseGuards(ApiTokenGuard)
export class SloConsoleController {
  constructor(private readonly queries: QueryBus) {}

  @Get()
  @ApiOperation({ summary: 'SLO report with its charts as SVG data (same parameters as /api/v1/slo)' })
  @ApiQuery({ name: 'since', required: false })
  @ApiQuery({ name: 'until', required: false })
  @ApiQuery({ name: 'tier', required: false })
  @ApiResponse({ status: 400, description: 'Malformed since, until or tier' })
  async report(@Query() query: RawQuery) {
    return sloConsoleView(await this.queries.execute(new GetSloReport(query)));
  }
}
