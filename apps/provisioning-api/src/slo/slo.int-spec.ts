import { randomBytes } from 'node:crypto';
import type { Tier } from '@app/contracts';
import { provisionedTenant, TenantStreamBuilder, type SloReport } from '@app/tenancy';
import { startTestApi, type TestApi } from '../testing/test-api.test-helpers';

const NOW = new Date('2025-03-10T12:00:00.000Z');
const hex = () => randomBytes(3).toString('hex');
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

const QUOTA = { code: 'K8S.QUOTA_REFUSED', message: 'quota refused', retryable: false };

let api: TestApi;

const activeTenant = (name: string, tier: Tier, start: string, stepMs: number) =>
  provisionedTenant(`${name}-${hex()}`, tier, start, stepMs);

const premiumFast = activeTenant('prem-fast', 'premium', '2025-03-01T10:00:00Z', 20_000);
const premiumSlow = activeTenant('prem-slow', 'premium', '2025-03-01T11:00:00Z', 30_000);
const standard = activeTenant('std', 'standard', '2025-03-02T10:00:00Z', 24_000);
const failed = new TenantStreamBuilder(`broken-${hex()}`, '2025-03-03T10:00:00Z', 20_000)
  .requested({ tier: 'business' })
  .started('namespace', 'ProvisionNamespace')
  .failed('namespace', QUOTA)
  .lifecycle('RollbackStarted', { failedStep: 'namespace', reason: QUOTA })
  .lifecycle('TenantProvisioningFailed', { failedStep: 'namespace', reason: QUOTA, compensatedSteps: [] });
/** Activated in February: outside the period of the queries below. */
const older = activeTenant('older', 'standard', '2025-02-01T10:00:00Z', 20_000);

beforeAll(async () => {
  api = await startTestApi({ schemaPrefix: 'slo', overrides: { clock: () => NOW } });
  for (const builder of [older, premiumFast, premiumSlow, standard, failed])
    await builder.appendTo(api.store);
});

afterAll(async () => {
  await api?.close();
});

describe('GET /api/v1/slo on PostgreSQL', () => {
  it('answers 401 without a known token', async () => {
    await api.http.get('/api/v1/slo').expect(401);
    await api.http.get('/api/v1/slo').set(bearer('nope')).expect(401);
  });

  it('reports the period from the tenant streams, for an auditor as for an operator', async () => {
    const response = await api.http
      .get('/api/v1/slo?since=2025-03-01&until=2025-03-08')
      .set(bearer(api.secrets.auditor))
      .expect(200);
    const report = response.body as SloReport;
    expect(report.period).toEqual({ since: '2025-03-01T00:00:00.000Z', until: '2025-03-08T00:00:00.000Z' });
    expect(report.overall.runs).toEqual({ activated: 3, failed: 1, cancelled: 0, in_progress: 0 });
    expect(report.overall.success_ratio).toBe(0.75);
    expect(report.overall.success_target_met).toBe(false);
    expect(report.overall.time_to_active).toMatchObject({
      count: 3,
      p50_ms: 600_000,
      p95_ms: 750_000,
      within_target: 2,
      target_met: false,
    });
    const tier = (name: string) => report.by_tier.find((t) => t.tier === name);
    expect(tier('premium')?.time_to_active).toMatchObject({ count: 2, p50_ms: 500_000, p99_ms: 750_000 });
    expect(tier('standard')?.time_to_active).toMatchObject({ count: 1, p50_ms: 600_000, target_met: true });
    expect(tier('business')).toMatchObject({ success_ratio: 0, runs: { failed: 1 } });
    expect(report.failed_runs).toEqual([
      expect.objectContaining({ tenant_id: failed.tenantId, failed_step: 'namespace', code: QUOTA.code }),
    ]);
    expect(report.steps.find((s) => s.step === 'namespace')).toMatchObject({ count: 3, failures: 1 });
    // The February tenant's events were read, but its run ended before the period.
    expect(report.events_read).toBe(26 * 4 + 5);
    const again = await api.http
      .get('/api/v1/slo?since=2025-03-01&until=2025-03-08')
      .set(bearer(api.secrets.operator))
      .expect(200);
    expect(again.body).toEqual(report);
  });

  it('restricts the report to one tier and defaults to the 30 days before now', async () => {
    const response = await api.http
      .get('/api/v1/slo?tier=premium')
      .set(bearer(api.secrets.operator))
      .expect(200);
    const report = response.body as SloReport;
    expect(report.period).toEqual({ since: '2025-02-08T12:00:00.000Z', until: NOW.toISOString() });
    expect(report.tier).toBe('premium');
    expect(report.by_tier.map((t) => t.tier)).toEqual(['premium']);
    expect(report.overall.runs).toEqual({ activated: 2, failed: 0, cancelled: 0, in_progress: 0 });
    const since7d = await api.http.get('/api/v1/slo?since=7d').set(bearer(api.secrets.operator)).expect(200);
    expect((since7d.body as SloReport).overall.runs.activated).toBe(0);
    expect((since7d.body as SloReport).period.since).toBe('2025-03-03T12:00:00.000Z');
  });

  it('serves the console the same report with its charts laid out', async () => {
    const query = 'since=2025-03-01&until=2025-03-08';
    const plain = await api.http.get(`/api/v1/slo?${query}`).set(bearer(api.secrets.auditor)).expect(200);
    const response = await api.http
      .get(`/api/v1/console/slo?${query}`)
      .set(bearer(api.secrets.auditor))
      .expect(200);
    const body = response.body as { report: SloReport; charts: { id: string; summary: string }[] };
    expect(body.report).toEqual(plain.body);
    expect(body.charts.map((chart) => [chart.id, chart.summary])).toEqual([
      ['slo-chart-tta', 'p95 12.5 min against 11 min: missed.'],
      ['slo-chart-success', '75 % against 99.5 %: missed.'],
      ['slo-chart-steps', 'Every step within its budget.'],
      ['slo-chart-states', expect.stringMatching(/^\d+ states over /)],
    ]);
    await api.http.get('/api/v1/console/slo').expect(401);
  });

  it('names every malformed parameter with a 400', async () => {
    const response = await api.http
      .get('/api/v1/slo?since=yesterday&tier=gold')
      .set(bearer(api.secrets.operator))
      .expect(400);
    expect(response.body).toMatchObject({ error: 'VALIDATION_FAILED' });
    expect((response.body as { violations: { field: string }[] }).violations.map((v) => v.field)).toEqual([
      'since',
      'tier',
    ]);
    const reversed = await api.http
      .get('/api/v1/slo?since=2025-03-02&until=2025-03-01')
      .set(bearer(api.secrets.operator))
      .expect(400);
    expect(JSON.stringify(reversed.body)).toContain('since must be before until');
  });
});
