import { randomBytes } from 'node:crypto';
import { createEventStore, type EventStore } from '@app/event-store';
import { provisionedTenant, TenantStreamBuilder, type SloReport } from '@app/tenancy';
import { Client } from 'pg';
import pino from 'pino';
import { EXIT, run } from './tenantctl';

const DATABASE_URL =
  process.env['PROVISIONING_TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/provisioning_test';
if (!/_test$/.test(new URL(DATABASE_URL).pathname)) {
  throw new Error(`refusing to run against ${new URL(DATABASE_URL).pathname}: not a test database`);
}

const EVENT_SCHEMA = `tc_slo_${randomBytes(4).toString('hex')}`;
const hex = () => randomBytes(3).toString('hex');
const NOW = new Date('2025-03-10T12:00:00.000Z');
const QUOTA = { code: 'K8S.QUOTA_REFUSED', message: 'quota refused', retryable: false };
const ENV: NodeJS.ProcessEnv = {
  EVENTSTORE_URL: DATABASE_URL,
  EVENTSTORE_SCHEMA: EVENT_SCHEMA,
  // Never opened by `slo`: the report reads the event store alone.
  READ_MODEL_URL: 'postgres://nobody@127.0.0.1:1/absent_test',
  LOG_LEVEL: 'silent',
};

async function tenantctl(argv: string[]) {
  const outcome = { code: -1, stdout: '', stderr: '' };
  outcome.code = await run(argv, {
    stdout: { write: (text: string) => (outcome.stdout += text) },
    stderr: { write: (text: string) => (outcome.stderr += text) },
    env: ENV,
    now: () => NOW,
  });
  return outcome;
}

let store: EventStore;
const fast = provisionedTenant(`fast-${hex()}`, 'premium', '2025-03-05T10:00:00Z', 20_000);
const slow = provisionedTenant(`slow-${hex()}`, 'standard', '2025-03-06T10:00:00Z', 30_000);
const broken = new TenantStreamBuilder(`broken-${hex()}`, '2025-03-07T10:00:00Z', 20_000)
  .requested({ tier: 'standard' })
  .started('namespace', 'ProvisionNamespace')
  .failed('namespace', QUOTA)
  .lifecycle('RollbackStarted', { failedStep: 'namespace', reason: QUOTA })
  .lifecycle('TenantProvisioningFailed', { failedStep: 'namespace', reason: QUOTA, compensatedSteps: [] });

beforeAll(async () => {
  store = await createEventStore(DATABASE_URL, { schema: EVENT_SCHEMA, logger: pino({ level: 'silent' }) });
  for (const builder of [fast, slow, broken]) await builder.appendTo(store);
});

afterAll(async () => {
  await store?.close();
  const client = new Client({ connectionString: DATABASE_URL });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS "${EVENT_SCHEMA}" CASCADE`);
  await client.end();
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
