import type { TenantEvent, Tier } from '@app/contracts';
import { evolve, initialState, reportedStatus, type ReportedStatus, type TenantState } from '@app/lifecycle';
import { SLO_STEPS } from './slo-targets';

/** The part of a stored event the report reads; `occurredAt` comes from the metadata, else the record time. */
export interface SloEvent {
  streamName: string;
  type: string;
  data: unknown;
  metadata: Readonly<Record<string, unknown>>;
  recordedAt: Date;
}

export type RunOutcome = 'activated' | 'failed' | 'cancelled';

/** One step of a provisioning run: first start, success (if any) and failed or timed-out attempts. */
export interface RunStep {
  startedAt: number;
  succeededAt?: number;
  failures: number;
}

/** A provisioning run: from the request (or a fresh start after a failure) to activation, failure or cancellation. */
export interface ProvisioningRun {
  tenantId: string;
  tier: Tier;
  startedAt: number;
  endedAt?: number;
  outcome?: RunOutcome;
  steps: Map<string, RunStep>;
  failure?: { step: string; code: string };
}

/** Time a tenant spent in one reported status, from `from` to `to` (`open`: still there at the end). */
export interface StateSegment {
  tenantId: string;
  state: ReportedStatus;
  tier: Tier;
  from: number;
  to: number;
  open: boolean;
}

export interface SloSink {
  run(run: ProvisioningRun): void;
  segment(segment: StateSegment): void;
}

const TIMED_STEPS: ReadonlySet<string> = new Set(SLO_STEPS);
const RUNNING: ReadonlySet<ReportedStatus> = new Set(['requested', 'provisioning', 'rolling_back']);
const OUTCOME: Partial<Record<ReportedStatus, RunOutcome>> = {
  active: 'activated',
  failed: 'failed',
  cancelled: 'cancelled',
};

export function eventTime(event: Pick<SloEvent, 'metadata' | 'recordedAt'>): number {
  const occurred = event.metadata['occurredAt'];
  const ms = typeof occurred === 'string' ? Date.parse(occurred) : NaN;
  return Number.isFinite(ms) ? ms : event.recordedAt.getTime();
}

/**
 * One tenant's stream folded with the lifecycle's own `evolve` (the orchestrator's rules), watching its status
 * change: a run opens when the tenant enters provisioning and closes when it is active, failed or cancelled, so
 * a fresh provisioning of a failed tenant is a run of its own. Every status change closes a state segment.
 */
export class TenantSloTracker {
  private state: TenantState = initialState();
  private status: ReportedStatus | undefined;
  private enteredAt = 0;
  private enteredTier: Tier | undefined;
  private run: ProvisioningRun | undefined;

  constructor(
    readonly tenantId: string,
    private readonly sink: SloSink,
  ) {}

  add(event: SloEvent, at: number): void {
    const before = this.state;
    const after = evolve(before, event as unknown as TenantEvent);
    this.state = after;
    if (!after.tenant) return;
    const status = reportedStatus(after);
    if (status !== this.status) this.changeStatus(status, at);
    if (this.run) this.trackSteps(before, after, event, at);
    this.closeRun(status, at);
  }

  /** The open segment and run as they stand at `until` (the end of the report). */
  finish(until: number): void {
    if (this.status !== undefined && this.enteredTier) {
      this.sink.segment({
        tenantId: this.tenantId,
        state: this.status,
        tier: this.enteredTier,
        from: this.enteredAt,
        to: until,
        open: true,
      });
    }
    if (this.run) this.sink.run(this.run);
  }

  private changeStatus(status: ReportedStatus, at: number): void {
    if (this.status !== undefined && this.enteredTier) {
      this.sink.segment({
        tenantId: this.tenantId,
        state: this.status,
        tier: this.enteredTier,
        from: this.enteredAt,
        to: at,
        open: false,
      });
    }
    this.status = status;
    this.enteredAt = at;
    this.enteredTier = this.state.tenant?.tier;
    if (!this.run && RUNNING.has(status) && this.state.tenant) {
      this.run = { tenantId: this.tenantId, tier: this.state.tenant.tier, startedAt: at, steps: new Map() };
    }
  }

  private trackSteps(before: TenantState, after: TenantState, event: SloEvent, at: number): void {
    const run = this.run as ProvisioningRun;
    for (const name of TIMED_STEPS) {
      const was = before.steps[name];
      const now = after.steps[name];
      if (!now || now === was) continue;
      let step = run.steps.get(name);
      if (!step) {
        // A step enters the run when it starts; a late result of an earlier run's attempt does not open it.
        if (event.type !== 'StepStarted') continue;
        step = { startedAt: at, failures: 0 };
        run.steps.set(name, step);
      }
      if (now.status === 'succeeded' && was?.status !== 'succeeded') step.succeededAt = at;
      if ((now.status === 'failed' || now.status === 'timed_out') && was?.status === 'running') {
        step.failures += 1;
      }
    }
    if (event.type === 'RollbackStarted' && after.rollback && !run.failure) {
      run.failure = { step: after.rollback.failedStep, code: after.rollback.reason.code };
    }
  }

  private closeRun(status: ReportedStatus, at: number): void {
    const outcome = OUTCOME[status];
    if (!this.run || !outcome) return;
    this.sink.run({ ...this.run, endedAt: at, outcome });
    this.run = undefined;
  }
}
