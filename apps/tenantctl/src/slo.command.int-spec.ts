import { randomBytes } from 'node:crypto';
import { provisionedTenant, TenantStreamBuilder, type SloReport } from '@app/tenancy';
import { EXIT } from './tenantctl';
import { startTenantctlTestStore, type TenantctlTestStore } from './tenantctl.test-helpers';

const hex = () => randomBytes(3).toString('hex');

const NOW = new Date('2025-03-10T12:00:00.000Z');
const QUOTA = { code: 'K8S.QUOTA_REFUSED', message: 'quota refused', retryable: false };

let cli: TenantctlTestStore;
const tenantctl = (argv: string[]) => cli.tenantctl(argv);

const fast = provisionedTenant(`fast-${hex()}`, 'premium', '2025-03-05T10:00:00Z', 20_000);
const slow = provisionedTenant(`slow-${hex()}`, 'standard', '2025-03-06T10:00:00Z', 30_000);
const broken = new TenantStreamBuilder(`broken-${hex()}`, '2025-03-07T10:00:00Z', 20_000)
  .requested({ tier: 'standard' })
  .started('namespace', 'ProvisionNamespace')
  .failed('namespace', QUOTA)
  .lifecycle('RollbackStarted', { failedStep: 'namespace', reason: QUOTA })
  .lifecycle('TenantProvisioningFailed', { failedStep: 'namespace', reason: QUOTA, compensatedSteps: [] });

beforeAll(async () => {
  // No read model: the report reads the event store alone.
  cli = await startTenantctlTestStore({ schemaPrefix: 'tcslo', readModel: false, now: () => NOW });
  for (const builder of [fast, slow, broken]) await builder.appendTo(cli.store);
});

afterAll(async () => {
  await cli?.close();
});

describe('tenantctl slo', () => {
  it('prints the report as tables, durations against the targets', async () => {
    const out = await tenantctl(['slo', '--since', '7d']);
    expect(out).toMatchObject({ code: EXIT.OK, stderr: '' });
    const lines = out.stdout.split('\n');
    expect(lines[0]).toBe(
      'SLO report 2025-03-03T12:00:00.000Z .. 2025-03-10T12:00:00.000Z (all tiers), 57 events read',
    );
    expect(lines[1]).toBe(
      'Targets: active within 8m00s-11m00s (p95 at most 11m00s), success ratio at least 99.50 %',
    );
    const row = (first: string) => lines.find((line) => line.startsWith(`${first} `))?.split(/\s{2,}/) ?? [];
    // tier, activated, failed, cancelled, running, success, verdict, p50, p95, p99, verdict
    expect(row('all')).toEqual([
      'all',
      '2',
      '1',
      '0',
      '0',
      '66.67 %',
      'MISSED',
      '8m20s',
      '12m30s',
      '12m30s',
      'MISSED',
    ]);
    expect(row('premium')).toEqual([
      'premium',
      '1',
      '0',
      '0',
      '0',
      '100.00 %',
      'met',
      '8m20s',
      '8m20s',
      '8m20s',
      'met',
    ]);
    expect(row('business')).toEqual(['business', '0', '0', '0', '0', '-', '-', '-', '-', '-', '-']);
    expect(row('namespace')).toEqual(['namespace', '2', '1', '20.0s', '30.0s', '30.0s', '30.0s', 'met']);
    expect(row('broker')).toEqual(['broker', '2', '0', '20.0s', '30.0s', '30.0s', '30.0s', 'met']);
    expect(row('suspended')).toEqual([]);
    expect(out.stdout).toMatch(
      new RegExp(
        `^${broken.tenantId}\\s+standard\\s+2025-03-07T10:01:20.000Z\\s+namespace\\s+K8S.QUOTA_REFUSED$`,
        'm',
      ),
    );
  });

  it('prints the API shape with --json, restricted by --tier and --until', async () => {
    const out = await tenantctl([
      'slo',
      '--since',
      '2025-03-01',
      '--until',
      '2025-03-07',
      '--tier',
      'standard',
      '--json',
    ]);
    expect(out.code).toBe(EXIT.OK);
    const report = JSON.parse(out.stdout) as SloReport;
    expect(report.period).toEqual({ since: '2025-03-01T00:00:00.000Z', until: '2025-03-07T00:00:00.000Z' });
    expect(report.tier).toBe('standard');
    expect(report.overall.runs).toEqual({ activated: 1, failed: 0, cancelled: 0, in_progress: 0 });
    expect(report.overall.time_to_active.p50_ms).toBe(750_000);
  });

  it('refuses a malformed period or tier as a usage error, naming what is wrong', async () => {
    const bad = await tenantctl(['slo', '--since', 'last week']);
    expect(bad.code).toBe(EXIT.USAGE);
    expect(bad.stderr).toContain('VALIDATION_FAILED: invalid SLO period: since must be a date (2025-01-15)');
    const reversed = await tenantctl(['slo', '--since', '1d', '--until', '2d']);
    expect(reversed).toMatchObject({
      code: EXIT.USAGE,
      stderr: expect.stringContaining('since must be before until'),
    });
    expect((await tenantctl(['slo', '--since', '1d', '--tier', 'gold'])).code).toBe(EXIT.USAGE);
    const missing = await tenantctl(['slo']);
    expect(missing.code).toBe(EXIT.USAGE);
    expect(missing.stderr).toContain("required option '--since <when>' not specified");
  });
});
