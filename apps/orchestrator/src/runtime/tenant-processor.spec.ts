import { tenantStream, type TenantEvent } from '@app/contracts';
import { MemoryEventStore, type RecordedEvent } from '@app/event-store';
import pino from 'pino';
import { GATING_STEPS } from '../domain';
import { lifecycleEvent, PROFILE, TEST_CONFIG, TenantSim } from '../domain/testing';
import { TenantProcessor } from './tenant-processor';

const stream = tenantStream(PROFILE.tenantId);

/** The simulated tenant's events, then billing's cancellation, in a memory store: the recorded cancellation. */
async function recordWithCancellation(store: MemoryEventStore, sim: TenantSim): Promise<RecordedEvent> {
  const cancellation = lifecycleEvent(
    'CancellationRequested',
    {
      subscriptionId: PROFILE.subscriptionId,
      reason: 'downgrade',
      requestedAt: sim.now.toISOString(),
      deletionDate: new Date(sim.now.getTime() + 86_400_000).toISOString(),
      requestedBy: 'billing',
    },
    sim.now,
  );
  const all: TenantEvent[] = [...sim.events, cancellation];
  await store.append(
    stream,
    all.map((event) => ({
      id: event.metadata.messageId,
      type: event.type,
      data: event.data,
      metadata: event.metadata,
    })),
    { expectedRevision: 'no_stream' },
  );
  const recorded = await store.readStream(stream);
  return recorded[recorded.length - 1];
}

function processor(store: MemoryEventStore): TenantProcessor {
  return new TenantProcessor(
    store,
    { dispatch: async () => undefined },
    TEST_CONFIG,
    () => new Date(),
    pino({ level: 'silent' }),
  );
}

function failedTenant(): TenantSim {
  const sim = new TenantSim();
  sim.request();
  sim.fail(GATING_STEPS[0].name);
  while (sim.runningSteps().length > 0) sim.succeed(sim.runningSteps()[0]);
  if (sim.state.status !== 'failed') throw new Error(`expected failed, got ${sim.state.status}`);
  return sim;
}

describe('TenantProcessor.tookEffect', () => {
  it('tells a cancellation the tenant refused (it had failed) from one it took (still provisioning)', async () => {
    const refused = new MemoryEventStore();
    expect(
      await processor(refused).tookEffect(
        PROFILE.tenantId,
        await recordWithCancellation(refused, failedTenant()),
      ),
    ).toBe(false);

    const provisioning = new TenantSim();
    provisioning.request();
    const taken = new MemoryEventStore();
    expect(
      await processor(taken).tookEffect(PROFILE.tenantId, await recordWithCancellation(taken, provisioning)),
    ).toBe(true);
  });

  it('counts the request as taken when retention hid the start of the stream', async () => {
    const store = new MemoryEventStore();
    const cancellation = await recordWithCancellation(store, failedTenant());
    await store.setStreamMetadata(stream, { truncateBefore: 2 });
    expect(await processor(store).tookEffect(PROFILE.tenantId, cancellation)).toBe(true);
  });
});
