import { Controller, Inject, Param, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import { CommandBus } from '@nestjs/cqrs';
import { RequestStepRetry, RequestTenantCancellation, RequestTenantPurge } from '@app/tenancy';
import type { Logger } from 'pino';
import { ApiTokenGuard } from '../tenants/api-token.guard';
import { APP_LOGGER } from '../tokens';
import { OperatorAction, OperatorRequest, type OperatorInput } from './operator-action';

const statusUrl = (tenantId: string) => `/api/v1/tenants/${tenantId}`;

/** Operator actions: each a command on the CommandBus; the token's name is recorded as the operator. */
@ApiTags('operator actions')
@ApiBearerAuth()
@ApiResponse({ status: 401, description: 'Missing or unknown token' })
@ApiResponse({ status: 403, description: 'Not an operator token (auditors may only read)' })
@ApiResponse({
  status: 400,
  description:
    'Invalid tenant id, step, reason (required, one line, at most 500 characters) or Idempotency-Key',
})
@ApiResponse({ status: 404, description: 'Unknown tenant' })
@ApiResponse({ status: 422, description: 'Idempotency-Key already used for another request' })
@Controller('api/v1/tenants')
@UseGuards(ApiTokenGuard)
export class OperationsController {
  constructor(
    private readonly commands: CommandBus,
    @Inject(APP_LOGGER) private readonly logger: Logger,
  ) {}

  @Post(':id/retry')
  @OperatorAction()
  @ApiOperation({ summary: 'Ask the orchestrator to re-issue a parked step or a blocked backup round' })
  @ApiParam({ name: 'id', example: 'abc-corporation-7f3a9c' })
  @ApiBody({
    schema: {
      type: 'object',
      required: ['step', 'reason'],
      properties: { step: { type: 'string', example: 'compensate:databases' }, reason: { type: 'string' } },
    },
  })
  @ApiResponse({ status: 202, description: 'OperatorRetryRequested appended' })
  @ApiResponse({ status: 409, description: 'The step is not waiting for an operator' })
  async retry(
    @Param('id') id: string,
    @OperatorRequest() { operator, idempotencyKey, field }: OperatorInput,
  ) {
    const result = await this.commands.execute(
      new RequestStepRetry({
        tenantId: id,
        step: field('step'),
        reason: field('reason'),
        operator,
        idempotencyKey,
      }),
    );
    this.logger.info(
      { tenantId: id, step: result.step, operator, duplicate: result.duplicate },
      'operator retry requested',
    );
    return {
      tenant_id: result.tenantId,
      step: result.step,
      event_id: result.eventId,
      duplicate: result.duplicate,
      status_url: statusUrl(result.tenantId),
    };
  }

  @Post(':id/cancel')
  @OperatorAction()
  @ApiOperation({ summary: 'Cancel a tenant: grace period from now, then final backup and deletion' })
  @ApiParam({ name: 'id', example: 'abc-corporation-7f3a9c' })
  @ApiBody({
    schema: { type: 'object', required: ['reason'], properties: { reason: { type: 'string' } } },
  })
  @ApiResponse({ status: 202, description: 'CancellationRequested appended' })
  @ApiResponse({ status: 409, description: 'The tenant is neither active nor suspended' })
  async cancel(
    @Param('id') id: string,
    @OperatorRequest() { operator, idempotencyKey, field }: OperatorInput,
  ) {
    const result = await this.commands.execute(
      new RequestTenantCancellation({
        tenantId: id,
        reason: field('reason'),
        operator,
        idempotencyKey,
      }),
    );
    this.logger.info(
      { tenantId: id, operator, duplicate: result.duplicate },
      'operator cancellation requested',
    );
    return {
      tenant_id: result.tenantId,
      status: 'deprovisioning',
      deletion_date: result.deletionDate,
      event_id: result.eventId,
      duplicate: result.duplicate,
      status_url: statusUrl(result.tenantId),
    };
  }

  @Post(':id/purge')
  @OperatorAction()
  @ApiOperation({
    summary: 'Purge a tenant in its grace period now instead of at its deletion date',
    description:
      'Appends OperatorPurgeRequested (operator and reason, visible in the tenant history and audit chain). The ' +
      'orchestrator then takes and verifies a final backup and starts the purge through the purge guardrails: ' +
      'the hourly cap and the mass-cancellation breaker can still hold it (PurgeBlocked in the history).',
  })
  @ApiParam({ name: 'id', example: 'abc-corporation-7f3a9c' })
  @ApiBody({
    schema: {
      type: 'object',
      required: ['reason'],
      properties: {
        reason: { type: 'string', example: 'customer asked for erasure (GDPR art. 17), ticket 4711' },
      },
    },
  })
  @ApiResponse({
    status: 202,
    description: 'OperatorPurgeRequested appended',
    schema: {
      type: 'object',
      properties: {
        tenant_id: { type: 'string' },
        status: { type: 'string', enum: ['deprovisioning'] },
        deletion_date: {
          type: 'string',
          format: 'date-time',
          description: 'The date the purge no longer waits for',
        },
        purge_requested_at: { type: 'string', format: 'date-time' },
        event_id: { type: 'string' },
        duplicate: { type: 'boolean' },
        status_url: { type: 'string' },
      },
    },
  })
  @ApiResponse({
    status: 409,
    description:
      'OPERATION.NOT_IN_GRACE_PERIOD (not cancelled, or its purge already started) or OPERATION.PURGE_ALREADY_REQUESTED',
  })
  async purge(
    @Param('id') id: string,
    @OperatorRequest() { operator, idempotencyKey, field }: OperatorInput,
  ) {
    const result = await this.commands.execute(
      new RequestTenantPurge({ tenantId: id, reason: field('reason'), operator, idempotencyKey }),
    );
    this.logger.warn(
      { tenantId: id, operator, duplicate: result.duplicate },
      'operator purge requested before the deletion date',
    );
    return {
      tenant_id: result.tenantId,
      status: 'deprovisioning',
      deletion_date: result.deletionDate,
      purge_requested_at: result.requestedAt,
      event_id: result.eventId,
      duplicate: result.duplicate,
      status_url: statusUrl(result.tenantId),
    };
  }
}
