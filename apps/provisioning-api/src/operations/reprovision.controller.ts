import { Controller, Inject, Param, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import { CommandBus } from '@nestjs/cqrs';
import { RequestReprovisioning } from '@app/tenancy';
import type { Logger } from 'pino';
import { ApiTokenGuard } from '../tenants/api-token.guard';
import { APP_LOGGER } from '../tokens';
import { OperatorAction, OperatorRequest, type OperatorInput } from './operator-action';

/** The operator's re-provisioning of a tenant whose provisioning failed: a command on the CommandBus. */
@ApiTags('operator actions')
@ApiBearerAuth()
@Controller('api/v1/tenants')
@UseGuards(ApiTokenGuard)
export class ReprovisionController {
  constructor(
    private readonly commands: CommandBus,
    @Inject(APP_LOGGER) private readonly logger: Logger,
  ) {}

  @Post(':id/reprovision')
  @OperatorAction()
  @ApiOperation({
    summary: 'Provision again a tenant whose provisioning failed and was rolled back',
    description:
      'Appends ReprovisioningRequested (operator and reason, in the tenant history and audit chain): the ' +
      'orchestrator starts a fresh run of the same tenant id, subscription and domain, every step anew. The ' +
      "failed run's events stay in the history, and the tenant's detail lists it under its failed runs.",
  })
  @ApiParam({ name: 'id', example: 'abc-corporation-7f3a9c' })
  @ApiBody({
    schema: {
      type: 'object',
      required: ['reason'],
      properties: { reason: { type: 'string', example: 'MySQL quota raised, ticket 4711' } },
    },
  })
  @ApiResponse({
    status: 202,
    description: 'ReprovisioningRequested appended',
    schema: {
      type: 'object',
      properties: {
        tenant_id: { type: 'string' },
        status: { type: 'string', enum: ['requested'] },
        run: { type: 'integer', description: 'Number of the new provisioning run (the first run is 1)' },
        event_id: { type: 'string' },
        duplicate: { type: 'boolean' },
        status_url: { type: 'string' },
      },
    },
  })
  @ApiResponse({ status: 400, description: 'Invalid tenant id, reason or Idempotency-Key' })
  @ApiResponse({ status: 401, description: 'Missing or unknown token' })
  @ApiResponse({ status: 403, description: 'Not an operator token (auditors may only read)' })
  @ApiResponse({ status: 404, description: 'Unknown tenant' })
  @ApiResponse({
    status: 409,
    description:
      'OPERATION.PROVISIONING_IN_PROGRESS, OPERATION.ROLLBACK_NOT_COMPLETE (rolling back, or a compensation ' +
      'parked or still running), OPERATION.TENANT_ACTIVE or OPERATION.TENANT_CANCELLED (cancelled, in its ' +
      'grace period or purged)',
  })
  @ApiResponse({ status: 422, description: 'Idempotency-Key already used for another request' })
  async reprovision(
    @Param('id') id: string,
    @OperatorRequest() { operator, idempotencyKey, field }: OperatorInput,
  ) {
    const result = await this.commands.execute(
      new RequestReprovisioning({ tenantId: id, reason: field('reason'), operator, idempotencyKey }),
    );
    this.logger.info(
      { tenantId: id, operator, run: result.run, duplicate: result.duplicate },
      'operator re-provisioning requested',
    );
    return {
      tenant_id: result.tenantId,
      status: 'requested',
      run: result.run,
      event_id: result.eventId,
      duplicate: result.duplicate,
      status_url: `/api/v1/tenants/${result.tenantId}`,
    };
  }
}
