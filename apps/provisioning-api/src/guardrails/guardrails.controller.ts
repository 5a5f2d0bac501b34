import { Body, Controller, Get, HttpCode, Inject, Post, Req, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { GetPurgeBreakerStatus, ResetPurgeBreaker, type BreakerStatus } from '@app/tenancy';
import type { Logger } from 'pino';
import type { HttpRequest } from '../http/http.types';
import { OperatorRoleGuard } from '../operations/operator-role.guard';
import { ApiTokenGuard } from '../tenants/api-token.guard';
import { APP_LOGGER } from '../tokens';

function field(body: unknown, name: string): unknown {
  return body !== null && typeof body === 'object' ? (body as Record<string, unknown>)[name] : undefined;
}

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
  @HttpCode(202)
  @UseGuards(OperatorRoleGuard)
  @ApiOperation({
    summary: 'Confirm the cancellations that tripped the breaker are genuine: held purges resume',
  })
  @ApiBody({ schema: { type: 'object', required: ['reason'], properties: { reason: { type: 'string' } } } })
  @ApiResponse({ status: 202, description: 'BreakerReset appended with the operator and reason' })
  @ApiResponse({ status: 400, description: 'Missing or over-long reason' })
  @ApiResponse({ status: 403, description: 'Not an operator token' })
  @ApiResponse({ status: 409, description: 'The breaker is not open' })
  async reset(@Body() body: unknown, @Req() request: HttpRequest) {
    const operator = request.principal?.name ?? '';
    const result = await this.commands.execute(
      new ResetPurgeBreaker({ operator, reason: field(body, 'reason') }),
    );
    this.logger.warn({ operator, eventId: result.eventId }, 'purge breaker reset by operator');
    return { event_id: result.eventId, ...view(result.status) };
  }
}
