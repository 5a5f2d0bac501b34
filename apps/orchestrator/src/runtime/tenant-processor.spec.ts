import { tenantStream, type TenantEvent } from '@app/contracts';
import { MemoryEventStore } from '@app/event-store';
import pino from 'pino';
import { GATING_STEPS } from '../domain';
import { lifecycleEvent, PROFILE, TEST_CONFIG, TenantSim } from '../domain/testing';
import { TenantProcessor } from './tenant-processor';

const stream = tenantStream(PROFILE.tenantId);

/** The simulated tenant's events, then billing's cancellation, in a memory store. */
async function recordWithCancellation(store: MemoryEventStore, sim: TenantSim): Promise<void> {
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
}

function processor(store: MemoryEventStore, sent: string[] = []): TenantProcessor {
  return new TenantProcessor(
    store,
    { dispatch: async (command) => void sent.push(command.type) },
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

describe('TenantProcessor on a recorded cancellation', () => {
  it('ends a failed tenant that billing cancelled as cancelled, with nothing to undo again', async () => {
    const store = new MemoryEventStore();
    await recordWithCancellation(store, failedTenant());
    const sent: string[] = [];
    const result = await processor(store, sent).process(PROFILE.tenantId);
    expect(result.state.status).toBe('cancelled');
    expect(result.appended).toBe(1);
    expect(sent).toEqual([]);
    const events = await store.readStream(stream);
    expect(events.map((event) => event.type).slice(-2)).toEqual([
      'CancellationRequested',
      'ProvisioningCancelled',
    ]);
    // Decided once: the next pass finds nothing more to do.
    expect((await processor(store).process(PROFILE.tenantId)).appended).toBe(0);
  });

  it('rolls back a tenant cancelled while it is being provisioned', async () => {
    const provisioning = new TenantSim();
    provisioning.request();
    const store = new MemoryEventStore();
    await recordWithCancellation(store, provisioning);
    const sent: string[] = [];
    const result = await processor(store, sent).process(PROFILE.tenantId);
    expect(result.state.status).toBe('rolling_back');
    expect(sent.length).toBeGreaterThan(0);
    expect(sent.every((type) => type.startsWith('Remove') || type.startsWith('Delete'))).toBe(true);
  });
});
