import type { RolloutStatus, RolloutTenantStatus } from '@app/lifecycle';
import type { RolloutTenantView, RolloutView, RolloutWaveView } from '@app/rollouts';
import type { HealthLevel } from './views';

/**
 * The console's rollout pages, computed on the server from the rollout the API serves: every label, colour
 * level, progress count and offered action is decided here (and unit-tested), so the page only renders text.
 */

/** An operator's decision on a rollout, posted to `POST /api/v1/rollouts/:id/<action>`. */
export type RolloutAction = 'pause' | 'resume' | 'abort';

/** A tenant's progress as operators read it: a started tenant's change is in progress. */
export type RolloutConsoleTenantStatus = 'pending' | 'in_progress' | 'succeeded' | 'skipped' | 'failed';

export interface ConsoleBadge {
  level: HealthLevel;
  /** Shown as text next to the colour, so the badge never relies on colour alone. */
  label: string;
}

export interface RolloutProgress {
  pending: number;
  in_progress: number;
  succeeded: number;
  skipped: number;
  failed: number;
  total: number;
  /** Succeeded or skipped: tenants the rollout is done with. */
  done: number;
  /** `done` of `total`, rounded down (100 only once every tenant is done). */
  percent: number;
}

export interface RolloutConsoleItem {
  rollout_id: string;
  image_tag: string;
  status: RolloutStatus;
  badge: ConsoleBadge;
  requested_by: string;
  reason: string;
  started_at: string;
  completed_at: string | null;
  wave: { current: number | null; total: number; label: string };
  progress: RolloutProgress;
  halt: { wave: number; tenant_id: string; code: string; message: string; halted_at: string } | null;
  /** What an operator may do now (the use case refuses the others). */
  actions: RolloutAction[];
}

export interface RolloutConsoleTenant {
  tenant_id: string;
  status: RolloutConsoleTenantStatus;
  badge: ConsoleBadge;
  attempt: number;
  /** The error of a failure, the reason of a skip, or how a success came about. */
  detail: string;
  started_at: string | null;
  finished_at: string | null;
}

export interface RolloutConsoleWave {
  wave: number;
  label: string;
  status: RolloutWaveView['status'];
  badge: ConsoleBadge;
  tenants: RolloutConsoleTenant[];
}

export interface RolloutConsoleDetail extends RolloutConsoleItem {
  selection: string;
  canary_size: number;
  batch_size: number;
  decisions: { action: string; by: string; reason: string; at: string }[];
  waves: RolloutConsoleWave[];
}

/** The decisions `Rollouts.decide` accepts in each status (running: pause; paused or halted: resume; abort). */
export function rolloutActions(status: RolloutStatus): RolloutAction[] {
  switch (status) {
    case 'running':
      return ['pause', 'abort'];
    case 'paused':
    case 'halted':
      return ['resume', 'abort'];
    case 'completed':
    case 'aborted':
      return [];
    default: {
      const unreachable: never = status;
      return unreachable;
    }
  }
}

function statusBadge(rollout: RolloutView): ConsoleBadge {
  switch (rollout.status) {
    case 'running':
      return { level: 'progress', label: 'Running' };
    case 'paused':
      return { level: 'warning', label: 'Paused' };
    case 'halted':
      return {
        level: 'critical',
        label: rollout.halt ? `Halted: ${rollout.halt.tenantId} failed` : 'Halted',
      };
    case 'completed':
      return { level: 'ok', label: 'Completed' };
    case 'aborted':
      return { level: 'neutral', label: 'Aborted' };
    default: {
      const unreachable: never = rollout.status;
      return unreachable;
    }
  }
}

export function waveLabel(wave: number): string {
  return wave === 0 ? 'Canary' : `Batch ${wave}`;
}

function waveSummary(rollout: RolloutView): RolloutConsoleItem['wave'] {
  const total = rollout.waves.length;
  if (rollout.currentWave < 0) return { current: null, total, label: 'Not started' };
  const done = rollout.waves.every((wave) => wave.status === 'done');
  if (done) return { current: rollout.currentWave, total, label: `All ${total} done` };
  const label = `${waveLabel(rollout.currentWave)} (wave ${rollout.currentWave + 1} of ${total})`;
  return { current: rollout.currentWave, total, label };
}

const TENANT_STATUS: Record<RolloutTenantStatus, RolloutConsoleTenantStatus> = {
  pending: 'pending',
  started: 'in_progress',
  succeeded: 'succeeded',
  skipped: 'skipped',
  failed: 'failed',
};

export function rolloutProgress(rollout: RolloutView): RolloutProgress {
  const { pending, started, succeeded, skipped, failed } = rollout.counts;
  const total = pending + started + succeeded + skipped + failed;
  const done = succeeded + skipped;
  const percent = total === 0 ? 100 : Math.floor((done / total) * 100);
  return { pending, in_progress: started, succeeded, skipped, failed, total, done, percent };
}

export function rolloutConsoleItem(rollout: RolloutView): RolloutConsoleItem {
  const halt = rollout.halt && {
    wave: rollout.halt.wave,
    tenant_id: rollout.halt.tenantId,
    code: rollout.halt.error.code,
    message: rollout.halt.error.message,
    halted_at: rollout.halt.haltedAt,
  };
  return {
    rollout_id: rollout.rolloutId,
    image_tag: rollout.imageTag,
    status: rollout.status,
    badge: statusBadge(rollout),
    requested_by: rollout.requestedBy,
    reason: rollout.reason,
    started_at: rollout.startedAt,
    completed_at: rollout.completedAt,
    wave: waveSummary(rollout),
    progress: rolloutProgress(rollout),
    halt,
    actions: rolloutActions(rollout.status),
  };
}

function tenantBadge(tenant: RolloutTenantView): ConsoleBadge {
  const attempt = tenant.attempt > 1 ? ` (attempt ${tenant.attempt})` : '';
  switch (tenant.status) {
    case 'pending':
      return { level: 'neutral', label: tenant.attempt > 0 ? 'Pending retry' : 'Pending' };
    case 'started':
      return { level: 'progress', label: `In progress${attempt}` };
    case 'succeeded':
      return { level: 'ok', label: `Succeeded${attempt}` };
    case 'skipped':
      return { level: 'neutral', label: 'Skipped' };
    case 'failed':
      return { level: 'critical', label: `Failed${attempt}` };
    default: {
      const unreachable: never = tenant.status;
      return unreachable;
    }
  }
}

function tenantDetail(tenant: RolloutTenantView): string {
  if (tenant.error) return `${tenant.error.code}: ${tenant.error.message}`;
  if (tenant.status === 'skipped') return tenant.skipReason ?? 'left as it is';
  if (tenant.outcome === 'already-applied') return 'already ran the tag';
  if (tenant.outcome === 'applied') return 'deployed with the tag and verified healthy';
  return '';
}

function waveView(wave: RolloutWaveView): RolloutConsoleWave {
  const failed = wave.tenants.filter((tenant) => tenant.status === 'failed').length;
  const badge: ConsoleBadge =
    wave.status === 'pending'
      ? { level: 'neutral', label: 'Not started' }
      : wave.status === 'done'
        ? { level: 'ok', label: 'Done' }
        : failed > 0
          ? { level: 'critical', label: `${failed} failed` }
          : { level: 'progress', label: 'In progress' };
  return {
    wave: wave.wave,
    label: waveLabel(wave.wave),
    status: wave.status,
    badge,
    tenants: wave.tenants.map((tenant) => ({
      tenant_id: tenant.tenantId,
      status: TENANT_STATUS[tenant.status],
      badge: tenantBadge(tenant),
      attempt: tenant.attempt,
      detail: tenantDetail(tenant),
      started_at: tenant.startedAt,
      finished_at: tenant.finishedAt,
    })),
  };
}

function selectionText(selection: RolloutView['selection']): string {
  const parts = [
    selection.tiers?.length ? `tiers ${selection.tiers.join(', ')}` : '',
    selection.regions?.length ? `regions ${selection.regions.join(', ')}` : '',
    selection.tenantIds?.length ? `${selection.tenantIds.length} listed tenant(s)` : '',
  ].filter(Boolean);
  return parts.length > 0 ? `Active tenants of ${parts.join('; ')}` : 'Every active tenant';
}

export function rolloutConsoleDetail(rollout: RolloutView): RolloutConsoleDetail {
  return {
    ...rolloutConsoleItem(rollout),
    selection: selectionText(rollout.selection),
    canary_size: rollout.canarySize,
    batch_size: rollout.batchSize,
    decisions: rollout.decisions.map((decision) => ({ ...decision })),
    waves: rollout.waves.map(waveView),
  };
}
