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
const EVENT_SCHEMA = `tcr_es_${suffix}`;
const ENV: NodeJS.ProcessEnv = {
  EVENTSTORE_URL: DATABASE_URL,
  EVENTSTORE_SCHEMA: EVENT_SCHEMA,
  READ_MODEL_URL: DATABASE_URL,
  READ_MODEL_SCHEMA: `tcr_rm_${suffix}`,
  LOG_LEVEL: 'silent',
  USER: 'carol',
};
const QUOTA: FailureReason = { code: 'K8S.QUOTA_REFUSED', message: 'quota refused', retryable: false };
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
/** Namespace failed for good and was rolled back: the run failed, nothing left to undo. */
const failed = new TenantStreamBuilder(`gamma-${hex()}`, '2025-01-16T10:00:00Z')
  .requested()
  .started('namespace', 'ProvisionNamespace')
  .failed('namespace', QUOTA)
  .lifecycle('RollbackStarted', { failedStep: 'namespace', reason: QUOTA })
  .ran('compensate:namespace', 'RemoveNamespace')
  .lifecycle('TenantProvisioningFailed', {
    failedStep: 'namespace',
    reason: QUOTA,
    compensatedSteps: ['namespace'],
  });
const active = new TenantStreamBuilder(`delta-${hex()}`, '2025-01-16T10:00:00Z').activeTenant();

beforeAll(async () => {
  store = await createEventStore(DATABASE_URL, { schema: EVENT_SCHEMA, logger: pino({ level: 'silent' }) });
  await failed.appendTo(store);
  await active.appendTo(store);
});

afterAll(async () => {
  await store?.close();
  const client = new Client({ connectionString: DATABASE_URL });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS "${EVENT_SCHEMA}" CASCADE`);
  await client.end();
});

describe('tenantctl reprovision', () => {
  it('starts run 2 of a failed tenant as the operator, then refuses while that run is under way', async () => {
    const started = await tenantctl(['reprovision', failed.tenantId, '--reason', 'quota raised', '--json']);
    expect(started).toMatchObject({ code: EXIT.OK, stderr: '' });
    const result = JSON.parse(started.stdout) as { run: number; eventId: string; duplicate: boolean };
    expect(result).toMatchObject({ tenantId: failed.tenantId, run: 2, duplicate: false });
    const events = await store.readStream(tenantStream(failed.tenantId));
    expect(events[events.length - 1]).toMatchObject({
      id: result.eventId,
      type: 'ReprovisioningRequested',
      data: { run: 2, reason: 'quota raised', requestedBy: 'operator:carol' },
    });

    const again = await tenantctl(['reprovision', failed.tenantId, '--reason', 'again']);
    expect(again.code).toBe(EXIT.ERROR);
    expect(again.stderr).toContain('OPERATION.PROVISIONING_IN_PROGRESS');
    expect(await store.readStream(tenantStream(failed.tenantId))).toHaveLength(events.length);
  });

  it('refuses an active tenant, an unknown one and a request without a reason', async () => {
    const up = await tenantctl(['reprovision', active.tenantId, '--reason', 'r']);
    expect(up.code).toBe(EXIT.ERROR);
    expect(up.stderr).toContain('OPERATION.TENANT_ACTIVE: tenant');
    const unknown = await tenantctl(['reprovision', `nobody-${hex()}`, '--reason', 'r']);
    expect(unknown.code).toBe(EXIT.UNKNOWN_TENANT);
    const noReason = await tenantctl(['reprovision', active.tenantId]);
    expect(noReason.code).toBe(EXIT.USAGE);
    expect(noReason.stderr).toContain("required option '--reason <text>'");
  });
});
