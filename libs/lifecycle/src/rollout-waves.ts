import type { Region, RolloutSelection, Tier } from '@app/contracts';

/** The most tenants one rollout plans (its plan is one event: a few hundred kilobytes at this size). */
export const ROLLOUT_MAX_TENANTS = 10_000;
export const DEFAULT_CANARY_SIZE = 1;
export const DEFAULT_BATCH_SIZE = 10;
export const MAX_WAVE_SIZE = 1_000;

/** What the planner knows of a tenant: enough to select it. */
export interface RolloutCandidate {
  tenantId: string;
  tier: Tier;
  region?: Region;
  /** Only `active` tenants are rolled out to. */
  status: string;
}

/** Why a selection cannot be planned: each problem in words an operator can act on. */
export interface SelectionOutcome {
  tenantIds: string[];
  problems: string[];
}

/**
 * The tenants a selection names, among the active ones: an explicit list in the order given (its first tenants
 * make the canary), otherwise every active tenant matching the tiers and regions, by tenant id. A listed tenant
 * that does not exist or is not active is a problem, never silently left out.
 */
export function selectTenants(
  candidates: readonly RolloutCandidate[],
  selection: RolloutSelection,
): SelectionOutcome {
  const problems: string[] = [];
  const matches = (candidate: RolloutCandidate) =>
    (!selection.tiers?.length || selection.tiers.includes(candidate.tier)) &&
    (!selection.regions?.length ||
      (candidate.region !== undefined && selection.regions.includes(candidate.region)));
  if (selection.tenantIds?.length) {
    const byId = new Map(candidates.map((candidate) => [candidate.tenantId, candidate]));
    const tenantIds: string[] = [];
    for (const tenantId of new Set(selection.tenantIds)) {
      const candidate = byId.get(tenantId);
      if (!candidate) problems.push(`tenant ${tenantId} does not exist`);
      else if (candidate.status !== 'active')
        problems.push(`tenant ${tenantId} is ${candidate.status}, not active`);
      else if (!matches(candidate))
        problems.push(`tenant ${tenantId} does not match the tiers or regions given`);
      else tenantIds.push(tenantId);
    }
    return { tenantIds, problems };
  }
  const tenantIds = candidates
    .filter((candidate) => candidate.status === 'active' && matches(candidate))
    .map((candidate) => candidate.tenantId)
    .sort();
  return { tenantIds, problems };
}

/** The waves: the canary (the first `canarySize` tenants), then batches of `batchSize`, in order. */
export function planWaves(tenantIds: readonly string[], canarySize: number, batchSize: number): string[][] {
  for (const [name, size] of [
    ['canary size', canarySize],
    ['batch size', batchSize],
  ] as const) {
    if (!Number.isInteger(size) || size < 1 || size > MAX_WAVE_SIZE) {
      throw new RangeError(`${name} must be an integer from 1 to ${MAX_WAVE_SIZE}, got ${size}`);
    }
  }
  if (tenantIds.length === 0) return [];
  const waves = [tenantIds.slice(0, canarySize)];
  for (let start = canarySize; start < tenantIds.length; start += batchSize) {
    waves.push(tenantIds.slice(start, start + batchSize));
  }
  return waves;
}
