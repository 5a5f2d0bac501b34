import { Controller, Get, Param, UseGuards } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import { GetRollout, ListRollouts } from '@app/rollouts';
import { ApiTokenGuard } from '../tenants/api-token.guard';
import { rolloutConsoleDetail, rolloutConsoleItem } from './rollout-console-views';

/**
 * The console's rollout pages: the rollouts of `GET /api/v1/rollouts` with their labels, progress and the
 * actions an operator may take laid out (the actions themselves go through `POST /api/v1/rollouts/:id/...`).
 */
@ApiTags('console')
@ApiBearerAuth()
@ApiResponse({ status: 401, description: 'Missing or unknown operator/auditor token' })
@Controller('api/v1/console/rollouts')
@UseGuards(ApiTokenGuard)
export class RolloutsConsoleController {
  constructor(private readonly queries: QueryBus) {}

  @Get()
  @ApiOperation({ summary: 'Every rollout, newest first: status, image tag, waves and progress counts' })
  async list() {
    const rollouts = await this.queries.execute(new ListRollouts());
    return { items: rollouts.map(rolloutConsoleItem) };
  }

  @Get(':id')
  @ApiOperation({ summary: 'One rollout with its waves and each tenant’s progress, for the console' })
  @ApiParam({ name: 'id', example: '7d444840-9dc0-11d1-b245-5ffdce74fad2' })
  @ApiResponse({ status: 400, description: 'Malformed rollout id' })
  @ApiResponse({ status: 404, description: 'Unknown rollout' })
  async get(@Param('id') id: string) {
    return rolloutConsoleDetail(await this.queries.execute(new GetRollout(id)));
  }
}
