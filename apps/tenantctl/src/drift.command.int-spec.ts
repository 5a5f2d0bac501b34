import { randomBytes } from 'node:crypto';
import { tenantStream, type FailureReason } from '@app/contracts';
import { TenantStreamBuilder } from '@app/tenancy';
import { EXIT } from './tenantctl';
import { startTenantctlTestStore, type TenantctlTestStore } from './tenantctl.test-helpers';

const GRANT_REVOKED: FailureReason = {
  code: 'DATABASE.VERIFICATION_FAILED',
  message: 'failed checks: t_orders_u:grants',
  retryable: false,
};
const hex = () => randomBytes(3).toString('hex');

let cli: TenantctlTestStore;
const tenantctl = (argv: string[]) => cli.tenantctl(argv);

const quiet = new TenantStreamBuilder(`quiet-${hex()}`, '2025-01-16T10:00:00Z').activeTenant();
/** Check 1 found the revoked grant (needs approval); its check completed. */
const drifted = new TenantStreamBuilder(`drifted-${hex()}`, '2025-01-16T10:00:00Z')
  .activeTenant()
  .lifecycle('DriftCheckRequested', {
    check: 1,
    requestedBy: 'schedule',
    requestedAt: '2025-02-01T00:00:00Z',
  })
  .started('drift-1:verify-databases', 'VerifyDatabases')
  .failed('drift-1:verify-databases', GRANT_REVOKED)
  .lifecycle('DriftDetected', {
    driftId: '1-databases',
    check: 1,
    resource: 'databases',
    step: 'drift-1:verify-databases',
    code: GRANT_REVOKED.code,
    message: GRANT_REVOKED.message,
    checks: ['t_orders_u:grants'],
    kind: 'database-grants',
    kinds: ['database-grants'],
    automatic: false,
    detectedAt: '2025-02-01T00:00:05Z',
  })
  .lifecycle('DriftCheckCompleted', {
    check: 1,
    drifts: ['1-databases'],
    inconclusive: [],
    completedAt: '2025-02-01T00:00:06Z',
  });

beforeAll(async () => {
  cli = await startTenantctlTestStore({ schemaPrefix: 'tcd', readModel: true, env: { USER: 'carol' } });
  await quiet.appendTo(cli.store);
  await drifted.appendTo(cli.store);
});

afterAll(async () => {
  await cli?.close();
});

describe('tenantctl drift', () => {
  it('lists the open drift, needing approval, with its code and message', async () => {
    const listed = await tenantctl(['drift', 'list', drifted.tenantId]);
    expect(listed).toMatchObject({ code: EXIT.OK, stderr: '' });
    expect(listed.stdout).toContain('last check: 1 completed');
    expect(listed.stdout).toContain(
      '1-databases  awaiting_approval  database-grants (needs approval)  DATABASE.VERIFICATION_FAILED',
    );
    const none = await tenantctl(['drift', 'list', quiet.tenantId, '--json']);
    expect(JSON.parse(none.stdout)).toMatchObject({ last_check: null, open: [], detected: 0 });
  });

  it('approves a repair as the operator, then refuses a second approval while it may run', async () => {
    const approved = await tenantctl([
      'drift',
      'repair',
      drifted.tenantId,
      '1-databases',
      '--reason',
      'ticket 9',
    ]);
    expect(approved).toMatchObject({ code: EXIT.OK, stderr: '' });
    expect(approved.stdout).toContain('repair approved: drift 1-databases');
    const events = await cli.store.readStream(tenantStream(drifted.tenantId));
    expect(events.at(-1)).toMatchObject({
      type: 'DriftRepairApproved',
      data: { driftId: '1-databases', reason: 'ticket 9', approvedBy: 'operator:carol' },
    });
    const again = await tenantctl(['drift', 'repair', drifted.tenantId, '1-databases', '--reason', 'again']);
    expect(again.code).toBe(EXIT.ERROR);
    expect(again.stderr).toContain('DRIFT.REPAIR_IN_PROGRESS');
    const unknown = await tenantctl(['drift', 'repair', drifted.tenantId, '7-broker', '--reason', 'r']);
    expect(unknown.stderr).toContain('DRIFT.NOT_FOUND');
    const bad = await tenantctl(['drift', 'repair', drifted.tenantId, '../x', '--reason', 'r']);
    expect(bad.code).toBe(EXIT.USAGE);
    expect(bad.stderr).toContain('drift id must look like 3-broker');
  });

  it('requests an immediate check numbered after the last, once; a repeated key appends nothing', async () => {
    const key = `key-${hex()}`;
    const args = ['drift', 'check', quiet.tenantId, '--reason', 'audit', '--idempotency-key', key, '--json'];
    const first = await tenantctl(args);
    expect(first).toMatchObject({ code: EXIT.OK, stderr: '' });
    expect(JSON.parse(first.stdout)).toMatchObject({ tenantId: quiet.tenantId, check: 1, duplicate: false });
    const repeat = await tenantctl(args);
    expect(JSON.parse(repeat.stdout)).toMatchObject({ check: 1, duplicate: true });
    const busy = await tenantctl(['drift', 'check', quiet.tenantId, '--reason', 'again']);
    expect(busy.stderr).toContain('DRIFT.CHECK_IN_PROGRESS');
    const checks = (await cli.store.readStream(tenantStream(quiet.tenantId))).filter(
      (event) => event.type === 'DriftCheckRequested',
    );
    expect(checks.map((event) => event.data)).toEqual([
      expect.objectContaining({ check: 1, requestedBy: 'operator:carol' }),
    ]);
  });
});
