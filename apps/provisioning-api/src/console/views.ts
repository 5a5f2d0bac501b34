import { ACTIVATE_STEP, PROVISIONING_STEPS, type ProvisioningStep } from '@app/contracts';
import type { TenantVerification } from '@app/audit';
import type { RecordedEvent } from '@app/event-store';
import {
  redactSecrets,
  tenantDetail,
  tenantListItem,
  toSummaryEvent,
  type StepSummary,
  type TenantSummary,
} from '@app/tenancy';

/**
 * What the operator console shows, computed on the server from the same tenant summary the API serves: pure
 * functions, so the page only renders (and every rule here is unit-tested without a browser).
 */

export type HealthLevel = 'ok' | 'progress' | 'warning' | 'critical' | 'neutral';

export interface HealthBadge {
  level: HealthLevel;
  /** Shown as text next to the colour, so the badge never relies on colour alone. */
  label: string;
  parked_steps: string[];
}

const COMPENSATION_PREFIX = 'compensate:';

/** One badge per tenant: the worst of its lifecycle state and of its steps. */
export function tenantHealth(summary: TenantSummary): HealthBadge {
  const parked = Object.values(summary.steps)
    .filter((step) => step.status === 'parked')
    .map((step) => step.step)
    .sort();
  const badge = (level: HealthLevel, label: string): HealthBadge => ({ level, label, parked_steps: parked });
  switch (summary.status) {
    case 'failed':
      return badge('critical', parked.length > 0 ? `Failed, ${parked.length} parked` : 'Failed');
    case 'rolling_back':
      return badge('critical', 'Rolling back');
    case 'requested':
    case 'provisioning': {
      const retrying = Object.values(summary.steps).some(
        (step) => step.status === 'failed' || step.status === 'timed_out',
      );
      return badge('progress', retrying ? 'Provisioning (retrying a step)' : 'Provisioning');
    }
    case 'active':
    case 'suspended':
    case 'suspending':
    case 'resuming':
    case 'deprovisioning':
    case 'cancelled':
    case 'purged': {
      if (parked.length > 0) return badge('warning', `Needs attention: ${parked.length} parked`);
      if (summary.status === 'active') return badge('ok', 'Healthy');
      const labels = {
        suspended: 'Suspended',
        suspending: 'Suspending',
        resuming: 'Resuming',
        deprovisioning: 'Deprovisioning',
        cancelled: 'Cancelled before activation',
        purged: 'Purged',
      };
      return badge('neutral', labels[summary.status]);
    }
    default: {
      const unreachable: never = summary.status;
      return unreachable;
    }
  }
}

export type NodeState = 'pending' | StepSummary['status'];

export interface DagNode {
  step: string;
  /** Column of the drawing: the longest chain of dependencies before the step. */
  column: number;
  depends_on: string[];
  /** `depends_on` without the dependencies implied through another one: the edges worth drawing. */
  drawn_after: string[];
  phase: ProvisioningStep['phase'] | 'activation';
  state: NodeState;
  attempt: number | null;
  started_at: string | null;
  finished_at: string | null;
  duration_ms: number | null;
  error: { code: string; message: string } | null;
}

interface DagShape {
  name: string;
  dependsOn: readonly string[];
  phase: DagNode['phase'];
}

/** The provisioning DAG of DESIGN.md section 6 with `activate` (the orchestrator's own step) in its place. */
export const DAG_SHAPE: readonly DagShape[] = (() => {
  const verifySteps = PROVISIONING_STEPS.filter((step) => step.phase === 'verify').map((step) => step.name);
  const shape: DagShape[] = PROVISIONING_STEPS.filter((step) => step.phase !== 'after-activation').map(
    (step) => ({ name: step.name, dependsOn: step.dependsOn, phase: step.phase }),
  );
  shape.push({ name: ACTIVATE_STEP, dependsOn: verifySteps, phase: 'activation' });
  for (const step of PROVISIONING_STEPS.filter((s) => s.phase === 'after-activation')) {
    shape.push({ name: step.name, dependsOn: step.dependsOn, phase: step.phase });
  }
  return shape;
})();

function columns(shape: readonly DagShape[]): Map<string, number> {
  const byName = new Map(shape.map((step) => [step.name, step]));
  const memo = new Map<string, number>();
  const depth = (name: string, seen: ReadonlySet<string>): number => {
    const known = memo.get(name);
    if (known !== undefined) return known;
    const step = byName.get(name);
    // A dependency outside the drawing, or a cycle (the contracts forbid both), starts a column of its own.
    if (!step || seen.has(name)) return 0;
    const next = new Set(seen).add(name);
    const value = Math.max(-1, ...step.dependsOn.map((dep) => depth(dep, next))) + 1;
    memo.set(name, value);
    return value;
  };
  for (const step of shape) depth(step.name, new Set());
  return memo;
}

/** Transitive reduction: a dependency reachable through another dependency adds no information to a drawing. */
function directDependencies(shape: readonly DagShape[]): Map<string, string[]> {
  const byName = new Map(shape.map((step) => [step.name, step]));
  const ancestors = (name: string, seen = new Set<string>()): Set<string> => {
    for (const dep of byName.get(name)?.dependsOn ?? []) {
      if (!seen.has(dep)) {
        seen.add(dep);
        ancestors(dep, seen);
      }
    }
    return seen;
  };
  return new Map(
    shape.map((step) => [
      step.name,
      step.dependsOn.filter(
        (dep) => !step.dependsOn.some((other) => other !== dep && ancestors(other).has(dep)),
      ),
    ]),
  );
}

/** Each DAG step with its state and duration; steps not started yet are `pending`. */
export function dagView(summary: TenantSummary): DagNode[] {
  const column = columns(DAG_SHAPE);
  const direct = directDependencies(DAG_SHAPE);
  return DAG_SHAPE.map((shape) => {
    const run = summary.steps[shape.name];
    const base = {
      step: shape.name,
      column: column.get(shape.name) ?? 0,
      depends_on: [...shape.dependsOn],
      drawn_after: direct.get(shape.name) ?? [],
      phase: shape.phase,
    };
    if (shape.name === ACTIVATE_STEP && !run) {
      const activated = summary.activatedAt !== null;
      return {
        ...base,
        state: activated ? 'succeeded' : 'pending',
        attempt: null,
        started_at: null,
        finished_at: summary.activatedAt,
        duration_ms: null,
        error: null,
      };
    }
    if (!run) {
      return {
        ...base,
        state: 'pending',
        attempt: null,
        started_at: null,
        finished_at: null,
        duration_ms: null,
        error: null,
      };
    }
    return {
      ...base,
      state: run.status,
      attempt: run.attempt,
      started_at: run.startedAt,
      finished_at: run.finishedAt,
      duration_ms: run.durationMs,
      error: run.error && { code: run.error.code, message: run.error.message },
    };
  });
}

const DAG_NAMES: ReadonlySet<string> = new Set(DAG_SHAPE.map((step) => step.name));

export interface OtherStep {
  step: string;
  kind: 'rollback' | 'other';
  state: StepSummary['status'];
  attempt: number;
  started_at: string;
  duration_ms: number | null;
  error: { code: string; message: string } | null;
}

/** Work outside the DAG: rollback compensations, then cancellation, backup, purge and operator-requested work. */
export function otherSteps(summary: TenantSummary): OtherStep[] {
  return Object.values(summary.steps)
    .filter((run) => !DAG_NAMES.has(run.step))
    .sort((a, b) => a.startedAt.localeCompare(b.startedAt) || a.step.localeCompare(b.step))
    .map((run) => ({
      step: run.step,
      kind: run.step.startsWith(COMPENSATION_PREFIX) ? 'rollback' : 'other',
      state: run.status,
      attempt: run.attempt,
      started_at: run.startedAt,
      duration_ms: run.durationMs,
      error: run.error && { code: run.error.code, message: run.error.message },
    }));
}

export interface ParkedWork {
  step: string;
  attempt: number;
  parked_at: string | null;
  error: { code: string; message: string } | null;
}

/** Steps parked for an operator: what the retry action offers (the orchestrator re-issues only these). */
export function parkedWork(summary: TenantSummary): ParkedWork[] {
  return Object.values(summary.steps)
    .filter((run) => run.status === 'parked')
    .sort((a, b) => a.step.localeCompare(b.step))
    .map((run) => ({
      step: run.step,
      attempt: run.attempt,
      parked_at: run.finishedAt,
      error: run.error && { code: run.error.code, message: run.error.message },
    }));
}

export interface ConsoleLinks {
  grafana: string;
  store: string;
}

/** Links out of the console; the base URL is configuration, the path is the monitoring service's folder. */
export function consoleLinks(summary: TenantSummary, grafanaBaseUrl: string): ConsoleLinks {
  const base = grafanaBaseUrl.replace(/\/+$/, '');
  return {
    grafana: `${base}/dashboards/f/tenant-${encodeURIComponent(summary.tenantId)}`,
    store: `https://${summary.domain}`,
  };
}

export function consoleListItem(summary: TenantSummary) {
  return { ...tenantListItem(summary), health: tenantHealth(summary) };
}

/** A tenant on the attention page: why it is there, and what waits for an operator. */
export function attentionItem(summary: TenantSummary) {
  return { ...consoleListItem(summary), failure_reason: summary.failureReason, parked: parkedWork(summary) };
}

/** Everything the tenant page draws, in one object (sent first and after every change on the live stream). */
export function consoleTenantView(summary: TenantSummary, grafanaBaseUrl: string) {
  return {
    tenant: tenantDetail(summary),
    health: tenantHealth(summary),
    dag: dagView(summary),
    other_steps: otherSteps(summary),
    parked: parkedWork(summary),
    links: consoleLinks(summary, grafanaBaseUrl),
  };
}

/** One audit timeline entry; the payload goes through the same secret masking as the audit API. */
export function consoleEventView(event: RecordedEvent) {
  const metadata = event.metadata;
  const text = (key: string): string | null => (typeof metadata[key] === 'string' ? metadata[key] : null);
  return {
    revision: event.revision,
    event_id: event.id,
    type: event.type,
    occurred_at: toSummaryEvent(event).occurredAt,
    actor: text('actor'),
    correlation_id: text('correlationId'),
    causation_id: text('causationId'),
    command_id: text('commandId'),
    data: redactSecrets(event.data),
  };
}

/** The hash-chain check as the console reports it: ok, coverage, and the first mismatch if any. */
export function auditView(verification: TenantVerification) {
  const mismatch = verification.firstMismatch;
  return {
    tenant_id: verification.tenantId,
    ok: verification.ok,
    stream_name: verification.streamName,
    checked_events: verification.checkedEvents,
    covered_up_to: verification.coveredUpTo,
    uncovered_events: verification.uncoveredEvents,
    chain_head: verification.chainHead,
    first_mismatch: mismatch
      ? {
          revision: mismatch.revision,
          event_id: mismatch.eventId,
          type: mismatch.type,
          reason: mismatch.reason,
          expected_hash: mismatch.expectedHash,
          actual_hash: mismatch.actualHash,
          detail: mismatch.detail ?? null,
        }
      : null,
  };
}

/**
 * One server-sent event. `data` is JSON on a single line (JSON.stringify never emits a raw newline), and
 * the event name and id are checked so a value can never start a frame of its own.
 */
export function sseFrame(event: string, data: unknown, id?: number): string {
  if (!/^[a-z][a-z-]{0,31}$/.test(event)) throw new Error(`invalid SSE event name: ${event}`);
  const idLine = id === undefined ? '' : `id: ${Math.trunc(id)}\n`;
  return `event: ${event}\n${idLine}data: ${JSON.stringify(data)}\n\n`;
}
