import { Body, Controller, Get, Inject, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import {
  DecideReconciliationAction,
  IDEMPOTENCY_KEY_FORMAT,
  ListReconciliationActions,
  RunReconciliation,
} from '@app/tenancy';
import type { Logger } from 'pino';
import { OperatorAction, OperatorRequest, type OperatorInput } from '../operations/operator-action';
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

/** A run's key names the reconciliation it records; a run that records nothing has nothing to find again. */
const RUN_IDEMPOTENCY_POLICY =
  `${IDEMPOTENCY_KEY_FORMAT}, scoped to the operator. With propose: true the reconciliation's id derives from the key: a ` +
  'retry once the first run answered gets its report again (the same reconciliation_id, action ids, findings ' +
  'and counts; duplicate: true) and records nothing, however the tenants changed since; the same key with ' +
  'another list, source or propose is refused with 422, a retry while the first is still being processed ' +
  'with 409. Without propose nothing is recorded and the key has no effect (unless a proposing run used it: ' +
  "then 422). Keys never expire: each lives as the reconciliation's id, as long as its stream.";

/** A decision's key: the action is decided once, so the key only pins what its request asked. */
const DECISION_IDEMPOTENCY_POLICY =
  `${IDEMPOTENCY_KEY_FORMAT}, scoped to the operator and the action. Deciding an action the way it was already decided ` +
  'answers duplicate: true with or without a key; under the key that decided it, another decision or reason ' +
  'is refused with 422 (not 409), and a retry while the first is still being processed with 409. Keys never ' +
  'expire: each is recorded with the decision, as long as the reconciliation stream.';

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
  @OperatorAction({ status: 200, idempotencyPolicy: RUN_IDEMPOTENCY_POLICY })
  @ApiOperation({
    summary: 'Compare billing’s active subscriptions with the tenants',
    description:
      'Reports tenants holding a subscription billing does not list (orphan), listed subscriptions no live tenant ' +
      'holds (missing), and tier or tenant disagreements, from the tenant read model (its checkpoint is in the ' +
      'answer). The list is the body, or fetched from `source` (http/https, 10 s, 10 MiB, JSON or CSV, no ' +
      'redirects). With `propose: true` the comparison is recorded with one action per finding, to accept or ' +
      'dismiss below. An Idempotency-Key makes a proposing run repeat-safe; without propose it has no effect.',
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
  @ApiResponse({
    status: 200,
    description: 'The report (with `reconciliation_id` when proposed; duplicate: true for a repeated key)',
  })
  @ApiResponse({
    status: 400,
    description: 'Invalid body, records or Idempotency-Key: each violation names its record and field',
  })
  @ApiResponse({ status: 403, description: 'Not an operator token' })
  @ApiResponse({ status: 409, description: 'A run with this Idempotency-Key is still being processed' })
  @ApiResponse({ status: 422, description: 'Idempotency-Key already used for another request' })
  @ApiResponse({ status: 502, description: 'The source answered an error, too much, or an invalid list' })
  @ApiResponse({ status: 504, description: 'The source did not answer in time' })
  async run(@Body() body: unknown, @OperatorRequest() { operator, idempotencyKey }: OperatorInput) {
    const report = await this.commands.execute(
      new RunReconciliation(reconciliationRequest(body, operator, idempotencyKey)),
    );
    this.logger.info(
      {
        reconciliationId: report.reconciliationId,
        source: report.source,
        counts: report.counts,
        operator,
        duplicate: report.duplicate,
      },
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
  @OperatorAction({ status: 200, idempotencyPolicy: DECISION_IDEMPOTENCY_POLICY })
  @ApiOperation({
    summary:
      'Accept a proposed action: carried out on the tenant (cancel-tenant, change-tier), then recorded',
  })
  @ApiBody({ schema: { type: 'object', required: ['reason'], properties: { reason: { type: 'string' } } } })
  @ApiResponse({ status: 404, description: 'Unknown reconciliation or action' })
  @ApiResponse({
    status: 409,
    description:
      'Already dismissed, the tenant’s state refuses the action now, or a request with this ' +
      'Idempotency-Key is still being processed',
  })
  @ApiResponse({ status: 422, description: 'Idempotency-Key already used for another decision or reason' })
  async accept(
    @Param('id') id: string,
    @Param('actionId') actionId: string,
    @OperatorRequest() input: OperatorInput,
  ) {
    return this.decide(id, actionId, 'accept', input);
  }

  @Post(':id/actions/:actionId/dismiss')
  @OperatorAction({ status: 200, idempotencyPolicy: DECISION_IDEMPOTENCY_POLICY })
  @ApiOperation({ summary: 'Dismiss a proposed action: recorded, nothing else changes' })
  @ApiBody({ schema: { type: 'object', required: ['reason'], properties: { reason: { type: 'string' } } } })
  @ApiResponse({ status: 404, description: 'Unknown reconciliation or action' })
  @ApiResponse({
    status: 409,
    description: 'Already accepted, or a request with this Idempotency-Key is still being processed',
  })
  @ApiResponse({ status: 422, description: 'Idempotency-Key already used for another decision or reason' })
  async dismiss(
    @Param('id') id: string,
    @Param('actionId') actionId: string,
    @OperatorRequest() input: OperatorInput,
  ) {
    return this.decide(id, actionId, 'dismiss', input);
  }

  private async decide(
    reconciliationId: string,
    actionId: string,
    decision: 'accept' | 'dismiss',
    { operator, idempotencyKey, field }: OperatorInput,
  ) {
    const result = await this.commands.execute(
      new DecideReconciliationAction({
        reconciliationId,
        actionId,
        decision,
        reason: field('reason'),
        operator,
        idempotencyKey,
      }),
    );
    this.logger.info(
      { reconciliationId, actionId, state: result.state, operator, duplicate: result.duplicate },
      'reconciliation action decided',
    );
    return decisionView(result);
  }
}
