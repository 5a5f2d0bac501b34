import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, Req, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { DecideReconciliationAction, ListReconciliationActions, RunReconciliation } from '@app/tenancy';
import type { Logger } from 'pino';
import type { HttpRequest } from '../http/http.types';
import { OperatorRoleGuard } from '../operations/operator-role.guard';
import { ApiTokenGuard } from '../tenants/api-token.guard';
import { APP_LOGGER } from '../tokens';
import { actionView, decisionView, reconciliationRequest, reportView } from './reconciliation.views';

const RECORD_SCHEMA = {
  type: 'object',
  required: ['subscription_id', 'tier'],
  additionalProperties: false,
  properties: {
    subscription_id: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' },
    tier: { type: 'string', enum: ['standard', 'premium', 'business'] },
    tenant_id: { type: 'string', example: 'abc-corporation-7f3a9c' },
  },
};

function reasonOf(body: unknown): unknown {
  return body !== null && typeof body === 'object' ? (body as Record<string, unknown>)['reason'] : undefined;
}

/** Billing reconciliation: billing's active subscriptions against the tenants, and operators' decisions. */
@ApiTags('billing reconciliation')
@ApiBearerAuth()
@ApiResponse({ status: 401, description: 'Missing or unknown token' })
@Controller('api/v1/reconciliations')
@UseGuards(ApiTokenGuard)
export class ReconciliationsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
    @Inject(APP_LOGGER) private readonly logger: Logger,
  ) {}

  @Post()
  @HttpCode(200)
  @UseGuards(OperatorRoleGuard)
  @ApiOperation({
    summary: 'Compare billing’s active subscriptions with the tenants',
    description:
      'Reports tenants holding a subscription billing does not list (orphan), listed subscriptions no live tenant ' +
      'holds (missing), and tier or tenant disagreements, from the tenant read model (its checkpoint is in the ' +
      'answer). The list is the body, or fetched from `source` (http/https, 10 s, 10 MiB, JSON or CSV, no ' +
      'redirects). With `propose: true` the comparison is recorded with one action per finding, to accept or ' +
      'dismiss below.',
  })
  @ApiBody({
    schema: {
      oneOf: [
        { type: 'array', items: RECORD_SCHEMA },
        {
          type: 'object',
          properties: {
            subscriptions: { type: 'array', items: RECORD_SCHEMA },
            source: {
              type: 'string',
              format: 'uri',
              example: 'https://billing.internal/exports/active.json',
            },
            propose: { type: 'boolean', default: false },
          },
        },
      ],
    },
  })
  @ApiResponse({ status: 200, description: 'The report (with `reconciliation_id` when proposed)' })
  @ApiResponse({
    status: 400,
    description: 'Invalid body or records: each violation names its record and field',
  })
  @ApiResponse({ status: 403, description: 'Not an operator token' })
  @ApiResponse({ status: 502, description: 'The source answered an error, too much, or an invalid list' })
  @ApiResponse({ status: 504, description: 'The source did not answer in time' })
  async run(@Body() body: unknown, @Req() request: HttpRequest) {
    const operator = request.principal?.name ?? '';
    const report = await this.commands.execute(new RunReconciliation(reconciliationRequest(body, operator)));
    this.logger.info(
      { reconciliationId: report.reconciliationId, source: report.source, counts: report.counts, operator },
      'billing reconciliation',
    );
    return reportView(report);
  }

  @Get('actions')
  @ApiOperation({ summary: 'Proposed actions, newest first (open ones by default)' })
  @ApiQuery({ name: 'state', required: false, enum: ['open', 'accepted', 'dismissed', 'all'] })
  @ApiQuery({ name: 'reconciliation_id', required: false })
  async actions(@Query('state') state?: string, @Query('reconciliation_id') reconciliationId?: string) {
    const page = await this.queries.execute(new ListReconciliationActions({ state, reconciliationId }));
    return { items: page.items.map(actionView), reconciliations: page.reconciliations };
  }

  @Post(':id/actions/:actionId/accept')
  @HttpCode(200)
  @UseGuards(OperatorRoleGuard)
  @ApiOperation({
    summary:
      'Accept a proposed action: carried out on the tenant (cancel-tenant, change-tier), then recorded',
  })
  @ApiBody({ schema: { type: 'object', required: ['reason'], properties: { reason: { type: 'string' } } } })
  @ApiResponse({ status: 404, description: 'Unknown reconciliation or action' })
  @ApiResponse({
    status: 409,
    description: 'Already dismissed, or the tenant’s state refuses the action now',
  })
  async accept(
    @Param('id') id: string,
    @Param('actionId') actionId: string,
    @Body() body: unknown,
    @Req() request: HttpRequest,
  ) {
    return this.decide(id, actionId, 'accept', body, request);
  }

  @Post(':id/actions/:actionId/dismiss')
  @HttpCode(200)
  @UseGuards(OperatorRoleGuard)
  @ApiOperation({ summary: 'Dismiss a proposed action: recorded, nothing else changes' })
  @ApiBody({ schema: { type: 'object', required: ['reason'], properties: { reason: { type: 'string' } } } })
  @ApiResponse({ status: 404, description: 'Unknown reconciliation or action' })
  @ApiResponse({ status: 409, description: 'Already accepted' })
  async dismiss(
    @Param('id') id: string,
    @Param('actionId') actionId: string,
    @Body() body: unknown,
    @Req() request: HttpRequest,
  ) {
    return this.decide(id, actionId, 'dismiss', body, request);
  }

  private async decide(
    reconciliationId: string,
    actionId: string,
    decision: 'accept' | 'dismiss',
    body: unknown,
    request: HttpRequest,
  ) {
    const operator = request.principal?.name ?? '';
    const result = await this.commands.execute(
      new DecideReconciliationAction({
        reconciliationId,
        actionId,
        decision,
        reason: reasonOf(body),
        operator,
      }),
    );
    this.logger.info(
      { reconciliationId, actionId, state: result.state, operator, duplicate: result.duplicate },
      'reconciliation action decided',
    );
    return decisionView(result);
  }
}
