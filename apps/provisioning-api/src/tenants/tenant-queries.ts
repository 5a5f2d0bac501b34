import { isTenantId, tenantStream, TIERS, type Tier, type Violation } from '@app/contracts';
import { StreamNotFoundError, type EventStore } from '@app/event-store';
import { QueryError, QUERY_ERROR_CODES } from './query.errors';
import { redactSecrets } from './redact';
import type { TenantReadModel } from './tenant-read-model';
import {
  foldTenantSummary,
  TENANT_STATUSES,
  toSummaryEvent,
  type StepSummary,
  type TenantStatus,
  type TenantSummary,
} from './tenant-summary.projection';

export const LIST_MAX_LIMIT = 200;
export const EVENTS_MAX_LIMIT = 1000;

export type RawQuery = Record<string, unknown>;

function single(query: RawQuery, name: string): string | undefined {
  const value = query[name];
  return typeof value === 'string' ? value : undefined;
}

function intParam(
  query: RawQuery,
  name: string,
  fallback: number,
  min: number,
  max: number,
  violations: Violation[],
): number {
  const raw = query[name];
  if (raw === undefined) return fallback;
  if (typeof raw !== 'string' || !/^\d{1,9}$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    violations.push({
      field: name,
      rules: ['isInt'],
      messages: [`${name} must be an integer in ${min}..${max}`],
    });
    return fallback;
  }
  return Number(raw);
}

export function assertTenantIdParam(tenantId: string): void {
  if (!isTenantId(tenantId)) {
    throw new QueryError(
      QUERY_ERROR_CODES.INVALID_TENANT_ID,
      'tenant id must look like abc-corporation-7f3a9c',
    );
  }
}

function stepView(step: StepSummary) {
  return {
    step: step.step,
    status: step.status,
    attempt: step.attempt,
    service: step.service,
    command_type: step.commandType,
    command_id: step.commandId,
    started_at: step.startedAt,
    finished_at: step.finishedAt,
    duration_ms: step.durationMs,
    error: step.error,
  };
}

export function tenantListItem(summary: TenantSummary) {
  return {
    tenant_id: summary.tenantId,
    company_name: summary.companyName,
    state: summary.status,
    tier: summary.tier,
    region: summary.region,
    domain: summary.domain,
    current_step: summary.currentStep,
    created_at: summary.createdAt,
    updated_at: summary.updatedAt,
  };
}

export function tenantDetail(summary: TenantSummary) {
  return {
    ...tenantListItem(summary),
    subscription_id: summary.subscriptionId,
    activated_at: summary.activatedAt,
    failure_reason: summary.failureReason,
    deprovisioning: summary.deprovisioning && {
      requested_at: summary.deprovisioning.requestedAt,
      deletion_date: summary.deprovisioning.deletionDate,
      reason: summary.deprovisioning.reason,
      purge_started_at: summary.deprovisioning.purgeStartedAt,
    },
    purged_at: summary.purgedAt,
    steps: Object.values(summary.steps)
      .sort((a, b) => a.startedAt.localeCompare(b.startedAt) || a.step.localeCompare(b.step))
      .map(stepView),
    revision: summary.revision,
  };
}

/**
 * The list filters of `GET /api/v1/tenants` (and the console's list), validated once: every violated rule is
 * reported, and only known states and tiers reach the read model.
 */
export function parseListQuery(query: RawQuery) {
  const violations: Violation[] = [];
  const state = single(query, 'state');
  const tier = single(query, 'tier');
  const q = single(query, 'q');
  if (state !== undefined && !(TENANT_STATUSES as readonly string[]).includes(state)) {
    violations.push({
      field: 'state',
      rules: ['isIn'],
      messages: [`state must be one of ${TENANT_STATUSES.join(', ')}`],
    });
  }
  if (tier !== undefined && !(TIERS as readonly string[]).includes(tier)) {
    violations.push({
      field: 'tier',
      rules: ['isIn'],
      messages: [`tier must be one of ${TIERS.join(', ')}`],
    });
  }
  if (q !== undefined && q.length > 100) {
    violations.push({ field: 'q', rules: ['maxLength'], messages: ['q must be at most 100 characters'] });
  }
  const limit = intParam(query, 'limit', 50, 1, LIST_MAX_LIMIT, violations);
  const offset = intParam(query, 'offset', 0, 0, 1_000_000, violations);
  if (violations.length > 0)
    throw new QueryError(QUERY_ERROR_CODES.INVALID_QUERY, 'invalid query', violations);
  return {
    status: state as TenantStatus | undefined,
    tier: tier as Tier | undefined,
    q: q || undefined,
    limit,
    offset,
  };
}

/** The read side of the API: list and status from the read model, audit history from the event store. */
export class TenantQueries {
  constructor(
    private readonly store: EventStore,
    private readonly readModel: TenantReadModel,
  ) {}

  async list(query: RawQuery) {
    const filter = parseListQuery(query);
    const page = await this.readModel.list(filter);
    return {
      items: page.items.map(tenantListItem),
      total: page.total,
      limit: filter.limit,
      offset: filter.offset,
    };
  }

  /**
   * The read model answers; a tenant accepted a moment ago and not yet projected is folded from its stream
   * with the same function, so the `status_url` of a 202 never answers 404.
   */
  async get(tenantId: string) {
    assertTenantIdParam(tenantId);
    const projected = await this.readModel.get(tenantId);
    if (projected) return tenantDetail(projected);
    const events = await this.readStream(tenantId);
    const folded = foldTenantSummary(events.map(toSummaryEvent));
    if (!folded) throw new QueryError(QUERY_ERROR_CODES.TENANT_NOT_FOUND, `tenant ${tenantId} not found`);
    return tenantDetail(folded);
  }

  async events(tenantId: string, query: RawQuery) {
    assertTenantIdParam(tenantId);
    const violations: Violation[] = [];
    const from = intParam(query, 'from', 0, 0, 1_000_000_000, violations);
    const limit = intParam(query, 'limit', 100, 1, EVENTS_MAX_LIMIT, violations);
    if (violations.length > 0)
      throw new QueryError(QUERY_ERROR_CODES.INVALID_QUERY, 'invalid query', violations);
    const events = await this.readStream(tenantId, { from, limit: limit + 1 });
    const page = events.slice(0, limit);
    return {
      tenant_id: tenantId,
      events: page.map((event) => ({
        revision: event.revision,
        event_id: event.id,
        type: event.type,
        occurred_at: toSummaryEvent(event).occurredAt,
        recorded_at: event.recordedAt.toISOString(),
        actor: typeof event.metadata['actor'] === 'string' ? event.metadata['actor'] : null,
        correlation_id: event.metadata['correlationId'] ?? null,
        causation_id: event.metadata['causationId'] ?? null,
        command_id: event.metadata['commandId'] ?? null,
        schema_version: event.metadata.schemaVersion,
        data: redactSecrets(event.data),
      })),
      next_from: events.length > limit ? page[page.length - 1].revision + 1 : null,
    };
  }

  private async readStream(tenantId: string, options?: { from: number; limit: number }) {
    try {
      return await this.store.readStream(tenantStream(tenantId), options);
    } catch (error) {
      if (error instanceof StreamNotFoundError) {
        throw new QueryError(QUERY_ERROR_CODES.TENANT_NOT_FOUND, `tenant ${tenantId} not found`);
      }
      throw error;
    }
  }
}
