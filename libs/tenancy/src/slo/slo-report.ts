import { TIERS, TENANT_STREAM_CATEGORY, type Tier } from '@app/contracts';
import type { ReportedStatus } from '@app/lifecycle';
import { percentiles, type Percentiles } from './percentile';
import type { SloQuery } from './slo-period';
import { phaseOfStep, SLO_PHASES, SLO_STEPS, SLO_TARGETS } from './slo-targets';
import {
  eventTime,
  TenantSloTracker,
  type ProvisioningRun,
  type SloEvent,
  type SloSink,
  type StateSegment,
} from './slo-tracker';

/* The SLO report is a document: its fields are the wire's (API, console and `tenantctl slo --json`). */

export interface TierSlo {
  tier: Tier | 'all';
  /** Runs that ended in the period, by outcome, and runs still under way at its end. */
  runs: { activated: number; failed: number; cancelled: number; in_progress: number };
  /** Activated over activated + failed; cancellations are the customer's choice, not a failure. */
  success_ratio: number | null;
  success_target_met: boolean | null;
  time_to_active: Percentiles & { within_target: number; target_met: boolean | null };
}

export interface StepSlo extends Percentiles {
  step: string;
  phase: string;
  budget_ms: number;
  /** Attempts that failed or timed out (a retry that then succeeded counts here too). */
  failures: number;
  within_budget: boolean | null;
}

export interface PhaseSlo extends Percentiles {
  phase: string;
  label: string;
  budget_ms: number;
  steps: readonly string[];
  within_budget: boolean | null;
}

export interface StateSlo {
  state: ReportedStatus;
  /** Time all tenants together spent in the state inside the period. */
  total_ms: number;
  tenants: number;
  /** Stays that ended inside the period, whole (also the part before it). */
  completed: Percentiles;
}

export interface FailedRun {
  tenant_id: string;
  tier: Tier;
  started_at: string;
  ended_at: string;
  failed_step: string | null;
  code: string | null;
}

export interface SloReport {
  period: { since: string; until: string };
  tier: Tier | null;
  targets: { time_to_active_min_ms: number; time_to_active_max_ms: number; success_ratio: number };
  overall: TierSlo;
  by_tier: TierSlo[];
  steps: StepSlo[];
  phases: PhaseSlo[];
  states: StateSlo[];
  /** The latest failed runs of the period, newest first (at most `FAILED_RUNS_SHOWN`). */
  failed_runs: FailedRun[];
  events_read: number;
}

export const FAILED_RUNS_SHOWN = 20;
const STREAM_PREFIX = `${TENANT_STREAM_CATEGORY}-`;

const atMost = (value: number | null, limit: number) => (value === null ? null : value <= limit);

/**
 * Builds the report from tenant events read in log order, page by page: pure (no clock, no I/O), so the same
 * events and period give the same report, however often it is replayed. Events at or after `until` are not
 * folded: a report of a past period does not change as tenants move on.
 */
export class SloCollector implements SloSink {
  private readonly trackers = new Map<string, TenantSloTracker>();
  private readonly runs: ProvisioningRun[] = [];
  private readonly segments: StateSegment[] = [];
  private eventsRead = 0;

  constructor(private readonly query: SloQuery) {}

  add(event: SloEvent): void {
    if (!event.streamName.startsWith(STREAM_PREFIX)) return;
    const at = eventTime(event);
    if (at >= this.query.until) return;
    this.eventsRead += 1;
    const tenantId = event.streamName.slice(STREAM_PREFIX.length);
    let tracker = this.trackers.get(tenantId);
    if (!tracker) {
      tracker = new TenantSloTracker(tenantId, this);
      this.trackers.set(tenantId, tracker);
    }
    tracker.add(event, at);
  }

  /** Kept only when it counts: of the tier asked for, and not ended before the period (memory stays bounded). */
  run(run: ProvisioningRun): void {
    if (this.query.tier && run.tier !== this.query.tier) return;
    if (run.endedAt !== undefined && run.endedAt < this.query.since) return;
    this.runs.push(run);
  }

  segment(segment: StateSegment): void {
    if (this.query.tier && segment.tier !== this.query.tier) return;
    if (segment.to < this.query.since) return;
    this.segments.push(segment);
  }

  report(): SloReport {
    for (const tracker of this.trackers.values()) tracker.finish(this.query.until);
    this.trackers.clear();
    const { since, until, tier } = this.query;
    const ended = this.runs.filter((run) => run.endedAt !== undefined);
    const open = this.runs.filter((run) => run.endedAt === undefined);
    const tiers = tier ? [tier] : TIERS;
    return {
      period: { since: new Date(since).toISOString(), until: new Date(until).toISOString() },
      tier,
      targets: {
        time_to_active_min_ms: SLO_TARGETS.timeToActive.minMs,
        time_to_active_max_ms: SLO_TARGETS.timeToActive.maxMs,
        success_ratio: SLO_TARGETS.successRatio,
      },
      overall: tierSlo('all', ended, open),
      by_tier: tiers.map((t) =>
        tierSlo(
          t,
          ended.filter((run) => run.tier === t),
          open.filter((run) => run.tier === t),
        ),
      ),
      steps: stepSlos(ended),
      phases: phaseSlos(ended),
      states: stateSlos(this.segments, since, until),
      failed_runs: failedRuns(ended),
      events_read: this.eventsRead,
    };
  }
}

function tierSlo(tier: Tier | 'all', ended: ProvisioningRun[], open: ProvisioningRun[]): TierSlo {
  const count = (outcome: string) => ended.filter((run) => run.outcome === outcome).length;
  const activated = count('activated');
  const failed = count('failed');
  const durations = ended
    .filter((run) => run.outcome === 'activated')
    .map((run) => (run.endedAt as number) - run.startedAt);
  const ratio = activated + failed === 0 ? null : activated / (activated + failed);
  const stats = percentiles(durations);
  const max = SLO_TARGETS.timeToActive.maxMs;
  return {
    tier,
    runs: { activated, failed, cancelled: count('cancelled'), in_progress: open.length },
    success_ratio: ratio,
    success_target_met: ratio === null ? null : ratio >= SLO_TARGETS.successRatio,
    time_to_active: {
      ...stats,
      within_target: durations.filter((ms) => ms <= max).length,
      target_met: atMost(stats.p95_ms, max),
    },
  };
}

function stepSlos(ended: ProvisioningRun[]): StepSlo[] {
  return SLO_STEPS.map((name) => {
    const phase = phaseOfStep(name);
    const budget = phase?.budgetMs ?? 0;
    const steps = ended.flatMap((run) => {
      const step = run.steps.get(name);
      return step ? [step] : [];
    });
    const stats = percentiles(
      steps.flatMap((step) => (step.succeededAt === undefined ? [] : [step.succeededAt - step.startedAt])),
    );
    return {
      step: name,
      phase: phase?.name ?? '',
      budget_ms: budget,
      ...stats,
      failures: steps.reduce((sum, step) => sum + step.failures, 0),
      within_budget: atMost(stats.p95_ms, budget),
    };
  });
}

/** A phase counts in a run only when every one of its steps succeeded there (and, if it says so, it activated). */
function phaseSlos(ended: ProvisioningRun[]): PhaseSlo[] {
  return SLO_PHASES.map((phase) => {
    const durations = ended.flatMap((run) => {
      const steps = phase.steps.map((name) => run.steps.get(name));
      if (steps.some((step) => step?.succeededAt === undefined)) return [];
      if (phase.endsAtActivation && run.outcome !== 'activated') return [];
      const start = Math.min(...steps.map((step) => step?.startedAt ?? Infinity));
      const end = phase.endsAtActivation
        ? (run.endedAt as number)
        : Math.max(...steps.map((step) => step?.succeededAt ?? -Infinity));
      return [end - start];
    });
    const stats = percentiles(durations);
    return {
      phase: phase.name,
      label: phase.label,
      budget_ms: phase.budgetMs,
      steps: phase.steps,
      ...stats,
      within_budget: atMost(stats.p95_ms, phase.budgetMs),
    };
  });
}

function stateSlos(segments: StateSegment[], since: number, until: number): StateSlo[] {
  const byState = new Map<ReportedStatus, StateSegment[]>();
  for (const segment of segments) {
    const list = byState.get(segment.state) ?? [];
    list.push(segment);
    byState.set(segment.state, list);
  }
  return [...byState.entries()]
    .map(([state, list]) => {
      const inside = list.map((s) => Math.max(0, Math.min(s.to, until) - Math.max(s.from, since)));
      return {
        state,
        total_ms: inside.reduce((sum, ms) => sum + ms, 0),
        tenants: new Set(list.filter((_, i) => inside[i] > 0).map((s) => s.tenantId)).size,
        completed: percentiles(list.filter((s) => !s.open && s.to >= since).map((s) => s.to - s.from)),
      };
    })
    .filter((state) => state.total_ms > 0 || state.completed.count > 0)
    .sort((a, b) => b.total_ms - a.total_ms || a.state.localeCompare(b.state));
}

function failedRuns(ended: ProvisioningRun[]): FailedRun[] {
  return ended
    .filter((run) => run.outcome === 'failed')
    .sort((a, b) => (b.endedAt as number) - (a.endedAt as number))
    .slice(0, FAILED_RUNS_SHOWN)
    .map((run) => ({
      tenant_id: run.tenantId,
      tier: run.tier,
      started_at: new Date(run.startedAt).toISOString(),
      ended_at: new Date(run.endedAt as number).toISOString(),
      failed_step: run.failure?.step ?? null,
      code: run.failure?.code ?? null,
    }));
}

/** The report of a list of events already in memory (tests, small exports). */
export function sloReport(events: Iterable<SloEvent>, query: SloQuery): SloReport {
  const collector = new SloCollector(query);
  for (const event of events) collector.add(event);
  return collector.report();
}
