import { TIERS, type Tier, type Violation } from '@app/contracts';
import { invalidRequest } from '../errors';
import type { RawQuery } from '../queries/query-params';

/** The period and tier a report covers: events at or after `since` and before `until` (epoch milliseconds). */
export interface SloQuery {
  since: number;
  until: number;
  tier: Tier | null;
}

export const SLO_DEFAULT_PERIOD_DAYS = 30;

const DURATION = /^(\d{1,6})(m|h|d|w)$/;
const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2}))?$/;

/**
 * An instant as a date (`2025-01-15`, midnight UTC), a date-time with an explicit zone, or a duration back from
 * now (`90m`, `24h`, `7d`, `2w`). A local time without a zone would mean something else on every machine.
 */
export function parseInstant(value: string, now: number): number | undefined {
  const duration = DURATION.exec(value);
  if (duration) return now - Number(duration[1]) * UNIT_MS[duration[2]];
  if (!ISO_INSTANT.test(value)) return undefined;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? ms : undefined;
}

function instantParam(
  query: RawQuery,
  name: string,
  now: number,
  violations: Violation[],
): number | undefined {
  const raw = query[name];
  if (raw === undefined || raw === '') return undefined;
  const ms = typeof raw === 'string' ? parseInstant(raw, now) : undefined;
  if (ms === undefined) {
    violations.push({
      field: name,
      rules: ['isInstant'],
      messages: [
        `${name} must be a date (2025-01-15), a date-time with a zone (2025-01-15T10:00:00Z) or a duration back from now (90m, 24h, 7d, 2w)`,
      ],
    });
  }
  return ms;
}

/** `since`, `until` and `tier` as sent (API query string, tenantctl options), every violated rule named. */
export function parseSloQuery(query: RawQuery, now: Date): SloQuery {
  const violations: Violation[] = [];
  const nowMs = now.getTime();
  const until = instantParam(query, 'until', nowMs, violations) ?? nowMs;
  const since =
    instantParam(query, 'since', nowMs, violations) ?? until - SLO_DEFAULT_PERIOD_DAYS * UNIT_MS['d'];
  const tier = query['tier'];
  if (tier !== undefined && tier !== '' && !(TIERS as readonly unknown[]).includes(tier)) {
    violations.push({
      field: 'tier',
      rules: ['isIn'],
      messages: [`tier must be one of ${TIERS.join(', ')}`],
    });
  }
  if (violations.length === 0 && since >= until) {
    violations.push({ field: 'since', rules: ['isBefore'], messages: ['since must be before until'] });
  }
  if (violations.length > 0) throw invalidRequest('invalid SLO period', violations);
  return { since, until, tier: tier ? (tier as Tier) : null };
}
