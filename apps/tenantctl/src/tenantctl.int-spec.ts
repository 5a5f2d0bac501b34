import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditChainProjector, verifyTenant } from '@app/audit';
import { tenantStream } from '@app/contracts';
import { readAllWhenVisible } from '@app/testing';
import { createEventStore, type EventStore, type RecordedEvent } from '@app/event-store';
import { Client } from 'pg';
import pino from 'pino';
import { TenantStreamBuilder } from '@app/tenancy';
import { EXIT, run } from './tenantctl';

const DATABASE_URL =
  process.env['PROVISIONING_TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/provisioning_test';
// The suite rewrites stored events by hand: never against a database not named as a test database.
if (!/_test$/.test(new URL(DATABASE_URL).pathname)) {
  throw new Error(`refusing to run against ${new URL(DATABASE_URL).pathname}: not a test database`);
}

const suffix = randomBytes(4).toString('hex');
const EVENT_SCHEMA = `tc_es_${suffix}`;
const READ_SCHEMA = `tc_rm_${suffix}`;
const silent = pino({ level: 'silent' });
const hex = () => randomBytes(3).toString('hex');

const ENV: NodeJS.ProcessEnv = {
  EVENTSTORE_URL: DATABASE_URL,
  EVENTSTORE_SCHEMA: EVENT_SCHEMA,
  READ_MODEL_URL: DATABASE_URL,
  READ_MODEL_SCHEMA: READ_SCHEMA,
  LOG_LEVEL: 'silent',
  USER: 'carol',
};

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

async function tenantctl(
  argv: string[],
  options: { signal?: AbortSignal; now?: () => Date } = {},
): Promise<Outcome> {
  const outcome = { code: -1, stdout: '', stderr: '' };
  outcome.code = await run(argv, {
    stdout: { write: (text: string) => (outcome.stdout += text) },
    stderr: { write: (text: string) => (outcome.stderr += text) },
    env: ENV,
    ...options,
  });
  return outcome;
}

async function sql(text: string, values: unknown[] = []): Promise<number> {
  const client = new Client({ connectionString: DATABASE_URL });
  await client.connect();
  try {
    return (await client.query(text, values)).rowCount ?? 0;
  } finally {
    await client.end();
  }
}

const BROKEN = { code: 'DATABASE.DROP_REFUSED', message: 'DROP USER refused', retryable: false };

let store: EventStore;
let tmp: string;
const active = new TenantStreamBuilder(`alpha-${hex()}`, '2025-01-15T10:00:00Z').activeTenant();
/** Failed tenant whose rollback left the databases compensation parked for an operator. */
const failed = new TenantStreamBuilder(`beta-${hex()}`, '2025-01-16T10:00:00Z')
  .requested({ companyName: 'Beta Industries', tier: 'standard' })
  .ran('databases', 'ProvisionDatabases')
  .started('namespace', 'ProvisionNamespace')
  .failed('namespace', { code: 'K8S.QUOTA_REFUSED', message: 'quota refused', retryable: false })
  .lifecycle('RollbackStarted', {
    failedStep: 'namespace',
    reason: { code: 'K8S.QUOTA_REFUSED', message: 'quota refused', retryable: false },
  })
  .started('compensate:databases', 'RemoveDatabases')
  .failed('compensate:databases', BROKEN)
  .parked('compensate:databases', BROKEN, true)
  .lifecycle('TenantProvisioningFailed', {
    failedStep: 'namespace',
    reason: { code: 'K8S.QUOTA_REFUSED', message: 'quota refused', retryable: false },
    compensatedSteps: [],
  });

async function lastEvent(tenantId: string): Promise<RecordedEvent> {
  const [last] = await store.readStream(tenantStream(tenantId), { direction: 'backwards', limit: 1 });
  return last;
}

beforeAll(async () => {
  store = await createEventStore(DATABASE_URL, { schema: EVENT_SCHEMA, logger: silent, pollIntervalMs: 100 });
  await active.appendTo(store);
  await failed.appendTo(store);
  tmp = await mkdtemp(join(tmpdir(), 'tenantctl-'));
});

afterAll(async () => {
  await store?.close();
  if (tmp) await rm(tmp, { recursive: true, force: true });
  await sql(`DROP SCHEMA IF EXISTS "${EVENT_SCHEMA}" CASCADE`);
  await sql(`DROP SCHEMA IF EXISTS "${READ_SCHEMA}" CASCADE`);
});

describe('tenantctl against PostgreSQL', () => {
  it('replays the streams into the read model, then lists and filters tenants', async () => {
    await readAllWhenVisible(store, { category: 'tenant' }, active.events.length + failed.events.length);
    const replay = await tenantctl(['replay', '--batch', '10']);
    expect(replay).toMatchObject({ code: EXIT.OK, stderr: '' });
    expect(replay.stdout).toContain('replayed 10 events');
    expect(replay.stdout).toContain(
      `done: ${active.events.length + failed.events.length} events applied, 2 tenants`,
    );

    const all = await tenantctl(['list', '--json']);
    expect(all.code).toBe(EXIT.OK);
    const page = JSON.parse(all.stdout) as { items: { tenant_id: string; state: string }[]; total: number };
    expect(page.total).toBe(2);
    expect(Object.fromEntries(page.items.map((item) => [item.tenant_id, item.state]))).toEqual({
      [active.tenantId]: 'active',
      [failed.tenantId]: 'failed',
    });

    const onlyFailed = JSON.parse((await tenantctl(['list', '--state', 'failed', '--json'])).stdout);
    expect(onlyFailed.items.map((item: { tenant_id: string }) => item.tenant_id)).toEqual([failed.tenantId]);
    const premium = JSON.parse((await tenantctl(['list', '--tier', 'premium', '--json'])).stdout);
    expect(premium.items.map((item: { tenant_id: string }) => item.tenant_id)).toEqual([active.tenantId]);

    const text = await tenantctl(['list']);
    expect(text.stdout).toMatch(new RegExp(`^${active.tenantId}\\s+active\\s+premium\\s+eu-west`, 'm'));
    expect(text.stdout).toMatch(new RegExp(`^${failed.tenantId}\\s+failed\\s+standard`, 'm'));
    expect(text.stdout).toContain('2 of 2 tenants');
  });

  it('shows one health word and every step', async () => {
    const status = await tenantctl(['status', active.tenantId]);
    expect(status.code).toBe(EXIT.OK);
    expect(status.stdout).toMatch(/^health\s+active$/m);
    expect(status.stdout).toMatch(
      /^verify-broker\s+succeeded\s+1\s+broker\s+2025-01-15T10:23:00.000Z\s+1m00s$/m,
    );

    const json = JSON.parse((await tenantctl(['status', failed.tenantId, '--json'])).stdout);
    expect(json).toMatchObject({
      health: 'failed',
      tenant_id: failed.tenantId,
      failure_reason: { step: 'namespace', code: 'K8S.QUOTA_REFUSED' },
    });
    expect(json.steps.map((s: { step: string; status: string }) => `${s.step}=${s.status}`)).toEqual([
      'databases=succeeded',
      'namespace=failed',
      'compensate:databases=parked',
    ]);
  });

  it('prints the timeline with actor and step', async () => {
    const history = await tenantctl(['history', active.tenantId, '--json']);
    expect(history.code).toBe(EXIT.OK);
    const entries = JSON.parse(history.stdout) as {
      revision: number;
      type: string;
      actor: string;
      step: string | null;
      occurred_at: string;
    }[];
    expect(entries).toHaveLength(26);
    expect(entries[0]).toMatchObject({ revision: 0, type: 'TenantRequested', actor: 'provisioning-api' });
    expect(entries[2]).toMatchObject({
      type: 'NamespaceProvisioned',
      actor: 'k8s-service',
      step: 'namespace',
      occurred_at: '2025-01-15T10:02:00.000Z',
    });
    expect(entries[25]).toMatchObject({ type: 'TenantActivated', actor: 'orchestrator' });

    const text = await tenantctl(['history', failed.tenantId]);
    expect(text.stdout).toMatch(
      /CompensationParked\s+orchestrator\s+compensate:databases\s+parked: DATABASE.DROP_REFUSED/,
    );
  });

  it('replays the stream up to an instant: provisioning in the middle, absent before the start', async () => {
    const middle = active.occurredAt(10);
    const state = await tenantctl(['state', active.tenantId, '--at', middle, '--json']);
    expect(state.code).toBe(EXIT.OK);
    const json = JSON.parse(state.stdout);
    expect(json).toMatchObject({
      as_of: middle,
      health: 'provisioning',
      state: 'provisioning',
      revision: 10,
    });
    expect(json.steps).toHaveLength(5);

    const text = await tenantctl(['state', active.tenantId, '--at', '2025-01-15T10:30:00+00:00']);
    expect(text.stdout).toMatch(/^health\s+active$/m);

    const before = await tenantctl(['state', active.tenantId, '--at', '2025-01-01']);
    expect(before.code).toBe(EXIT.UNKNOWN_TENANT);
    expect(before.stderr).toContain('did not exist yet');
  });

  it('verifies the audit chain, offline too, and names exactly the altered revision', async () => {
    const uncovered = await tenantctl(['verify', active.tenantId]);
    expect(uncovered.code).toBe(EXIT.OK);
    expect(uncovered.stdout).toContain('no event is covered by the audit chain yet');

    const projector = new AuditChainProjector(store, {
      name: `tenantctl-${suffix}`,
      cursor: false,
      logger: silent,
      flushDelayMs: 20,
    });
    await projector.start();
    try {
      for (const tenantId of [active.tenantId, failed.tenantId]) await projector.catchUpTenant(tenantId);
    } finally {
      await projector.stop();
    }
    const ok = await tenantctl(['verify', active.tenantId]);
    expect(ok).toMatchObject({ code: EXIT.OK, stderr: '' });
    expect(ok.stdout).toContain(
      `ok ${tenantStream(active.tenantId)}: 26 events match the audit chain up to revision 25`,
    );

    const exported = await tenantctl(['history', active.tenantId, '--ndjson']);
    expect(exported.code).toBe(EXIT.OK);
    expect(exported.stdout.trim().split('\n')).toHaveLength(27);
    const cleanFile = join(tmp, 'clean.ndjson');
    await writeFile(cleanFile, exported.stdout);
    const offline = await tenantctl(['verify', '--file', cleanFile]);
    expect(offline.code).toBe(EXIT.OK);
    expect(offline.stdout).toContain('26 events of');

    const victim = (await store.readStream(tenantStream(active.tenantId), { from: 7, limit: 1 }))[0];
    const altered = await sql(
      `UPDATE "${EVENT_SCHEMA}".events SET data = jsonb_set(data, '{outputs}', '{"namespace":"elsewhere"}')
        WHERE stream_name = $1 AND revision = 7`,
      [tenantStream(active.tenantId)],
    );
    expect(altered).toBe(1);
    expect((await verifyTenant(store, active.tenantId)).ok).toBe(false);

    const broken = await tenantctl(['verify', active.tenantId]);
    expect(broken.code).toBe(EXIT.VERIFY_FAILED);
    expect(broken.stdout).toContain(`revision 7 (${victim.type}, event ${victim.id}): hash`);
    const brokenJson = JSON.parse((await tenantctl(['verify', active.tenantId, '--json'])).stdout);
    expect(brokenJson).toMatchObject({
      ok: false,
      checkedEvents: 7,
      firstMismatch: { revision: 7, eventId: victim.id },
    });
    // The other tenant's chain is untouched.
    expect((await tenantctl(['verify', failed.tenantId])).code).toBe(EXIT.OK);

    const tamperedFile = join(tmp, 'tampered.ndjson');
    await writeFile(tamperedFile, (await tenantctl(['history', active.tenantId, '--ndjson'])).stdout);
    const offlineBroken = await tenantctl(['verify', '--file', tamperedFile]);
    expect(offlineBroken.code).toBe(EXIT.VERIFY_FAILED);
    expect(offlineBroken.stdout).toContain(`line 8, revision 7 (event ${victim.id}): hash`);
    // The export taken before the change still verifies, and pins the original chain head.
    expect((await tenantctl(['verify', '--file', cleanFile])).code).toBe(EXIT.OK);
  });

  it('answers 3 for an unknown tenant and 2 for bad arguments', async () => {
    for (const argv of [
      ['status', 'nobody-000000'],
      ['history', 'nobody-000000'],
      ['history', 'nobody-000000', '--ndjson'],
      ['state', 'nobody-000000', '--at', '2025-01-15T10:00:00Z'],
      ['verify', 'nobody-000000'],
      ['watch', 'nobody-000000'],
      ['retry', 'nobody-000000', 'databases', '--reason', 'r'],
      ['cancel', 'nobody-000000', '--reason', 'r'],
    ]) {
      const result = await tenantctl(argv);
      expect({ argv, code: result.code }).toEqual({ argv, code: EXIT.UNKNOWN_TENANT });
      expect(result.stderr).toContain('nobody-000000');
    }
    const bad = await tenantctl(['state', active.tenantId, '--at', 'last tuesday']);
    expect(bad.code).toBe(EXIT.USAGE);
    expect((await tenantctl(['verify', '--file', join(tmp, 'missing.ndjson')])).code).toBe(EXIT.USAGE);
  });

  it('appends retry, cancel and purge with the operator and the reason, and refuses what the state forbids', async () => {
    const retry = await tenantctl([
      'retry',
      failed.tenantId,
      'compensate:databases',
      '--reason',
      'DROP USER grant restored by DBA',
      '--as',
      'dave',
    ]);
    expect(retry).toMatchObject({ code: EXIT.OK, stderr: '' });
    expect(retry.stdout).toContain('retry requested');
    expect(await lastEvent(failed.tenantId)).toMatchObject({
      type: 'OperatorRetryRequested',
      data: { step: 'compensate:databases', reason: 'DROP USER grant restored by DBA', operator: 'dave' },
      metadata: { actor: 'operator:dave' },
    });

    const refused = await tenantctl(['retry', failed.tenantId, 'namespace', '--reason', 'try again']);
    expect(refused.code).toBe(EXIT.ERROR);
    expect(refused.stderr).toContain('OPERATION.STEP_NOT_RETRYABLE');
    expect(refused.stderr).toContain('retryable now: compensate:databases');

    const at = new Date('2025-02-01T09:00:00.000Z');
    const cancel = await tenantctl(['cancel', active.tenantId, '--reason', 'fraud confirmed', '--json'], {
      now: () => at,
    });
    expect(cancel.code).toBe(EXIT.OK);
    expect(JSON.parse(cancel.stdout)).toMatchObject({
      deletionDate: '2025-03-03T09:00:00.000Z',
      duplicate: false,
    });
    expect(await lastEvent(active.tenantId)).toMatchObject({
      type: 'CancellationRequested',
      data: {
        reason: 'fraud confirmed',
        requestedBy: 'operator:carol',
        requestedAt: at.toISOString(),
        deletionDate: '2025-03-03T09:00:00.000Z',
      },
      metadata: { actor: 'operator:carol' },
    });
    const again = await tenantctl(['cancel', active.tenantId, '--reason', 'again']);
    expect(again.code).toBe(EXIT.ERROR);
    expect(again.stderr).toContain('OPERATION.NOT_CANCELLABLE');

    const early = await tenantctl(['purge', failed.tenantId, '--reason', 'erasure']);
    expect(early.code).toBe(EXIT.ERROR);
    expect(early.stderr).toContain('OPERATION.NOT_IN_GRACE_PERIOD');
    const purge = await tenantctl(
      ['purge', active.tenantId, '--reason', 'customer asked for erasure', '--as', 'erin'],
      { now: () => at },
    );
    expect(purge).toMatchObject({ code: EXIT.OK, stderr: '' });
    expect(purge.stdout).toContain(`purge requested: ${active.tenantId} by operator:erin`);
    expect(await lastEvent(active.tenantId)).toMatchObject({
      type: 'OperatorPurgeRequested',
      data: { reason: 'customer asked for erasure', operator: 'erin', requestedAt: at.toISOString() },
      metadata: { actor: 'operator:erin' },
    });
    const purgeAgain = await tenantctl(['purge', active.tenantId, '--reason', 'again']);
    expect(purgeAgain.code).toBe(EXIT.ERROR);
    expect(purgeAgain.stderr).toContain('OPERATION.PURGE_ALREADY_REQUESTED');
    // The read model catches up on the next replay: the cancelled tenant is now deprovisioning. (Replay reads
    // the log as a whole, which shows the cancellation once every transaction older than it has ended.)
    const written = (await store.readStream(tenantStream(active.tenantId))).length;
    await readAllWhenVisible(store, { streamPrefix: tenantStream(active.tenantId) }, written);
    await tenantctl(['replay']);
    expect(JSON.parse((await tenantctl(['status', active.tenantId, '--json'])).stdout).health).toBe(
      'deprovisioning',
    );
  });

  it('watches a tenant live until it settles, and gives up after --timeout', async () => {
    const live = new TenantStreamBuilder(`gamma-${hex()}`, '2025-01-17T10:00:00Z', 1000)
      .requested()
      .started('namespace', 'ProvisionNamespace');
    await live.appendTo(store);

    const timedOut = await tenantctl(['watch', live.tenantId, '--timeout', '1', '--interval', '50']);
    expect(timedOut.code).toBe(EXIT.TIMEOUT);
    expect(timedOut.stderr).toContain('still provisioning');

    let output = '';
    const watching = run(['watch', live.tenantId, '--interval', '50', '--timeout', '60'], {
      stdout: { write: (text: string) => (output += text) },
      stderr: { write: (text: string) => (output += text) },
      env: ENV,
    });
    const deadline = Date.now() + 20_000;
    while (!output.includes('provisioning (revision 1)') && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    live.succeeded('namespace').lifecycle('TenantActivated', { activatedAt: '2025-01-17T10:00:05.000Z' });
    await live.appendTo(store);
    expect(await watching).toBe(EXIT.OK);
    expect(output).toContain('NamespaceProvisioned');
    expect(output).toContain(`${live.tenantId}: provisioning -> active`);

    const settled = await tenantctl(['watch', live.tenantId]);
    expect(settled).toMatchObject({ code: EXIT.OK, stdout: `${live.tenantId}: active (revision 3)\n` });

    const controller = new AbortController();
    const other = new TenantStreamBuilder(`delta-${hex()}`, '2025-01-18T10:00:00Z').requested();
    await other.appendTo(store);
    const interrupted = tenantctl(['watch', other.tenantId, '--interval', '50'], {
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(), 200);
    expect((await interrupted).code).toBe(EXIT.INTERRUPTED);
  });
});
