import { randomBytes } from 'node:crypto';
import { tenantStream, type FailureReason } from '@app/contracts';
import { createEventStore, type EventStore } from '@app/event-store';
import { TenantStreamBuilder } from '@app/tenancy';
import { Client } from 'pg';
import pino from 'pino';
import { EXIT, run } from './tenantctl';

const DATABASE_URL =
  process.env['PROVISIONING_TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/provisioning_test';
if (!/_test$/.test(new URL(DATABASE_URL).pathname)) {
  throw new Error(`refusing to run against ${new URL(DATABASE_URL).pathname}: not a test database`);
}

const suffix = randomBytes(4).toString('hex');
const EVENT_SCHEMA = `tcd_es_${suffix}`;
const ENV: NodeJS.ProcessEnv = {
  EVENTSTORE_URL: DATABASE_URL,
  EVENTSTORE_SCHEMA: EVENT_SCHEMA,
  READ_MODEL_URL: DATABASE_URL,
  READ_MODEL_SCHEMA: `tcd_rm_${suffix}`,
  LOG_LEVEL: 'silent',
  USER: 'carol',
};
const GRANT_REVOKED: FailureReason = {
  code: 'DATABASE.VERIFICATION_FAILED',
  message: 'failed checks: t_orders_u:grants',
  retryable: false,
};
const hex = () => randomBytes(3).toString('hex');

async function tenantctl(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const outcome = { code: -1, stdout: '', stderr: '' };
  outcome.code = await run(argv, {
    stdout: { write: (text: string) => (outcome.stdout += text) },
    stderr: { write: (text: string) => (outcome.stderr += text) },
    env: ENV,
  });
  return outcome;
}

let store: EventStore;
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
  store = await createEventStore(DATABASE_URL, { schema: EVENT_SCHEMA, logger: pino({ level: 'silent' }) });
  await quiet.appendTo(store);
  await drifted.appendTo(store);
});

afterAll(async () => {
  await store?.close();
  const client = new Client({ connectionString: DATABASE_URL });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS "${EVENT_SCHEMA}" CASCADE`);
  await client.end();
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
    const events = await store.readStream(tenantStream(drifted.tenantId));
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
    const checks = (await store.readStream(tenantStream(quiet.tenantId))).filter(
      (event) => event.type === 'DriftCheckRequested',
    );
    expect(checks.map((event) => event.data)).toEqual([
      expect.objectContaining({ check: 1, requestedBy: 'operator:carol' }),
    ]);
  });
});
