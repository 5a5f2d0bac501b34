import { PROVISIONING_STEPS, tenantStream, type Tier } from '@app/contracts';
import { TenantStreamBuilder } from '../testing/tenant-stream-builder';
import { percentile, percentiles } from './percentile';
import { parseSloQuery } from './slo-period';
import { sloReport, type SloReport } from './slo-report';
import { SLO_STEPS, SLO_TARGETS } from './slo-targets';
import { provisionedTenant } from './slo.test-helpers';
import type { SloEvent } from './slo-tracker';

const T0 = '2025-03-01T10:00:00.000Z';
const ms = (iso: string) => Date.parse(iso);
const QUOTA = { code: 'K8S.QUOTA_REFUSED', message: 'quota refused', retryable: false };
const DOWN = { code: 'DATABASE.UNAVAILABLE', message: 'down', retryable: true };

/** The builder's events as the event store hands them back. */
function recorded(...builders: TenantStreamBuilder[]): SloEvent[] {
  return builders.flatMap((builder) =>
    builder.events.map((event) => ({
      streamName: tenantStream(builder.tenantId),
      type: event.type,
      data: event.data,
      metadata: event.metadata as unknown as Record<string, unknown>,
      recordedAt: new Date(0),
    })),
  );
}

/** A tenant just requested; its next events follow `stepMs` apart. */
function requested(id: string, tier: Tier, stepMs: number, start = T0) {
  const builder = new TenantStreamBuilder(id, start, stepMs);
  builder.requested({ tier });
  return builder;
}

function activeTenant(id: string, tier: Tier, stepMs: number, start = T0): TenantStreamBuilder {
  return provisionedTenant(id, tier, start, stepMs);
}

/** A tenant whose namespace step fails for good: rollback, then failed. */
function failedTenant(id: string, tier: Tier, stepMs: number, start = T0): TenantStreamBuilder {
  return requested(id, tier, stepMs, start)
    .started('namespace', 'ProvisionNamespace')
    .failed('namespace', QUOTA)
    .lifecycle('RollbackStarted', { failedStep: 'namespace', reason: QUOTA })
    .lifecycle('TenantProvisioningFailed', { failedStep: 'namespace', reason: QUOTA, compensatedSteps: [] });
}

function report(events: SloEvent[], since: string, until: string, tier?: Tier): SloReport {
  return sloReport(events, { since: ms(since), until: ms(until), tier: tier ?? null });
}

const WIDE = ['2025-01-01T00:00:00Z', '2025-06-01T00:00:00Z'] as const;

describe('percentiles', () => {
  it('takes the nearest rank, an observed value, whatever the input order', () => {
    const hundred = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentiles(hundred)).toEqual({ count: 100, p50_ms: 50, p95_ms: 95, p99_ms: 99, max_ms: 100 });
    expect(percentiles([7])).toEqual({ count: 1, p50_ms: 7, p95_ms: 7, p99_ms: 7, max_ms: 7 });
    expect(percentiles([])).toEqual({ count: 0, p50_ms: null, p95_ms: null, p99_ms: null, max_ms: null });
    expect(percentile([10, 20, 30, 40], 50)).toBe(20);
    expect(percentile([10, 20, 30, 40], 51)).toBe(30);
  });
});

describe('SLO report from tenant events', () => {
  it('times the spec steps exactly: the provision and verify steps of the DAG', () => {
    const dag = PROVISIONING_STEPS.filter((s) => s.phase !== 'after-activation').map((s) => s.name);
    expect([...SLO_STEPS].sort()).toEqual([...dag].sort());
  });

  it('gives time-to-active percentiles per tier against the 11-minute objective', () => {
    const events = recorded(
      activeTenant('fast-one-aaaaaa', 'premium', 20_000),
      activeTenant('fast-two-bbbbbb', 'premium', 24_000),
      activeTenant('slow-one-cccccc', 'standard', 30_000),
    );
    const result = report(events, ...WIDE);
    const premium = result.by_tier.find((t) => t.tier === 'premium');
    const standard = result.by_tier.find((t) => t.tier === 'standard');
    // 25 intervals between the request and the activation.
    expect(premium?.time_to_active).toEqual({
      count: 2,
      p50_ms: 500_000,
      p95_ms: 600_000,
      p99_ms: 600_000,
      max_ms: 600_000,
      within_target: 2,
      target_met: true,
    });
    expect(standard?.time_to_active).toMatchObject({ count: 1, p50_ms: 750_000, within_target: 0 });
    expect(standard?.time_to_active.target_met).toBe(false);
    expect(result.overall.time_to_active).toMatchObject({ count: 3, p50_ms: 600_000, p99_ms: 750_000 });
    expect(result.overall.runs).toEqual({ activated: 3, failed: 0, cancelled: 0, in_progress: 0 });
    expect(result.overall.success_ratio).toBe(1);
    expect(result.by_tier.find((t) => t.tier === 'business')?.success_ratio).toBeNull();
    expect(result.targets).toEqual({
      time_to_active_min_ms: 8 * 60_000,
      time_to_active_max_ms: 11 * 60_000,
      success_ratio: SLO_TARGETS.successRatio,
    });
  });

  it('gives per-step and per-phase durations against the phase budgets', () => {
    const result = report(recorded(activeTenant('steps-aaaaaa', 'premium', 20_000)), ...WIDE);
    const step = (name: string) => result.steps.find((s) => s.step === name);
    expect(step('namespace')).toMatchObject({
      phase: 'validation',
      budget_ms: 30_000,
      count: 1,
      p95_ms: 20_000,
      failures: 0,
      within_budget: true,
    });
    // workloads started, succeeded, ingress started, succeeded: three intervals for the phase.
    expect(result.phases.find((p) => p.phase === 'deployment')).toMatchObject({
      budget_ms: 300_000,
      count: 1,
      p50_ms: 60_000,
      within_budget: true,
    });
    // The four verifications one after the other, then the activation: 8 intervals from the first start.
    expect(result.phases.find((p) => p.phase === 'verification')).toMatchObject({ p50_ms: 160_000 });
    const slow = report(recorded(activeTenant('steps-bbbbbb', 'premium', 45_000)), ...WIDE);
    expect(slow.steps.find((s) => s.step === 'broker')).toMatchObject({
      p95_ms: 45_000,
      within_budget: false,
    });
  });

  it('times a retried step from its first attempt and counts the failed attempt', () => {
    const builder = requested('retry-aaaaaa', 'business', 10_000)
      .started('databases', 'ProvisionDatabases', 1)
      .failed('databases', DOWN)
      .started('databases', 'ProvisionDatabases', 2)
      .succeeded('databases')
      .lifecycle('TenantActivated', { activatedAt: T0 });
    const result = report(recorded(builder), ...WIDE);
    expect(result.steps.find((s) => s.step === 'databases')).toMatchObject({
      count: 1,
      p50_ms: 30_000,
      failures: 1,
    });
  });

  it('counts failed runs against the 99.5 % objective and leaves cancellations out of the ratio', () => {
    const cancelled = requested('cancel-aaaaaa', 'premium', 10_000)
      .started('namespace', 'ProvisionNamespace')
      .lifecycle('CancellationRequested', {
        subscriptionId: 'sub_cancel',
        reason: 'changed mind',
        requestedAt: T0,
        deletionDate: T0,
        requestedBy: 'billing',
      })
      .succeeded('namespace')
      .lifecycle('RollbackStarted', { failedStep: 'namespace', reason: QUOTA })
      .lifecycle('ProvisioningCancelled', {
        subscriptionId: 'sub_cancel',
        reason: 'changed mind',
        compensatedSteps: ['namespace'],
        cancelledAt: T0,
      });
    const events = recorded(
      activeTenant('ok-one-aaaaaa', 'premium', 20_000),
      activeTenant('ok-two-bbbbbb', 'premium', 20_000),
      failedTenant('broken-cccccc', 'premium', 20_000),
      cancelled,
    );
    const result = report(events, ...WIDE);
    expect(result.overall.runs).toEqual({ activated: 2, failed: 1, cancelled: 1, in_progress: 0 });
    expect(result.overall.success_ratio).toBeCloseTo(2 / 3);
    expect(result.overall.success_target_met).toBe(false);
    expect(result.failed_runs).toEqual([
      {
        tenant_id: 'broken-cccccc',
        tier: 'premium',
        started_at: T0,
        ended_at: new Date(ms(T0) + 4 * 20_000).toISOString(),
        failed_step: 'namespace',
        code: 'K8S.QUOTA_REFUSED',
      },
    ]);
    expect(result.steps.find((s) => s.step === 'namespace')?.failures).toBe(1);
  });

  it('counts runs by the instant they ended inside [since, until) and ignores events from until on', () => {
    const early = activeTenant('early-aaaaaa', 'premium', 20_000, '2025-03-01T10:00:00Z');
    const late = activeTenant('late-bbbbbb', 'premium', 20_000, '2025-03-02T10:00:00Z');
    const events = recorded(early, late);
    const second = report(events, '2025-03-02T00:00:00Z', '2025-03-03T00:00:00Z');
    expect(second.overall.runs.activated).toBe(1);
    expect(second.overall.time_to_active.count).toBe(1);
    const first = report(events, '2025-03-01T00:00:00Z', '2025-03-02T00:00:00Z');
    expect(first.overall.runs).toEqual({ activated: 1, failed: 0, cancelled: 0, in_progress: 0 });
    // Cut in the middle of the second provisioning: it is still under way as of until.
    const cut = report(events, '2025-03-01T00:00:00Z', '2025-03-02T10:05:00Z');
    expect(cut.overall.runs).toEqual({ activated: 1, failed: 0, cancelled: 0, in_progress: 1 });
    expect(cut.states.find((s) => s.state === 'provisioning')?.tenants).toBe(2);
    expect(cut.period).toEqual({ since: '2025-03-01T00:00:00.000Z', until: '2025-03-02T10:05:00.000Z' });
  });

  it('restricts every figure to the tier asked for', () => {
    const events = recorded(
      activeTenant('prem-aaaaaa', 'premium', 20_000),
      failedTenant('std-bbbbbb', 'standard', 20_000),
    );
    const result = report(events, ...WIDE, 'standard');
    expect(result.tier).toBe('standard');
    expect(result.by_tier.map((t) => t.tier)).toEqual(['standard']);
    expect(result.overall.runs).toEqual({ activated: 0, failed: 1, cancelled: 0, in_progress: 0 });
    expect(result.overall.success_ratio).toBe(0);
    expect(result.states.map((s) => s.state).sort()).toEqual([
      'failed',
      'provisioning',
      'requested',
      'rolling_back',
    ]);
  });

  it('measures the time spent suspended, clipped to the period', () => {
    const builder = activeTenant('susp-aaaaaa', 'premium', 60_000); // active at 10:25
    builder
      .lifecycle('SuspensionRequested', { reason: 'unpaid', requestedBy: 'billing' }) // 10:26 suspending
      .started('workloads-1:suspend', 'SuspendWorkloads') // 10:27
      .succeeded('workloads-1:suspend') // 10:28 suspended
      .lifecycle('ResumptionRequested', { requestedBy: 'billing' }) // 10:29 resuming
      .started('workloads-2:resume', 'ResumeWorkloads') // 10:30
      .succeeded('workloads-2:resume'); // 10:31 active
    const events = recorded(builder);
    const whole = report(events, ...WIDE);
    const state = (r: SloReport, name: string) => r.states.find((s) => s.state === name);
    expect(state(whole, 'suspended')).toEqual({
      state: 'suspended',
      total_ms: 60_000,
      tenants: 1,
      completed: { count: 1, p50_ms: 60_000, p95_ms: 60_000, p99_ms: 60_000, max_ms: 60_000 },
    });
    expect(state(whole, 'suspending')?.total_ms).toBe(120_000);
    expect(state(whole, 'resuming')?.total_ms).toBe(120_000);
    // Active 10:25-10:26, then 10:31 to the end of the period.
    expect(state(whole, 'active')?.total_ms).toBe(60_000 + (ms(WIDE[1]) - ms('2025-03-01T10:31:00Z')));
    // From 10:28:30: half a minute suspended, and the stay still counts whole as completed in the period.
    const clipped = report(events, '2025-03-01T10:28:30Z', '2025-03-01T10:40:00Z');
    expect(state(clipped, 'suspended')?.total_ms).toBe(30_000);
    expect(state(clipped, 'suspended')?.completed.count).toBe(1);
    expect(state(clipped, 'requested')).toBeUndefined();
    // Until 10:28:30: the stay is still open, so none is completed.
    const open = report(events, '2025-03-01T10:00:00Z', '2025-03-01T10:28:30Z');
    expect(state(open, 'suspended')).toMatchObject({ total_ms: 30_000, completed: { count: 0 } });
  });

  it('replays to the same report and counts only the events it folded', () => {
    const events = recorded(activeTenant('same-aaaaaa', 'premium', 20_000));
    expect(report(events, ...WIDE)).toEqual(report(events, ...WIDE));
    expect(report(events, ...WIDE).events_read).toBe(26);
    expect(report(events, '2025-03-01T00:00:00Z', '2025-03-01T10:01:00Z').events_read).toBe(3);
  });
});

describe('SLO period', () => {
  const now = new Date('2025-03-10T12:00:00Z');
  it('defaults to the 30 days before now, and reads durations back from now', () => {
    expect(parseSloQuery({}, now)).toEqual({
      since: ms('2025-02-08T12:00:00Z'),
      until: now.getTime(),
      tier: null,
    });
    expect(parseSloQuery({ since: '7d', until: '90m', tier: 'business' }, now)).toEqual({
      since: ms('2025-03-03T12:00:00Z'),
      until: ms('2025-03-10T10:30:00Z'),
      tier: 'business',
    });
    expect(parseSloQuery({ since: '2025-03-01', until: '2025-03-02T00:00:00+02:00' }, now)).toEqual({
      since: ms('2025-03-01T00:00:00Z'),
      until: ms('2025-03-01T22:00:00Z'),
      tier: null,
    });
  });

  it('names every bad parameter', () => {
    const refusal = (query: Record<string, unknown>) => {
      try {
        parseSloQuery(query, now);
      } catch (error) {
        return error as { code: string; violations: { field: string }[] };
      }
      throw new Error('accepted');
    };
    const bad = refusal({ since: '2025-03-01T10:00', until: ['x'], tier: 'gold' });
    expect(bad.code).toBe('VALIDATION_FAILED');
    expect(bad.violations.map((v) => v.field)).toEqual(['until', 'since', 'tier']);
    expect(refusal({ since: '1d', until: '2d' }).violations).toEqual([
      { field: 'since', rules: ['isBefore'], messages: ['since must be before until'] },
    ]);
  });
});
