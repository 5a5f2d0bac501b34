import { deterministicId, type FailureReason } from '@app/contracts';
import { imageTagChangeOf } from './image-tag';
import {
  evolveRollout,
  rolloutCounts,
  tenantsInFlight,
  type RolloutPayload,
  type RolloutState,
  type RolloutTenantState,
} from './rollout-state';
import type { TenantState } from './state';

/*
 * The rollout's decider: given the rollout's state and what its driver observed of each tenant in flight, the
 * events to append next. Checkpoints come before effects: `RolloutTenantStarted` names the tenant event id its
 * driver then appends to the tenant's stream (derived, so a driver restarted in between finds it instead of
 * asking twice); an outcome is recorded only once the tenant's own stream shows it.
 */

/** What a driver saw of a tenant whose change the rollout started. */
export type TenantObservation =
  | { kind: 'in-progress' }
  | { kind: 'applied' }
  | { kind: 'already-applied' }
  | { kind: 'failed'; error: FailureReason }
  | { kind: 'skipped'; reason: string };

/** The tenant event id of one attempt of a rollout on a tenant. */
export function rolloutRequestEventId(rolloutId: string, tenantId: string, attempt: number): string {
  return deterministicId('rollout-tenant', rolloutId, tenantId, String(attempt));
}

/**
 * A started tenant as its own state shows it: the change the rollout asked for (found by its event id) applied,
 * failed or still going; undefined when the tenant's stream holds no such change yet (the driver asks for it).
 * A tenant that stopped being active before its change was applied is skipped.
 */
export function observeRolloutTenant(
  tenant: TenantState,
  requestEventId: string,
): TenantObservation | undefined {
  if (!tenant.tenant) return { kind: 'skipped', reason: 'the tenant does not exist' };
  const change = imageTagChangeOf(tenant, requestEventId);
  if (!change) return undefined;
  if (change.outcome === 'applied') return { kind: 'applied' };
  if (change.outcome === 'failed') {
    const error = change.error ?? {
      code: 'ROLLOUT.TENANT_CHANGE_FAILED',
      message: 'the image tag change failed without a recorded reason',
      retryable: false,
    };
    return { kind: 'failed', error };
  }
  if (tenant.status !== 'active') {
    return { kind: 'skipped', reason: `the tenant became ${tenant.status} before its change was applied` };
  }
  return { kind: 'in-progress' };
}

/** Far above the rounds one call needs (outcomes, a wave's end, the next wave, its tenants). */
const MAX_ROUNDS = 100;

/**
 * The events to append next. Outcomes are recorded in any status (a paused or aborted rollout still records
 * what its tenants in flight did); a failure halts a running or paused rollout; only a running one starts
 * waves and tenants, one wave at a time, the next once every tenant of the current one succeeded or was skipped.
 * Complete: deciding again on the state with these events folded returns nothing new for the same observations.
 */
export function decideRollout(
  state: RolloutState,
  observations: ReadonlyMap<string, TenantObservation>,
  now: Date,
): RolloutPayload[] {
  const decided: RolloutPayload[] = [];
  let current: RolloutState = state;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const events = decideRound(current, observations, now.toISOString());
    if (events.length === 0) return decided;
    for (const event of events) {
      decided.push(event);
      current = evolveRollout(current, event) ?? current;
    }
  }
  throw new Error(`rollout ${state.rolloutId}: decisions did not settle in ${MAX_ROUNDS} rounds`);
}

function decideRound(
  state: RolloutState,
  observations: ReadonlyMap<string, TenantObservation>,
  at: string,
): RolloutPayload[] {
  const outcomes = tenantsInFlight(state).flatMap((tenant) =>
    outcomeEvents(tenant, observations.get(tenant.tenantId), at),
  );
  if (outcomes.length > 0) return outcomes;

  const failed = Object.values(state.tenants).find((tenant) => tenant.status === 'failed');
  if (failed?.error && (state.status === 'running' || state.status === 'paused')) {
    const halt = { wave: failed.wave, tenantId: failed.tenantId, error: failed.error, haltedAt: at };
    return [{ type: 'RolloutHalted', data: halt }];
  }
  if (state.status !== 'running') return [];

  const waveIndex = state.currentWave;
  const wave = waveIndex >= 0 ? state.waves[waveIndex] : [];
  const waveDone = wave.every((tenantId) => {
    const status = state.tenants[tenantId]?.status;
    return status === 'succeeded' || status === 'skipped';
  });
  if (waveDone) {
    const next = waveIndex + 1;
    if (next < state.waves.length) {
      return [
        { type: 'RolloutWaveStarted', data: { wave: next, tenantIds: state.waves[next], startedAt: at } },
      ];
    }
    const counts = rolloutCounts(state);
    return [
      {
        type: 'RolloutCompleted',
        data: { succeeded: counts.succeeded, skipped: counts.skipped, completedAt: at },
      },
    ];
  }
  return wave
    .map((tenantId) => state.tenants[tenantId])
    .filter((tenant) => tenant?.status === 'pending')
    .map((tenant): RolloutPayload => {
      const attempt = tenant.attempt + 1;
      const requestEventId = rolloutRequestEventId(state.rolloutId, tenant.tenantId, attempt);
      return {
        type: 'RolloutTenantStarted',
        data: { wave: waveIndex, tenantId: tenant.tenantId, attempt, requestEventId, startedAt: at },
      };
    });
}

function outcomeEvents(
  tenant: RolloutTenantState,
  observation: TenantObservation | undefined,
  at: string,
): RolloutPayload[] {
  const { tenantId, wave, attempt } = tenant;
  switch (observation?.kind) {
    case undefined:
    case 'in-progress':
      return [];
    case 'applied':
    case 'already-applied':
      return [
        {
          type: 'RolloutTenantSucceeded',
          data: { wave, tenantId, attempt, outcome: observation.kind, succeededAt: at },
        },
      ];
    case 'failed':
      return [
        {
          type: 'RolloutTenantFailed',
          data: { wave, tenantId, attempt, error: observation.error, failedAt: at },
        },
      ];
    case 'skipped':
      return [
        { type: 'RolloutTenantSkipped', data: { wave, tenantId, reason: observation.reason, skippedAt: at } },
      ];
    default: {
      const unreachable: never = observation;
      return unreachable;
    }
  }
}
