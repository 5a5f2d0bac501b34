import { Controller, Get, Inject, Param, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApproveDriftRepair, GetTenantDrift, RequestDriftCheck } from '@app/tenancy';
import type { Logger } from 'pino';
import { OperatorAction, OperatorRequest, type OperatorInput } from '../operations/operator-action';
import { ApiTokenGuard } from '../tenants/api-token.guard';
import { APP_LOGGER } from '../tokens';

const REASON_BODY = {
  schema: {
    type: 'object',
    required: ['reason'],
    properties: { reason: { type: 'string', example: 'customer reports missing orders queue, ticket 4711' } },
  },
};

/** Drift checks and repairs of a tenant: an operator's immediate check and repair approvals; the drift summary. */
@ApiTags('drift')
@ApiBearerAuth()
@Controller('api/v1/tenants')
@UseGuards(ApiTokenGuard)
export class DriftController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
    @Inject(APP_LOGGER) private readonly logger: Logger,
  ) {}

  @Get(':id/drift')
  @ApiOperation({
    summary: "A tenant's drift: the last check, the drifts open and the last ones closed",
    description: 'Folded from the tenant stream (DriftCheckRequested, DriftDetected, DriftRepaired...).',
  })
  @ApiParam({ name: 'id', example: 'abc-corporation-7f3a9c' })
  @ApiResponse({ status: 200, description: 'The drift summary' })
  @ApiResponse({ status: 400, description: 'Invalid tenant id' })
  @ApiResponse({ status: 404, description: 'Unknown tenant' })
  async drift(@Param('id') id: string) {
    return this.queries.execute(new GetTenantDrift(id));
  }

  @Post(':id/drift-check')
  @OperatorAction()
  @ApiOperation({
    summary: 'Verify an active tenant again now',
    description:
      'Appends DriftCheckRequested: the orchestrator runs every verify command (databases, storage, broker, ' +
      "Kubernetes) under the check's own step keys. A failure records DriftDetected; safe kinds are repaired " +
      'at once, the others wait for POST /drift/{driftId}/repair. The tenant stays active.',
  })
  @ApiParam({ name: 'id', example: 'abc-corporation-7f3a9c' })
  @ApiBody(REASON_BODY)
  @ApiResponse({ status: 202, description: 'DriftCheckRequested appended (check: its number)' })
  @ApiResponse({ status: 400, description: 'Invalid tenant id, reason or Idempotency-Key' })
  @ApiResponse({ status: 401, description: 'Missing or unknown token' })
  @ApiResponse({ status: 403, description: 'Not an operator token' })
  @ApiResponse({ status: 404, description: 'Unknown tenant' })
  @ApiResponse({ status: 409, description: 'DRIFT.TENANT_NOT_ACTIVE or DRIFT.CHECK_IN_PROGRESS' })
  @ApiResponse({ status: 422, description: 'Idempotency-Key already used for another request' })
  async check(
    @Param('id') id: string,
    @OperatorRequest() { operator, idempotencyKey, field }: OperatorInput,
  ) {
    const result = await this.commands.execute(
      new RequestDriftCheck({ tenantId: id, reason: field('reason'), operator, idempotencyKey }),
    );
    this.logger.info(
      { tenantId: id, operator, check: result.check, duplicate: result.duplicate },
      'operator drift check requested',
    );
    return {
      tenant_id: result.tenantId,
      check: result.check,
      event_id: result.eventId,
      duplicate: result.duplicate,
      drift_url: `/api/v1/tenants/${result.tenantId}/drift`,
    };
  }

  @Post(':id/drift/:driftId/repair')
  @OperatorAction()
  @ApiOperation({
    summary: 'Approve the repair of a drift',
    description:
      "Appends DriftRepairApproved: the orchestrator runs the resource's provision command again (idempotent), " +
      'then its verify; DriftRepaired closes the drift, DriftRepairFailed keeps it open with the error.',
  })
  @ApiParam({ name: 'id', example: 'abc-corporation-7f3a9c' })
  @ApiParam({ name: 'driftId', example: '3-databases' })
  @ApiBody(REASON_BODY)
  @ApiResponse({ status: 202, description: 'DriftRepairApproved appended' })
  @ApiResponse({ status: 400, description: 'Invalid tenant id, drift id, reason or Idempotency-Key' })
  @ApiResponse({ status: 401, description: 'Missing or unknown token' })
  @ApiResponse({ status: 403, description: 'Not an operator token' })
  @ApiResponse({
    status: 404,
    description: 'Unknown tenant, or DRIFT.NOT_FOUND (no open drift with this id)',
  })
  @ApiResponse({ status: 409, description: 'DRIFT.TENANT_NOT_ACTIVE or DRIFT.REPAIR_IN_PROGRESS' })
  @ApiResponse({ status: 422, description: 'Idempotency-Key already used for another request' })
  async repair(
    @Param('id') id: string,
    @Param('driftId') driftId: string,
    @OperatorRequest() { operator, idempotencyKey, field }: OperatorInput,
  ) {
    const result = await this.commands.execute(
      new ApproveDriftRepair({ tenantId: id, driftId, reason: field('reason'), operator, idempotencyKey }),
    );
    this.logger.info(
      { tenantId: id, driftId, operator, duplicate: result.duplicate },
      'operator approved a drift repair',
    );
    return {
      tenant_id: result.tenantId,
      drift_id: result.driftId,
      event_id: result.eventId,
      duplicate: result.duplicate,
      drift_url: `/api/v1/tenants/${result.tenantId}/drift`,
    };
  }
}
