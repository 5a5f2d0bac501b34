import {
  commandRoutingKey,
  ORCHESTRATOR_CHECKPOINT_STREAM,
  tenantStream,
  type CommandMessage,
  type TenantEvent,
} from '@app/contracts';
import { MemoryEventStore } from '@app/event-store';
import type { MessagePublisher } from '@app/messaging';
import pino from 'pino';
import { DELETION_CONFIRMATION_STEP } from '@app/lifecycle';
import { evolve, initialState, type TenantState } from '../domain';
import { PROFILE, resultEvent, T0, TEST_CONFIG, TenantSim, lifecycleEvent } from '../domain/testing';
import { Orchestrator } from './orchestrator';
import { toTenantEvent } from './tenant-processor';

/**
 * The orchestrator at fleet size: a purged tenant leaves nothing behind in the process (years of churn must
 * not grow its memory), and an event that arrives for it later is still decided from its stream.
 */

const DAY_MS = 86_400_000;

interface Published {
  exchange: string;
  routingKey: string;
  message: CommandMessage;
}

function settle(sim: TenantSim): void {
  for (let rounds = 0; rounds < 200 && sim.runningSteps().length > 0; rounds++) {
    for (const step of sim.runningSteps()) sim.succeed(step);
  }
}

/** A tenant provisioned, cancelled and purged (deletion confirmation sent): its whole stream. */
function purgedTenant(tenantId: string): TenantSim {
  const sim = new TenantSim(TEST_CONFIG);
  sim.request({ ...PROFILE, tenantId, subscriptionId: `sub_${tenantId}` });
  settle(sim);
  sim.emit('CancellationRequested', {
    subscriptionId: `sub_${tenantId}`,
    reason: 'test',
    requestedAt: sim.now.toISOString(),
    deletionDate: new Date(sim.now.getTime() + DAY_MS).toISOString(),
    requestedBy: 'billing',
  });
  settle(sim);
  sim.advance((TEST_CONFIG.gracePeriodDays + 2) * 86_400);
  settle(sim);
  if (sim.state.status !== 'purged') throw new Error(`expected purged, got ${sim.state.status}`);
  return sim;
}

function activeTenant(tenantId: string): TenantSim {
  const sim = new TenantSim(TEST_CONFIG);
  sim.request({ ...PROFILE, tenantId, subscriptionId: `sub_${tenantId}` });
  settle(sim);
  if (sim.state.status !== 'active') throw new Error(`expected active, got ${sim.state.status}`);
  return sim;
}

async function append(store: MemoryEventStore, tenantId: string, events: readonly TenantEvent[]) {
  await store.append(
    tenantStream(tenantId),
    events.map((event) => ({
      id: event.metadata.messageId,
      type: event.type,
      data: event.data,
      metadata: event.metadata,
    })),
    { expectedRevision: 'any' },
  );
}

async function stateOf(store: MemoryEventStore, tenantId: string): Promise<TenantState> {
  const events = await store.readStream(tenantStream(tenantId));
  return events.reduce((state, event) => evolve(state, toTenantEvent(event)), initialState());
}

async function until(probe: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (await probe()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('Orchestrator: purged tenants hold no state', () => {
  let store: MemoryEventStore;
  let published: Published[];
  let orchestrator: Orchestrator | undefined;
  let now: Date;
  /** Reads of each tenant stream, to tell a pass that re-read the stream from one that did not. */
  let reads: Map<string, number>;

  beforeEach(() => {
    store = new MemoryEventStore();
    published = [];
    reads = new Map();
    const readStream = store.readStream.bind(store);
    store.readStream = (stream, options) => {
      reads.set(stream, (reads.get(stream) ?? 0) + 1);
      return readStream(stream, options);
    };
    now = new Date(T0.getTime() + (TEST_CONFIG.gracePeriodDays + 10) * DAY_MS);
  });

  afterEach(async () => {
    await orchestrator?.stop();
    orchestrator = undefined;
    await store.close();
  });

  /** Where a running orchestrator had saved its checkpoint: at the end of what is seeded (a restart). */
  async function start(): Promise<Orchestrator> {
    const all = await store.readAll();
    if (all.length > 0) {
      await store.setStreamMetadata(ORCHESTRATOR_CHECKPOINT_STREAM, {
        checkpoint: all[all.length - 1].position,
      });
    }
    orchestrator = new Orchestrator({
      eventStore: store,
      publisher: {
        publish: async (exchange: string, routingKey: string, message: CommandMessage) => {
          published.push({ exchange, routingKey, message });
        },
        // Integration events (CloudEvents on tenant.events) are not what this spec watches.
        publishCloudEvent: async () => undefined,
      } as unknown as MessagePublisher,
      decider: TEST_CONFIG,
      clock: () => now,
      logger: pino({ level: 'silent' }),
      timerIntervalMs: 3_600_000,
    });
    await orchestrator.start();
    return orchestrator;
  }

  /** The orchestrator's subscription has handled every event in the store. */
  async function caughtUp(): Promise<boolean> {
    const all = await store.readAll();
    const stats = store.getSubscriptionLag().find((s) => s.name === 'orchestrator');
    return !!stats && stats.caughtUp && stats.checkpoint === all[all.length - 1].position;
  }

  const commands = () => published.filter((p) => p.exchange === 'provisioningCommands');

  it('keeps no entry for a tenant already purged at start, and still follows an active one', async () => {
    await append(store, 'purged-a00001', purgedTenant('purged-a00001').events);
    await append(store, 'active-a00002', activeTenant('active-a00002').events);

    const started = await start();

    expect(started.tracks('purged-a00001')).toBe(false);
    expect(started.tracks('active-a00002')).toBe(true);
    expect(started.trackedTenants()).toMatchObject({ followed: 1, deadlines: 0, failures: 0, held: 0 });
    expect(published).toEqual([]);
  });

  it('drops a tenant once its purge completes while followed', async () => {
    // Everything up to the last purge step's result: the tenant is purging, one step running.
    const full = purgedTenant('churned-a00003').events;
    const purgedAt = full.findIndex((event) => event.type === 'TenantPurged');
    const lastResult = full
      .slice(0, purgedAt)
      .findLastIndex((event) => event.metadata.actor !== 'orchestrator');
    await append(store, 'churned-a00003', full.slice(0, lastResult));
    now = new Date(full[lastResult].metadata.occurredAt);

    const started = await start();
    expect(started.tracks('churned-a00003')).toBe(true);
    expect((await stateOf(store, 'churned-a00003')).status).toBe('purging');

    // The service answers: the orchestrator purges the tenant and starts the deletion confirmation.
    await append(store, 'churned-a00003', [full[lastResult]]);
    await until(async () => (await stateOf(store, 'churned-a00003')).status === 'purged', 'TenantPurged');
    await until(
      () => commands().some((c) => c.message.data.step === DELETION_CONFIRMATION_STEP),
      'the deletion confirmation dispatched',
    );
    expect(started.tracks('churned-a00003')).toBe(true); // a step is running: its deadline is watched

    // The confirmation is sent: nothing is left to decide, so nothing is kept.
    const state = await stateOf(store, 'churned-a00003');
    const confirmation = state.steps[DELETION_CONFIRMATION_STEP];
    const revision = state.revision;
    await append(store, 'churned-a00003', [
      resultEvent(confirmation, confirmation.commandId, { ok: true }, now),
    ]);
    await until(() => !started.tracks('churned-a00003'), 'the purged tenant dropped');
    expect(started.trackedTenants()).toMatchObject({ followed: 0, deadlines: 0, failures: 0, held: 0 });
    expect((await store.readStream(tenantStream('churned-a00003'))).length).toBe(revision + 1); // nothing decided
  });

  it('decides a later event for a dropped tenant from its stream: an operator retry after purge', async () => {
    // Purged, its deletion confirmation failed for good (parked: an operator retries).
    const sim = purgedTenant('late-a00004');
    const stream = sim.events.slice(0, -1); // without the confirmation's success
    const confirmation = sim.state.steps[DELETION_CONFIRMATION_STEP];
    const failure = resultEvent(
      confirmation,
      confirmation.commandId,
      { ok: false, error: { code: 'TEST.PERMANENT', message: 'mailbox gone', retryable: false } },
      sim.now,
    );
    await append(store, 'late-a00004', stream);
    await append(store, 'late-a00004', [failure]);

    const started = await start();
    // Start decided it (one read of the stream): the step parked, and the tenant dropped. The StepParked it
    // appended comes back through the subscription, and needs no second read.
    await until(caughtUp, 'the subscription caught up');
    expect(started.tracks('late-a00004')).toBe(false);
    expect(reads.get(tenantStream('late-a00004'))).toBe(1);
    const parked = await stateOf(store, 'late-a00004');
    expect(parked.status).toBe('purged');
    expect(parked.steps[DELETION_CONFIRMATION_STEP].status).toBe('parked');
    const before = commands().length;

    // An operator asks for the confirmation again: the orchestrator reads the stream and restarts the step.
    await append(store, 'late-a00004', [
      lifecycleEvent(
        'OperatorRetryRequested',
        { step: DELETION_CONFIRMATION_STEP, reason: 'mailbox restored', operator: 'ops' },
        now,
      ),
    ]);
    await until(() => commands().length > before, 'the deletion confirmation sent again');
    const retried = commands().slice(before);
    expect(retried.map((c) => [c.routingKey, c.message.data.step])).toEqual([
      [commandRoutingKey('SendDeletionConfirmation'), DELETION_CONFIRMATION_STEP],
    ]);
    const after = await stateOf(store, 'late-a00004');
    expect(after.steps[DELETION_CONFIRMATION_STEP].status).toBe('running');
    expect(started.tracks('late-a00004')).toBe(true); // followed again while the step runs
  });
});
