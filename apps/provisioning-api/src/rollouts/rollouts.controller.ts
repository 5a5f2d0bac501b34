import { Controller, Get, Inject, Param, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { REGIONS, TIERS } from '@app/contracts';
import { DecideRollout, GetRollout, ListRollouts, StartRollout, type RolloutAccepted } from '@app/rollouts';
import type { Logger } from 'pino';
import { OperatorAction, OperatorRequest, type OperatorInput } from '../operations/operator-action';
import { ApiTokenGuard } from '../tenants/api-token.guard';
import { APP_LOGGER } from '../tokens';
import { rolloutView } from './rollout.views';

const REASON_BODY = {
  schema: {
    type: 'object',
    properties: { reason: { type: 'string', example: 'error rate up after 2.4.0' } },
  },
};

/**
 * Staged fleet rollouts of the workloads' image tag: started, read, paused, resumed and aborted by operators;
 * driven by the orchestrator, each tenant's change recorded in its own stream and checkpointed in the rollout's.
 */
@ApiTags('fleet rollouts')
@ApiBearerAuth()
@ApiResponse({ status: 401, description: 'Missing or unknown token' })
@Controller('api/v1/rollouts')
@UseGuards(ApiTokenGuard)
export class RolloutsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
    @Inject(APP_LOGGER) private readonly logger: Logger,
  ) {}

  @Post()
  @OperatorAction()
  @ApiOperation({
    summary: 'Start a staged rollout of an image tag over the active tenants',
    description:
      'Selects the active tenants (every one, or by tiers, regions and an explicit list: every criterion given ' +
      'must match), plans the waves (a canary of `canary_size` tenants, then batches of `batch_size`) and records ' +
      'the plan in the rollout stream. The orchestrator then changes each tenant: its workloads deployed with the ' +
      'tag and the tenant verified healthy before it counts; the next wave starts once every tenant of the current ' +
      'one succeeded (or was skipped: no longer active); a failure halts the rollout.',
  })
  @ApiBody({
    schema: {
      type: 'object',
      required: ['image_tag', 'reason'],
      properties: {
        image_tag: { type: 'string', pattern: '^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$', example: 'v2.4.0' },
        selection: {
          type: 'object',
          additionalProperties: false,
          properties: {
            tiers: { type: 'array', items: { type: 'string', enum: [...TIERS] } },
            regions: { type: 'array', items: { type: 'string', enum: [...REGIONS] } },
            tenant_ids: { type: 'array', items: { type: 'string', example: 'abc-corporation-7f3a9c' } },
          },
        },
        canary_size: { type: 'integer', minimum: 1, maximum: 1000, default: 1 },
        batch_size: { type: 'integer', minimum: 1, maximum: 1000, default: 10 },
        reason: { type: 'string', example: 'release 2.4.0' },
      },
    },
  })
  @ApiResponse({ status: 202, description: 'RolloutStarted recorded: the rollout with its waves' })
  @ApiResponse({ status: 400, description: 'Invalid tag, selection, sizes, reason or Idempotency-Key' })
  @ApiResponse({ status: 403, description: 'Not an operator token' })
  @ApiResponse({ status: 409, description: 'ROLLOUT.NOTHING_SELECTED: no active tenant matches' })
  @ApiResponse({ status: 422, description: 'Idempotency-Key already used for another rollout' })
  async start(@OperatorRequest() { operator, idempotencyKey, field }: OperatorInput) {
    const result = await this.commands.execute(
      new StartRollout({
        imageTag: field('image_tag'),
        selection: field('selection'),
        canarySize: field('canary_size'),
        batchSize: field('batch_size'),
        reason: field('reason'),
        operator,
        idempotencyKey,
      }),
    );
    const { rolloutId, imageTag, waves } = result.rollout;
    this.logger.info(
      { rolloutId, imageTag, waves: waves.length, operator, duplicate: result.duplicate },
      'rollout started',
    );
    return this.answer(result);
  }

  @Get()
  @ApiOperation({ summary: 'Every rollout, newest first, with its waves and per-tenant progress' })
  async list() {
    const rollouts = await this.queries.execute(new ListRollouts());
    return { items: rollouts.map(rolloutView) };
  }

  @Get(':id')
  @ApiOperation({ summary: 'One rollout: status, waves, each tenant’s checkpoint and outcome' })
  @ApiParam({ name: 'id', example: '7d444840-9dc0-11d1-b245-5ffdce74fad2' })
  @ApiResponse({ status: 404, description: 'Unknown rollout' })
  async get(@Param('id') id: string) {
    return rolloutView(await this.queries.execute(new GetRollout(id)));
  }

  @Post(':id/pause')
  @OperatorAction()
  @ApiOperation({ summary: 'Pause a running rollout: tenants in flight finish, no other one starts' })
  @ApiBody(REASON_BODY)
  @ApiResponse({ status: 409, description: 'ROLLOUT.ACTION_REFUSED: not running' })
  pause(@Param('id') id: string, @OperatorRequest() input: OperatorInput) {
    return this.decide(id, 'pause', input);
  }

  @Post(':id/resume')
  @OperatorAction()
  @ApiOperation({ summary: 'Resume a paused or halted rollout (a halt’s failed tenant is tried again)' })
  @ApiBody(REASON_BODY)
  @ApiResponse({ status: 409, description: 'ROLLOUT.ACTION_REFUSED: neither paused nor halted' })
  resume(@Param('id') id: string, @OperatorRequest() input: OperatorInput) {
    return this.decide(id, 'resume', input);
  }

  @Post(':id/abort')
  @OperatorAction()
  @ApiOperation({
    summary: 'Abort a rollout: no further tenant starts; tenants already changed keep the tag',
  })
  @ApiBody(REASON_BODY)
  @ApiResponse({ status: 409, description: 'ROLLOUT.ACTION_REFUSED: completed or aborted already' })
  abort(@Param('id') id: string, @OperatorRequest() input: OperatorInput) {
    return this.decide(id, 'abort', input);
  }

  private async decide(
    rolloutId: string,
    action: 'pause' | 'resume' | 'abort',
    { operator, idempotencyKey, field }: OperatorInput,
  ) {
    const result = await this.commands.execute(
      new DecideRollout({ rolloutId, action, reason: field('reason'), operator, idempotencyKey }),
    );
    this.logger.info({ rolloutId, action, operator, duplicate: result.duplicate }, 'rollout decision');
    return this.answer(result);
  }

  private answer(result: RolloutAccepted) {
    return { ...rolloutView(result.rollout), duplicate: result.duplicate };
  }
}
