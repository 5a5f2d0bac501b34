import { IMAGE_TAG_PATTERN, isImageTag, TIERS, type Tier, type Violation } from '@app/contracts';
import type { PlanChange } from '@app/plans';
import { invalidRequest } from '../errors';
import type { RawQuery } from '../queries/query-params';

/** The query parameters of a plan, one per kind of change. */
export const PLAN_PARAMETERS = ['tier', 'suspend', 'purge', 'imageTag'] as const;

function flag(name: string, value: unknown, violations: Violation[]): boolean {
  if (value === 'true') return true;
  violations.push({ field: name, rules: ['equals'], messages: [`${name} must be true`] });
  return false;
}

/** The one change a plan query asks about; a 400 naming every problem otherwise. */
export function parsePlanQuery(query: RawQuery): PlanChange {
  const asked = PLAN_PARAMETERS.filter((name) => query[name] !== undefined);
  if (asked.length !== 1) {
    const message =
      asked.length === 0
        ? `a plan needs one change: ${PLAN_PARAMETERS.join(', ')}`
        : `a plan takes exactly one change, got ${asked.join(', ')}`;
    throw invalidRequest('invalid plan query', [
      { field: asked.join(',') || 'query', rules: ['exactlyOne'], messages: [message] },
    ]);
  }
  const [name] = asked;
  const value = query[name];
  const violations: Violation[] = [];
  let change: PlanChange | undefined;
  switch (name) {
    case 'tier':
      if (typeof value === 'string' && (TIERS as readonly string[]).includes(value)) {
        change = { kind: 'tier', tier: value as Tier };
      } else {
        violations.push({
          field: 'tier',
          rules: ['isIn'],
          messages: [`tier must be one of ${TIERS.join(', ')}`],
        });
      }
      break;
    case 'suspend':
      if (flag(name, value, violations)) change = { kind: 'suspend' };
      break;
    case 'purge':
      if (flag(name, value, violations)) change = { kind: 'purge' };
      break;
    case 'imageTag':
      if (isImageTag(value)) {
        change = { kind: 'image-tag', imageTag: value };
      } else {
        violations.push({
          field: 'imageTag',
          rules: ['matches'],
          messages: [`imageTag must be an OCI tag (${IMAGE_TAG_PATTERN})`],
        });
      }
      break;
  }
  if (!change) throw invalidRequest('invalid plan query', violations);
  return change;
}
