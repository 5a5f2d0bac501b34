import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RECONCILIATION_STREAM_CATEGORY } from '@app/contracts';
import { TenantStreamBuilder } from '@app/tenancy';
import { readAllWhenVisible } from '@app/testing';
import { EXIT } from './tenantctl';
import { startTenantctlTestStore, type TenantctlTestStore } from './tenantctl.test-helpers';

const hex = () => randomBytes(3).toString('hex');

let cli: TenantctlTestStore;
const tenantctl = (argv: string[]) => cli.tenantctl(argv);

const sub = (tenantId: string) => `sub_${tenantId.replace(/-/g, '_')}`;
const kept = new TenantStreamBuilder(`kept-${hex()}`, '2025-01-15T10:00:00Z').activeTenant();
const orphan = new TenantStreamBuilder(`orphan-${hex()}`, '2025-01-16T10:00:00Z').activeTenant();

let tmp: string;

beforeAll(async () => {
  cli = await startTenantctlTestStore({
    schemaPrefix: 'trc',
    readModel: true,
    env: { USER: 'carol' },
    now: () => new Date('2025-02-01T09:00:00.000Z'),
  });
  await kept.appendTo(cli.store);
  await orphan.appendTo(cli.store);
  await readAllWhenVisible(cli.store, { category: 'tenant' }, kept.events.length + orphan.events.length);
  expect((await tenantctl(['replay'])).code).toBe(EXIT.OK);
  tmp = await mkdtemp(join(tmpdir(), 'tenantctl-reconcile-'));
});

afterAll(async () => {
  await cli?.close();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe('tenantctl reconcile against PostgreSQL', () => {
  it('reads a CSV file and prints the findings as a table', async () => {
    const file = join(tmp, 'active.csv');
    await writeFile(file, `subscription_id,tier\n${sub(kept.tenantId)},business\nsub_gone,standard\n`);
    const outcome = await tenantctl(['reconcile', '--file', file]);
    expect(outcome).toMatchObject({ code: EXIT.OK, stderr: '' });
    const [summary, header, ...rows] = outcome.stdout.trimEnd().split('\n');
    expect(summary).toBe(
      '2 subscriptions from inline against 2 tenants: 1 orphan, 1 missing, 1 tier mismatch, 0 tenant mismatch',
    );
    expect(header).toMatch(/^KIND +SUBSCRIPTION +TENANT +STATUS +TIER +BILLING +ACTION +ACTION-ID +DETAIL$/);
    expect(rows.map((row) => row.split(/ +/).slice(0, 7))).toEqual([
      ['orphan', sub(orphan.tenantId), orphan.tenantId, 'active', 'premium', '-', 'cancel-tenant'],
      ['missing', 'sub_gone', '-', '-', '-', 'standard', 'follow-up'],
      ['tier_mismatch', sub(kept.tenantId), kept.tenantId, 'active', 'premium', 'business', 'change-tier'],
    ]);
  });

  it('records proposals with --propose and prints JSON with --json', async () => {
    const file = join(tmp, 'active.json');
    await writeFile(file, JSON.stringify([{ subscription_id: sub(kept.tenantId), tier: 'premium' }]));
    const outcome = await tenantctl(['reconcile', '--file', file, '--propose', '--json', '--as', 'dave']);
    expect(outcome.code).toBe(EXIT.OK);
    const report = JSON.parse(outcome.stdout);
    expect(report).toMatchObject({
      reconciliationId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      counts: { orphan: 1, missing: 0, tier_mismatch: 0, tenant_mismatch: 0 },
      findings: [{ kind: 'orphan', tenantId: orphan.tenantId, actionId: expect.any(String) }],
    });
    const recorded = await readAllWhenVisible(cli.store, { category: RECONCILIATION_STREAM_CATEGORY }, 2);
    expect(recorded.map((e) => [e.type, e.metadata['actor']])).toEqual([
      ['ReconciliationRecorded', 'operator:dave'],
      ['ReconciliationActionProposed', 'operator:dave'],
    ]);
  });

  it('answers a repeated --idempotency-key with the recorded reconciliation, and refuses another list', async () => {
    const file = join(tmp, 'keyed.json');
    await writeFile(file, JSON.stringify([{ subscription_id: sub(kept.tenantId), tier: 'premium' }]));
    const key = `nightly-${hex()}`;
    const args = ['reconcile', '--file', file, '--propose', '--idempotency-key', key, '--as', 'erin'];
    const first = await tenantctl([...args, '--json']);
    expect(first.code).toBe(EXIT.OK);
    const report = JSON.parse(first.stdout);
    const before = await readAllWhenVisible(cli.store, { category: RECONCILIATION_STREAM_CATEGORY }, 1);
    const again = await tenantctl(args);
    expect(again).toMatchObject({ code: EXIT.OK, stderr: '' });
    expect(again.stdout.split('\n')[0]).toContain(
      `already proposed as reconciliation ${report.reconciliationId}`,
    );
    expect(await cli.store.readAll({ filter: { category: RECONCILIATION_STREAM_CATEGORY } })).toHaveLength(
      before.length,
    );
    const other = join(tmp, 'other.json');
    await writeFile(other, JSON.stringify([{ subscription_id: 'sub_other', tier: 'premium' }]));
    const reused = await tenantctl([
      'reconcile',
      '--file',
      other,
      '--propose',
      '--idempotency-key',
      key,
      '--as',
      'erin',
    ]);
    expect(reused.code).toBe(EXIT.ERROR);
    expect(reused.stderr).toContain('OPERATION.IDEMPOTENCY_KEY_REUSED');
    const notAKey = await tenantctl([...args, '--idempotency-key', 'not a key']);
    expect(notAKey.code).toBe(EXIT.USAGE);
    expect(notAKey.stderr).toContain('Idempotency-Key must be');
  });

  it('names the bad record and exits 2; needs exactly one source', async () => {
    const file = join(tmp, 'bad.csv');
    await writeFile(file, 'subscription_id,tier\nsub_1,premium\nsub 2,premium\n');
    const bad = await tenantctl(['reconcile', '--file', file]);
    expect(bad.code).toBe(EXIT.USAGE);
    expect(bad.stderr).toBe(
      'tenantctl: VALIDATION_FAILED: invalid subscription list: line 3: subscription_id must be 1-64 of letters, digits, _ and - (got "sub 2")\n',
    );
    const none = await tenantctl(['reconcile']);
    expect(none).toMatchObject({
      code: EXIT.USAGE,
      stderr: 'tenantctl: give exactly one of --file <path> or --url <url>\n',
    });
    const badUrl = await tenantctl(['reconcile', '--url', 'ftp://billing/export']);
    expect(badUrl.code).toBe(EXIT.USAGE);
    expect(badUrl.stderr).toContain('source must be an http or https URL');
  });
});
