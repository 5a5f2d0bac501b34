import { randomUUID } from 'node:crypto';
import {
  generateTenantId,
  rolloutStream,
  tenantStream,
  type FailureReason,
  type RolloutEventData,
} from '@app/contracts';
import {
  MemoryEventStore,
  type AppendOptions,
  type AppendResult,
  type EventData,
  type RecordedEvent,
} from '@app/event-store';
import { imageTagVerifyKey, imageTagWorkloadsKey, rolloutRequestEventId } from '@app/lifecycle';
import { Rollouts } from '@app/rollouts';
import { TenantStreamBuilder } from '@app/tenancy';
import { eventually } from '@app/testing';
import pino from 'pino';
import { RolloutRunner } from './rollout-runner';

const silent = pino({ level: 'silent' });
const NOW = new Date('2025-06-01T10:00:00.000Z');
const ROLLOUT_ID = '3f0d5a52-7c1e-4e59-9a43-2f6f1c0b8e17';
const VERIFY_FAILED: FailureReason = {
  code: 'K8S.VERIFICATION_FAILED',
  message: 'deployment api-gateway has 0 of 2 replicas available',
  retryable: false,
};

/**
 * The memory store, with a hook run once just before the next append to a rollout stream: another writer
 * (an operator, a second runner) lands between a runner's read and its append.
 */
class InterleavingStore extends MemoryEventStore {
  private beforeRolloutAppend?: () => Promise<void>;

  interleaveOnce(hook: () => Promise<void>): void {
    this.beforeRolloutAppend = hook;
  }

  override async append(
    stream: string,
    events: readonly EventData[],
    options: AppendOptions,
  ): Promise<AppendResult> {
    const hook = stream.startsWith('rollout-') ? this.beforeRolloutAppend : undefined;
    if (hook) {
      this.beforeRolloutAppend = undefined;
      await hook();
    }
    return super.append(stream, events, options);
  }
}

let store: InterleavingStore;
let builders: TenantStreamBuilder[];
let ids: string[];
const runners: RolloutRunner[] = [];

function runner(): RolloutRunner {
  // The timer never fires within a test: passes run when the test asks for them.
  const created = new RolloutRunner({
    eventStore: store,
    clock: () => NOW,
    logger: silent,
    intervalMs: 60_000,
  });
  runners.push(created);
  return created;
}

/** The operators' use cases (each decision under a fresh event id). */
const rollouts = () => new Rollouts(store, () => NOW, randomUUID);

async function startRollout(): Promise<void> {
  await new Rollouts(
    store,
    () => NOW,
    () => ROLLOUT_ID,
  ).start({
    imageTag: 'v2.4.0',
    selection: { tenant_ids: ids },
    canarySize: 1,
    batchSize: 2,
    reason: 'release 2.4',
    operator: 'olivia',
  });
}

async function rolloutEvents(): Promise<RecordedEvent[]> {
  return store.readStream(rolloutStream(ROLLOUT_ID));
}

const typesOf = (events: RecordedEvent[]) => events.map((event) => event.type);

/** The image tag changes a tenant's stream holds (each one a request the rollout sent). */
async function requests(tenantId: string): Promise<RecordedEvent[]> {
  const events = await store.readStream(tenantStream(tenantId));
  return events.filter((event) => event.type === 'ImageTagChangeRequested');
}

/** What the orchestrator does with a tenant's first change: deployed with the tag, then verified. */
async function apply(index: number): Promise<void> {
  builders[index]
    .ran(imageTagWorkloadsKey(1), 'DeployWorkloads')
    .ran(imageTagVerifyKey(1), 'VerifyKubernetes');
  await builders[index].appendTo(store);
}

/** A started runner's first pass that sees the rollout (its subscription finds it after `start`). */
async function firstPass(started: RolloutRunner, before: number): Promise<RecordedEvent[]> {
  return eventually(async () => {
    await started.runPass();
    const events = await rolloutEvents();
    return events.length > before ? events : undefined;
  }, 'the runner to find the rollout and advance it');
}

beforeEach(async () => {
  store = new InterleavingStore({ logger: silent });
  builders = ['Alpha', 'Bravo', 'Charlie'].map((name, i) =>
    new TenantStreamBuilder(
      generateTenantId(`${name} Shop`, `a0000${i}`),
      '2025-05-01T10:00:00Z',
    ).activeTenant(),
  );
  ids = builders.map((builder) => builder.tenantId);
  for (const builder of builders) await builder.appendTo(store);
  await startRollout();
});

afterEach(async () => {
  await Promise.all(runners.splice(0).map((started) => started.stop()));
});

describe('RolloutRunner on the event store', () => {
  it('starts the canary wave alone, asks its tenant once, and starts the next wave once it is applied', async () => {
    const first = runner();
    await first.start();
    const afterFirst = await firstPass(first, 1);
    expect(typesOf(afterFirst)).toEqual(['RolloutStarted', 'RolloutWaveStarted', 'RolloutTenantStarted']);
    const started = afterFirst[2].data as RolloutEventData['RolloutTenantStarted'];
    const requestEventId = rolloutRequestEventId(ROLLOUT_ID, ids[0], 1);
    expect(started).toEqual({
      wave: 0,
      tenantId: ids[0],
      attempt: 1,
      requestEventId,
      startedAt: NOW.toISOString(),
    });

    // The checkpoint comes first; the next pass asks the tenant, under the id the checkpoint named.
    await first.runPass();
    const asked = await requests(ids[0]);
    expect(asked).toEqual([
      expect.objectContaining({
        id: requestEventId,
        data: expect.objectContaining({
          imageTag: 'v2.4.0',
          rolloutId: ROLLOUT_ID,
          requestedBy: `rollout:${ROLLOUT_ID}`,
        }),
      }),
    ]);
    expect(await rolloutEvents()).toHaveLength(3);
    // Still in progress: nothing moves, nobody else is asked.
    await first.runPass();
    expect(await rolloutEvents()).toHaveLength(3);
    expect([await requests(ids[1]), await requests(ids[2])]).toEqual([[], []]);

    await apply(0);
    await first.runPass();
    const after = await rolloutEvents();
    expect(typesOf(after).slice(3)).toEqual([
      'RolloutTenantSucceeded',
      'RolloutWaveStarted',
      'RolloutTenantStarted',
      'RolloutTenantStarted',
    ]);
    expect(after[3].data).toMatchObject({ tenantId: ids[0], outcome: 'applied' });
    expect(after.slice(5).map((event) => (event.data as { tenantId: string }).tenantId)).toEqual([
      ids[1],
      ids[2],
    ]);
  });

  it('a second runner on the same store continues from the checkpoints without asking a tenant twice', async () => {
    const first = runner();
    await first.start();
    await firstPass(first, 1);
    await first.runPass();
    await apply(0);
    await first.runPass();
    // The first runner checkpointed the batch, then stops before asking either tenant of it.
    await first.stop();
    expect(typesOf(await rolloutEvents()).filter((type) => type === 'RolloutTenantStarted')).toHaveLength(3);
    expect([await requests(ids[1]), await requests(ids[2])]).toEqual([[], []]);

    const second = runner();
    await second.start();
    const before = (await rolloutEvents()).length;
    await eventually(async () => {
      await second.runPass();
      return (await requests(ids[1])).length > 0 ? true : undefined;
    }, 'the second runner to ask the batch');
    await second.runPass();
    expect((await rolloutEvents()).length).toBe(before);
    await apply(1);
    await apply(2);
    await second.runPass();

    const events = await rolloutEvents();
    expect(typesOf(events).slice(before)).toEqual([
      'RolloutTenantSucceeded',
      'RolloutTenantSucceeded',
      'RolloutCompleted',
    ]);
    expect(events[events.length - 1].data).toMatchObject({ succeeded: 3, skipped: 0 });
    for (const tenantId of ids) {
      expect((await requests(tenantId)).map((event) => event.id)).toEqual([
        rolloutRequestEventId(ROLLOUT_ID, tenantId, 1),
      ]);
    }
    // A finished rollout is left alone: a later pass writes nothing.
    await second.runPass();
    expect(await rolloutEvents()).toHaveLength(events.length);
  });

  it('two runners at once write one history and ask each tenant once', async () => {
    const [a, b] = [runner(), runner()];
    await Promise.all([a.advance(ROLLOUT_ID), b.advance(ROLLOUT_ID)]);
    await Promise.all([a.advance(ROLLOUT_ID), b.advance(ROLLOUT_ID)]);
    expect(typesOf(await rolloutEvents())).toEqual([
      'RolloutStarted',
      'RolloutWaveStarted',
      'RolloutTenantStarted',
    ]);
    expect(await requests(ids[0])).toHaveLength(1);
    await apply(0);
    await Promise.all([a.advance(ROLLOUT_ID), b.advance(ROLLOUT_ID)]);
    await Promise.all([a.advance(ROLLOUT_ID), b.advance(ROLLOUT_ID)]);
    const types = typesOf(await rolloutEvents());
    expect(types.filter((type) => type === 'RolloutWaveStarted')).toHaveLength(2);
    expect(types.filter((type) => type === 'RolloutTenantStarted')).toHaveLength(3);
    for (const tenantId of ids) expect(await requests(tenantId)).toHaveLength(1);
  });

  it('survives losing its append to an operator, and decides again on what the operator wrote', async () => {
    const driver = runner();
    // Between the runner's read and its append, an operator pauses the rollout.
    store.interleaveOnce(async () => {
      await rollouts().decide({ rolloutId: ROLLOUT_ID, action: 'pause', reason: 'hold', operator: 'olivia' });
    });
    await expect(driver.advance(ROLLOUT_ID)).resolves.toBeUndefined();
    expect(typesOf(await rolloutEvents())).toEqual(['RolloutStarted', 'RolloutPaused']);
    // Paused: the next pass starts nothing.
    await driver.advance(ROLLOUT_ID);
    expect(await rolloutEvents()).toHaveLength(2);

    await rollouts().decide({ rolloutId: ROLLOUT_ID, action: 'resume', reason: 'go', operator: 'olivia' });
    await driver.advance(ROLLOUT_ID);
    expect(typesOf(await rolloutEvents()).slice(2)).toEqual([
      'RolloutResumed',
      'RolloutWaveStarted',
      'RolloutTenantStarted',
    ]);
  });

  it('halts on a tenant whose change failed, naming it, and starts nobody after it', async () => {
    const driver = runner();
    await driver.advance(ROLLOUT_ID);
    await driver.advance(ROLLOUT_ID);
    const key = imageTagVerifyKey(1);
    builders[0]
      .ran(imageTagWorkloadsKey(1), 'DeployWorkloads')
      .started(key, 'VerifyKubernetes')
      .failed(key, VERIFY_FAILED)
      .parked(key, VERIFY_FAILED);
    await builders[0].appendTo(store);
    await driver.advance(ROLLOUT_ID);
    await driver.advance(ROLLOUT_ID);
    const events = await rolloutEvents();
    expect(typesOf(events).slice(3)).toEqual(['RolloutTenantFailed', 'RolloutHalted']);
    expect(events[4].data).toMatchObject({ wave: 0, tenantId: ids[0], error: VERIFY_FAILED });
    expect([await requests(ids[1]), await requests(ids[2])]).toEqual([[], []]);
  });
});
