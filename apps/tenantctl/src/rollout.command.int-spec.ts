import { randomBytes, randomUUID } from 'node:crypto';
import {
  ROLLOUT_STREAM_CATEGORY,
  rolloutStream,
  TENANT_STREAM_CATEGORY,
  tenantStream,
  type FailureReason,
  type RolloutEventData,
} from '@app/contracts';
import type { RecordedEvent } from '@app/event-store';
import type { RolloutPayload } from '@app/lifecycle';
import { rolloutEvent, type RolloutAccepted } from '@app/rollouts';
import { TenantStreamBuilder } from '@app/tenancy';
import { eventually, readAllWhenVisible } from '@app/testing';
import { EXIT } from './tenantctl';
import { startTenantctlTestStore, type TenantctlTestStore } from './tenantctl.test-helpers';

const NOW = '2025-06-01T10:00:00.000Z';
const VERIFY_FAILED: FailureReason = {
  code: 'K8S.VERIFICATION_FAILED',
  message: 'deployment api-gateway has 0 of 2 replicas available',
  retryable: false,
};
const hex = () => randomBytes(3).toString('hex');

let cli: TenantctlTestStore;
const tenantctl = (argv: string[]) => cli.tenantctl(argv);

const alpha = new TenantStreamBuilder(`alpha-${hex()}`, '2025-05-01T10:00:00Z').activeTenant();
const bravo = new TenantStreamBuilder(`bravo-${hex()}`, '2025-05-01T10:00:00Z').activeTenant();
const provisioning = new TenantStreamBuilder(`charlie-${hex()}`, '2025-05-01T10:00:00Z')
  .requested()
  .started('namespace', 'ProvisionNamespace');

const rolloutEvents = (rolloutId: string): Promise<RecordedEvent[]> =>
  cli.store.readStream(rolloutStream(rolloutId));
const typesOf = (events: RecordedEvent[]) => events.map((event) => event.type);

/** A rollout of `alpha` whose stream holds these events after its plan (as the orchestrator would write them). */
async function recordedRollout(...after: RolloutPayload[]): Promise<string> {
  const rolloutId = randomUUID();
  const started: RolloutEventData['RolloutStarted'] = {
    rolloutId,
    imageTag: 'v2.3.0',
    selection: { tenantIds: [alpha.tenantId] },
    canarySize: 1,
    batchSize: 10,
    waves: [[alpha.tenantId]],
    requestedBy: 'operator:olivia',
    reason: 'release 2.3',
    startedAt: NOW,
  };
  const payloads: RolloutPayload[] = [{ type: 'RolloutStarted', data: started }, ...after];
  await cli.store.append(
    rolloutStream(rolloutId),
    payloads.map((payload) => rolloutEvent(rolloutId, payload, randomUUID(), new Date(NOW), 'rollout')),
    { expectedRevision: 'no_stream' },
  );
  return rolloutId;
}

/**
 * The rollout streams readers see, once a rollout recorded now is among them: PostgreSQL shows commits to
 * readers in order, so whatever was committed before it is visible too.
 */
async function rolloutsVisibleWithMarker(): Promise<string[]> {
  const marker = rolloutStream(await recordedRollout());
  return eventually(async () => {
    const events = await cli.store.readAll({ filter: { category: ROLLOUT_STREAM_CATEGORY } });
    const streams = [...new Set(events.map((event) => event.streamName))];
    return streams.includes(marker) ? streams : undefined;
  }, 'the marker rollout to be visible');
}

const tenant = { wave: 0, attempt: 1 };
const canaryStarted = (): RolloutPayload[] => [
  { type: 'RolloutWaveStarted', data: { wave: 0, tenantIds: [alpha.tenantId], startedAt: NOW } },
  {
    type: 'RolloutTenantStarted',
    data: { ...tenant, tenantId: alpha.tenantId, requestEventId: randomUUID(), startedAt: NOW },
  },
];

beforeAll(async () => {
  cli = await startTenantctlTestStore({
    schemaPrefix: 'tro',
    readModel: true,
    env: { USER: 'carol' },
    now: () => new Date(NOW),
  });
  await alpha.appendTo(cli.store);
  await bravo.appendTo(cli.store);
  await provisioning.appendTo(cli.store);
  // Starting a rollout reads the whole tenant category: wait until PostgreSQL shows it to readers.
  await readAllWhenVisible(
    cli.store,
    { category: TENANT_STREAM_CATEGORY },
    alpha.events.length + bravo.events.length + provisioning.events.length,
  );
});

afterAll(async () => {
  await cli?.close();
});

describe('tenantctl rollout against PostgreSQL', () => {
  it('starts a rollout, shows it, pauses, resumes and aborts it, each recorded in the rollout stream', async () => {
    const started = await tenantctl([
      'rollout',
      'start',
      '--image-tag',
      'v2.4.0',
      '--reason',
      'release 2.4',
      '--tenant',
      bravo.tenantId,
      '--tenant',
      alpha.tenantId,
      '--batch-size',
      '5',
      '--json',
    ]);
    expect(started).toMatchObject({ code: EXIT.OK, stderr: '' });
    const answer = JSON.parse(started.stdout) as RolloutAccepted;
    const { rolloutId } = answer.rollout;
    expect(answer).toMatchObject({ duplicate: false, rollout: { status: 'running', imageTag: 'v2.4.0' } });
    const [plan] = await rolloutEvents(rolloutId);
    expect(plan).toMatchObject({
      type: 'RolloutStarted',
      data: {
        rolloutId,
        imageTag: 'v2.4.0',
        selection: { tenantIds: [bravo.tenantId, alpha.tenantId] },
        canarySize: 1,
        batchSize: 5,
        // The list's order decides the canary.
        waves: [[bravo.tenantId], [alpha.tenantId]],
        requestedBy: 'operator:carol',
        reason: 'release 2.4',
        startedAt: NOW,
      },
    });

    const status = await tenantctl(['rollout', 'status', rolloutId]);
    expect(status).toMatchObject({ code: EXIT.OK, stderr: '' });
    const lines = status.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(`rollout ${rolloutId}: running, image tag v2.4.0, by operator:carol (release 2.4)`);
    expect(lines[1]).toContain('0 succeeded, 0 skipped, 0 failed, 0 in flight, 2 pending');
    expect(lines.slice(3).map((line) => line.split(/\s{2,}/).slice(0, 3))).toEqual([
      ['0 canary', bravo.tenantId, 'pending'],
      ['1 batch', alpha.tenantId, 'pending'],
    ]);

    const paused = await tenantctl(['rollout', 'pause', rolloutId, '--reason', 'error rate up', '--json']);
    expect(paused).toMatchObject({ code: EXIT.OK, stderr: '' });
    expect((JSON.parse(paused.stdout) as RolloutAccepted).rollout.status).toBe('paused');
    const resumed = await tenantctl(['rollout', 'resume', rolloutId, '--as', 'dave']);
    expect(resumed).toMatchObject({ code: EXIT.OK, stderr: '' });
    expect(resumed.stdout).toContain(`rollout ${rolloutId}: running`);
    const aborted = await tenantctl(['rollout', 'abort', rolloutId, '--reason', 'superseded by 2.4.1']);
    expect(aborted).toMatchObject({ code: EXIT.OK, stderr: '' });

    const events = await rolloutEvents(rolloutId);
    expect(events.slice(1).map(({ type, data }) => ({ type, data }))).toEqual([
      {
        type: 'RolloutPaused',
        data: { requestedBy: 'operator:carol', reason: 'error rate up', pausedAt: NOW },
      },
      { type: 'RolloutResumed', data: { requestedBy: 'operator:dave', reason: '', resumedAt: NOW } },
      {
        type: 'RolloutAborted',
        data: { requestedBy: 'operator:carol', reason: 'superseded by 2.4.1', abortedAt: NOW },
      },
    ]);
    // No tenant was asked anything: tenantctl records decisions, the orchestrator drives the tenants.
    const alphaStream = await cli.store.readStream(tenantStream(alpha.tenantId));
    expect(alphaStream).toHaveLength(alpha.events.length);

    // The listing, once PostgreSQL shows the rollout stream to readers.
    await readAllWhenVisible(cli.store, { category: ROLLOUT_STREAM_CATEGORY }, events.length);
    const list = await tenantctl(['rollout', 'status']);
    expect(list).toMatchObject({ code: EXIT.OK, stderr: '' });
    expect(list.stdout.split('\n')[0].split(/\s{2,}/)).toEqual([
      'rollout',
      'status',
      'image tag',
      'done',
      'started',
    ]);
    expect(list.stdout).toMatch(new RegExp(`^${rolloutId}\\s+aborted\\s+v2\\.4\\.0\\s+0/2\\s+${NOW}$`, 'm'));
  });

  it('answers a repeated start with the same idempotency key with the rollout it started', async () => {
    const argv = [
      'rollout',
      'start',
      '--image-tag',
      'v2.5.0',
      '--reason',
      'release 2.5',
      '--tenant',
      alpha.tenantId,
      '--idempotency-key',
      `release-2-5-${hex()}`,
      '--json',
    ];
    const first = JSON.parse((await tenantctl(argv)).stdout) as RolloutAccepted;
    const again = await tenantctl(argv);
    expect(again).toMatchObject({ code: EXIT.OK, stderr: '' });
    const repeated = JSON.parse(again.stdout) as RolloutAccepted;
    expect(repeated).toMatchObject({ duplicate: true, rollout: { rolloutId: first.rollout.rolloutId } });
    expect(await rolloutEvents(first.rollout.rolloutId)).toHaveLength(1);

    const changed = await tenantctl(argv.map((arg) => (arg === 'v2.5.0' ? 'v2.5.1' : arg)));
    expect(changed.code).toBe(EXIT.ERROR);
    expect(changed.stderr).toContain('OPERATION.IDEMPOTENCY_KEY_REUSED');
  });

  it('refuses an invalid image tag, an inactive or unknown tenant, and bad sizes, recording nothing', async () => {
    const before = await rolloutsVisibleWithMarker();
    const start = (...extra: string[]) => tenantctl(['rollout', 'start', '--reason', 'r', ...extra]);

    const badTag = await start('--image-tag', 'v2.4.0;rm -rf /', '--tenant', alpha.tenantId);
    expect(badTag.code).toBe(EXIT.USAGE);
    expect(badTag.stderr).toContain('VALIDATION_FAILED: invalid rollout: image_tag must be an OCI tag');
    expect(badTag.stderr).toContain('(got "v2.4.0;rm -rf /")');

    const nobody = `nobody-${hex()}`;
    const unknown = await start('--image-tag', 'v2.4.0', '--tenant', nobody, '--tenant', alpha.tenantId);
    expect(unknown.code).toBe(EXIT.USAGE);
    expect(unknown.stderr).toContain(`invalid rollout selection: tenant ${nobody} does not exist`);

    const notActive = await start('--image-tag', 'v2.4.0', '--tenant', provisioning.tenantId);
    expect(notActive.code).toBe(EXIT.USAGE);
    expect(notActive.stderr).toContain(`tenant ${provisioning.tenantId} is provisioning, not active`);

    const noTenant = await start('--image-tag', 'v2.4.0', '--tenant', 'Not A Tenant');
    expect(noTenant.code).toBe(EXIT.USAGE);
    expect(noTenant.stderr).toContain('selection.tenant_ids must hold tenant ids (got "Not A Tenant")');

    const size = await start('--image-tag', 'v2.4.0', '--canary-size', '0');
    expect(size.code).toBe(EXIT.USAGE);
    expect(size.stderr).toContain('--canary-size must be an integer in 1..1000.');

    const noTag = await tenantctl(['rollout', 'start', '--reason', 'r']);
    expect(noTag.code).toBe(EXIT.USAGE);
    expect(noTag.stderr).toContain("required option '--image-tag <tag>'");

    // Only the second marker is new.
    expect(await rolloutsVisibleWithMarker()).toEqual([...before, expect.any(String)]);
  });

  it('refuses an unknown or malformed rollout id', async () => {
    const missing = randomUUID();
    for (const argv of [
      ['rollout', 'status', missing],
      ['rollout', 'pause', missing, '--reason', 'r'],
    ]) {
      const outcome = await tenantctl(argv);
      expect(outcome).toMatchObject({ code: EXIT.UNKNOWN_TENANT, stdout: '' });
      expect(outcome.stderr).toContain(`ROLLOUT.NOT_FOUND: no rollout ${missing}`);
    }
    const malformed = await tenantctl(['rollout', 'abort', '../../etc']);
    expect(malformed.code).toBe(EXIT.USAGE);
    expect(malformed.stderr).toContain('rollout id must be a lowercase UUID');
  });

  it('refuses to pause a completed or a halted rollout, and to resume a finished one, appending nothing', async () => {
    const completed = await recordedRollout(
      ...canaryStarted(),
      {
        type: 'RolloutTenantSucceeded',
        data: { ...tenant, tenantId: alpha.tenantId, outcome: 'applied', succeededAt: NOW },
      },
      { type: 'RolloutCompleted', data: { succeeded: 1, skipped: 0, completedAt: NOW } },
    );
    const halted = await recordedRollout(
      ...canaryStarted(),
      {
        type: 'RolloutTenantFailed',
        data: { ...tenant, tenantId: alpha.tenantId, error: VERIFY_FAILED, failedAt: NOW },
      },
      {
        type: 'RolloutHalted',
        data: { wave: 0, tenantId: alpha.tenantId, error: VERIFY_FAILED, haltedAt: NOW },
      },
    );

    const refusals: [string, string, string][] = [
      [completed, 'pause', `rollout ${completed} is completed: cannot pause it (needs running)`],
      [completed, 'resume', `rollout ${completed} is completed: cannot resume it (needs paused or halted)`],
      [completed, 'abort', `rollout ${completed} is completed: cannot abort it`],
      [halted, 'pause', `rollout ${halted} is halted: cannot pause it (needs running)`],
    ];
    for (const [rolloutId, action, message] of refusals) {
      const outcome = await tenantctl(['rollout', action, rolloutId, '--reason', 'r']);
      expect([action, outcome.code]).toEqual([action, EXIT.ERROR]);
      expect(outcome.stderr).toContain(`ROLLOUT.ACTION_REFUSED: ${message}`);
    }
    expect(await rolloutEvents(completed)).toHaveLength(5);
    expect(await rolloutEvents(halted)).toHaveLength(5);

    // The halt shows in the status with the failing tenant's error; resuming it is an operator's choice.
    const status = await tenantctl(['rollout', 'status', halted]);
    expect(status.stdout).toContain(
      `HALTED at ${alpha.tenantId} (wave 0): K8S.VERIFICATION_FAILED deployment api-gateway has 0 of 2 replicas available`,
    );
    const resumed = await tenantctl(['rollout', 'resume', halted, '--reason', 'replicas fixed', '--json']);
    expect(resumed).toMatchObject({ code: EXIT.OK, stderr: '' });
    const view = (JSON.parse(resumed.stdout) as RolloutAccepted).rollout;
    expect(view).toMatchObject({ status: 'running', halt: null });
    // The failed tenant waits to be tried again.
    expect(view.waves[0].tenants[0]).toMatchObject({
      tenantId: alpha.tenantId,
      status: 'pending',
      attempt: 1,
    });
    expect(typesOf(await rolloutEvents(halted)).at(-1)).toBe('RolloutResumed');
  });
});
