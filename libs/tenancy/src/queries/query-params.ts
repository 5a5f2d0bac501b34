import { isTenantId, TIERS, type Tier, type Violation } from '@app/contracts';
import { invalidRequest, UseCaseError } from '../errors';
import type { TenantListQuery } from '../read-model/tenant-read-model';
import { TENANT_STATUSES, type TenantStatus } from '../read-model/tenant-summary.projection';

export const LIST_MAX_LIMIT = 200;
export const EVENTS_MAX_LIMIT = 1000;

/** A query string as the HTTP layer parses it: every value is checked here before it reaches a store. */
export type RawQuery = Record<string, unknown>;

function single(query: RawQuery, name: string): string | undefined {
  const value = query[name];
  return typeof value === 'string' ? value : undefined;
}

export function intParam(
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
    throw new UseCaseError('QUERY.INVALID_TENANT_ID', 'tenant id must look like abc-corporation-7f3a9c');
  }
}

export function tenantNotFound(tenantId: string): UseCaseError {
  return new UseCaseError('QUERY.TENANT_NOT_FOUND', `tenant ${tenantId} not found`);
}

/**
 * The list filters of `GET /api/v1/tenants` (the console's list and `tenantctl list` too), validated once:
 * every violated rule is reported, and only known states and tiers reach the read model.
 */
export function parseListQuery(query: RawQuery): TenantListQuery {
  const violations: Violation[] = [];
  const state = single(query, 'state');
  const tier = single(query, 'tier');
  const q = single(query, 'q');
  const drift = single(query, 'drift');
  if (drift !== undefined && drift !== 'open') {
    violations.push({ field: 'drift', rules: ['isIn'], messages: ['drift must be open'] });
  }
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
  if (violations.length > 0) throw invalidRequest('invalid query', violations);
  return {
    status: state as TenantStatus | undefined,
    tier: tier as Tier | undefined,
    q: q || undefined,
    ...(drift === 'open' ? { openDrift: true } : {}),
    limit,
    offset,
  };
}
