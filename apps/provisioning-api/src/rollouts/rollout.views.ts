import type { RolloutView } from '@app/rollouts';

/** A rollout as the API answers it (snake_case, as every other answer of the API). */
export function rolloutView(rollout: RolloutView) {
  return {
    rollout_id: rollout.rolloutId,
    image_tag: rollout.imageTag,
    status: rollout.status,
    selection: {
      tiers: rollout.selection.tiers ?? null,
      regions: rollout.selection.regions ?? null,
      tenant_ids: rollout.selection.tenantIds ?? null,
    },
    canary_size: rollout.canarySize,
    batch_size: rollout.batchSize,
    requested_by: rollout.requestedBy,
    reason: rollout.reason,
    started_at: rollout.startedAt,
    completed_at: rollout.completedAt,
    current_wave: rollout.currentWave,
    counts: rollout.counts,
    halt: rollout.halt && {
      wave: rollout.halt.wave,
      tenant_id: rollout.halt.tenantId,
      error: rollout.halt.error,
      halted_at: rollout.halt.haltedAt,
    },
    decisions: rollout.decisions,
    waves: rollout.waves.map((wave) => ({
      wave: wave.wave,
      kind: wave.kind,
      status: wave.status,
      tenants: wave.tenants.map((tenant) => ({
        tenant_id: tenant.tenantId,
        status: tenant.status,
        attempt: tenant.attempt,
        outcome: tenant.outcome,
        error: tenant.error,
        skip_reason: tenant.skipReason,
        started_at: tenant.startedAt,
        finished_at: tenant.finishedAt,
      })),
    })),
  };
}
