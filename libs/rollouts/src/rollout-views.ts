import type { FailureReason, RolloutSelection } from '@app/contracts';
import {
  rolloutCounts,
  type RolloutDecisionRecord,
  type RolloutState,
  type RolloutStatus,
  type RolloutTenantStatus,
} from '@app/lifecycle';

/** One tenant of a rollout as operators see it. */
export interface RolloutTenantView {
  tenantId: string;
  status: RolloutTenantStatus;
  attempt: number;
  outcome: 'applied' | 'already-applied' | null;
  error: FailureReason | null;
  skipReason: string | null;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface RolloutWaveView {
  wave: number;
  kind: 'canary' | 'batch';
  /** `pending` before it starts, `running` while a tenant of it is not done, `done` once all succeeded or skipped. */
  status: 'pending' | 'running' | 'done';
  tenants: RolloutTenantView[];
}

export interface RolloutView {
  rolloutId: string;
  imageTag: string;
  status: RolloutStatus;
  selection: RolloutSelection;
  canarySize: number;
  batchSize: number;
  requestedBy: string;
  reason: string;
  startedAt: string;
  completedAt: string | null;
  currentWave: number;
  counts: Record<RolloutTenantStatus, number>;
  halt: { wave: number; tenantId: string; error: FailureReason; haltedAt: string } | null;
  decisions: RolloutDecisionRecord[];
  waves: RolloutWaveView[];
}

export function rolloutView(state: RolloutState): RolloutView {
  const waves = state.waves.map((tenantIds, wave): RolloutWaveView => {
    const tenants = tenantIds.map((tenantId): RolloutTenantView => {
      const t = state.tenants[tenantId];
      return {
        tenantId,
        status: t.status,
        attempt: t.attempt,
        outcome: t.outcome ?? null,
        error: t.error ?? null,
        skipReason: t.skipReason ?? null,
        startedAt: t.startedAt ?? null,
        finishedAt: t.finishedAt ?? null,
      };
    });
    const done = tenants.every((t) => t.status === 'succeeded' || t.status === 'skipped');
    const status = wave > state.currentWave ? 'pending' : done ? 'done' : 'running';
    return { wave, kind: wave === 0 ? 'canary' : 'batch', status, tenants };
  });
  return {
    rolloutId: state.rolloutId,
    imageTag: state.imageTag,
    status: state.status,
    selection: state.selection,
    canarySize: state.canarySize,
    batchSize: state.batchSize,
    requestedBy: state.requestedBy,
    reason: state.reason,
    startedAt: state.startedAt,
    completedAt: state.completedAt ?? null,
    currentWave: state.currentWave,
    counts: rolloutCounts(state),
    halt: state.halt ?? null,
    decisions: state.decisions,
    waves,
  };
}
