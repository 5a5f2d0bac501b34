import { Controller, Get, Inject, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import {
  GetPurgeBreakerStatus,
  IDEMPOTENCY_KEY_FORMAT,
  ResetPurgeBreaker,
  type BreakerStatus,
} from '@app/tenancy';
import type { Logger } from 'pino';
import { OperatorAction, OperatorRequest, type OperatorInput } from '../operations/operator-action';
import { ApiTokenGuard } from '../tenants/api-token.guard';
import { APP_LOGGER } from '../tokens';

/** The reset's Idempotency-Key: one breaker, so the key is scoped to the operator alone. */
const RESET_IDEMPOTENCY_POLICY =
  `${IDEMPOTENCY_KEY_FORMAT}, scoped to the operator. A retry once the first reset answered gets its ` +
  'event_id again (duplicate: true, with the breaker as it is now) and appends nothing, even after the ' +
  'breaker tripped again: a stale retry never confirms cancellations its operator did not see. The same key ' +
  'with another reason is refused with 422, a retry while the first is still being processed with 409. Keys ' +
  'expire once 100 later keyed resets have been recorded (a key then resets an open breaker as a new request).';

function view(status: BreakerStatus) {
  return {
    open: status.open,
    tripped_at: status.trippedAt,
    trip: status.trip,
    last_reset: status.lastReset,
    purges_last_hour: status.purgesLastHour,
  };
}

/** The mass-deletion guardrails, for operators: see the purge breaker, and confirm to release held purges. */
@ApiTags('guardrails')
@ApiBearerAuth()
@ApiResponse({ status: 401, description: 'Missing or unknown token' })
@Controller('api/v1/guardrails')
@UseGuards(ApiTokenGuard)
export class GuardrailsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
    @Inject(APP_LOGGER) private readonly logger: Logger,
  ) {}

  @Get('purge-breaker')
  @ApiOperation({ summary: 'State of the mass-cancellation breaker and purges of the last hour' })
  async status() {
    return view(await this.queries.execute(new GetPurgeBreakerStatus()));
  }

  @Post('purge-breaker/reset')
  @OperatorAction({ idempotencyPolicy: RESET_IDEMPOTENCY_POLICY })
  @ApiOperation({
    summary: 'Confirm the cancellations that tripped the breaker are genuine: held purges resume',
  })
  @ApiBody({ schema: { type: 'object', required: ['reason'], properties: { reason: { type: 'string' } } } })
  @ApiResponse({
    status: 202,
    description: 'BreakerReset appended with the operator and reason (or, duplicate: true, a repeated key)',
  })
  @ApiResponse({ status: 400, description: 'Missing or over-long reason, or an invalid Idempotency-Key' })
  @ApiResponse({ status: 403, description: 'Not an operator token' })
  @ApiResponse({
    status: 409,
    description: 'The breaker is not open, or a request with this Idempotency-Key is still being processed',
  })
  @ApiResponse({ status: 422, description: 'Idempotency-Key already used with another reason' })
  async reset(@OperatorRequest() { operator, idempotencyKey, field }: OperatorInput) {
    const result = await this.commands.execute(
      new ResetPurgeBreaker({ operator, reason: field('reason'), idempotencyKey }),
    );
    if (result.duplicate) {
      this.logger.info(
        { operator, eventId: result.eventId },
        'purge breaker reset repeated (Idempotency-Key)',
      );
    } else {
      this.logger.warn({ operator, eventId: result.eventId }, 'purge breaker reset by operator');
    }
    return { event_id: result.eventId, duplicate: result.duplicate, ...view(result.status) };
  }
}
