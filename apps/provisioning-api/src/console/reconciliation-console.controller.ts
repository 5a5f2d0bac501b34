import { Controller, Get, UseGuards } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ApiTokenGuard } from '../tenants/api-token.guard';
import { ListReconciliationRuns } from './list-reconciliation-runs.handler';
import { reconciliationConsolePage, RECONCILIATION_PAGE_RUNS } from './reconciliation-console-views';

/**
 * The console's reconciliation page: the recorded runs with their proposals, labels and the decisions still
 * open laid out (runs start through `POST /api/v1/reconciliations`, decisions through its `actions/...` routes).
 */
@ApiTags('console')
@ApiBearerAuth()
@ApiResponse({ status: 401, description: 'Missing or unknown operator/auditor token' })
@Controller('api/v1/console/reconciliations')
@UseGuards(ApiTokenGuard)
export class ReconciliationConsoleController {
  constructor(private readonly queries: QueryBus) {}

  @Get()
  @ApiOperation({
    summary: `The ${RECONCILIATION_PAGE_RUNS} newest billing reconciliations, each with its proposals and their decisions`,
  })
  async list() {
    return reconciliationConsolePage(await this.queries.execute(new ListReconciliationRuns()));
  }
}
