import { Controller, Get, Param, Query, Req, Res, UseGuards } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiOperation,
  ApiParam,
  ApiProduces,
  ApiQuery,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import { QueryBus } from '@nestjs/cqrs';
import { invalidRequest, ListTenants, type RawQuery } from '@app/tenancy';
import type { HttpRequest } from '../http/http.types';
import { ApiTokenGuard } from '../tenants/api-token.guard';
import { ListTenantsNeedingAttention, VerifyTenantAudit } from './console.queries';
import { TenantStreams, type SseResponse } from './tenant-streams';
import { attentionItem, auditView, consoleListItem } from './views';

function fromRevision(raw: unknown): number {
  if (raw === undefined || raw === '') return 0;
  if (typeof raw !== 'string' || !/^\d{1,9}$/.test(raw)) {
    throw invalidRequest('invalid query', [
      { field: 'from', rules: ['isInt'], messages: ['from must be a non-negative integer'] },
    ]);
  }
  return Number(raw);
}

/** What the operator console reads: operators and auditors alike (actions go through the operations API). */
@ApiTags('console')
@ApiBearerAuth()
@ApiResponse({ status: 401, description: 'Missing or unknown operator/auditor token' })
@Controller('api/v1')
@UseGuards(ApiTokenGuard)
export class ConsoleApiController {
  constructor(
    private readonly queries: QueryBus,
    private readonly streams: TenantStreams,
  ) {}

  @Get('console/session')
  @ApiOperation({ summary: 'Who the token names and its role (operator or auditor)' })
  session(@Req() request: HttpRequest) {
    return { name: request.principal?.name ?? null, role: request.principal?.role ?? null };
  }

  @Get('console/tenants')
  @ApiOperation({ summary: 'Tenant list with an aggregated health badge per tenant' })
  @ApiQuery({ name: 'state', required: false })
  @ApiQuery({ name: 'tier', required: false })
  @ApiQuery({ name: 'q', required: false })
  @ApiQuery({ name: 'limit', required: false, type: Number })
  @ApiQuery({ name: 'offset', required: false, type: Number })
  async list(@Query() query: RawQuery) {
    const page = await this.queries.execute(new ListTenants(query));
    return { ...page, items: page.items.map(consoleListItem) };
  }

  @Get('console/attention')
  @ApiOperation({ summary: 'Tenants with parked steps, and failed or rolling-back tenants' })
  async attention() {
    const page = await this.queries.execute(new ListTenantsNeedingAttention());
    return { ...page, items: page.items.map(attentionItem) };
  }

  @Get('tenants/:id/audit')
  @ApiOperation({ summary: 'Hash-chain verification of the tenant stream: ok, coverage, first mismatch' })
  @ApiParam({ name: 'id', example: 'abc-corporation-7f3a9c' })
  @ApiResponse({ status: 404, description: 'Unknown tenant' })
  async audit(@Param('id') id: string) {
    return auditView(await this.queries.execute(new VerifyTenantAudit(id)));
  }

  @Get('tenants/:id/stream')
  @ApiOperation({
    summary: 'Live tenant view (server-sent events)',
    description:
      '`event` frames (one per stored event, id = revision, payload masked like the audit API) and a `tenant` ' +
      'frame (state, health, DAG, parked work, links) after each change. Send the token as a header: read it ' +
      'with fetch, since EventSource cannot set one.',
  })
  @ApiProduces('text/event-stream')
  @ApiParam({ name: 'id', example: 'abc-corporation-7f3a9c' })
  @ApiQuery({ name: 'from', required: false, type: Number, description: 'first revision to send as events' })
  @ApiResponse({ status: 404, description: 'Unknown tenant' })
  async stream(@Param('id') id: string, @Query('from') from: unknown, @Res() response: SseResponse) {
    await this.streams.serve(id, fromRevision(from), response);
  }
}
