import { randomUUID } from 'node:crypto';
import { buildMessage, type CommandMessage } from '@app/contracts';
import { MemoryEventStore } from '@app/event-store';
import type { ParkedMessage } from '@app/messaging';
import pino from 'pino';
import type { CommandContext, CommandHandlers } from './handlers';
import { ResourceServiceMetrics } from './metrics';
import { permanent, retryable } from './step-error';

const command = buildMessage(
  'ProvisionDatabases',
  { step: 'databases', tenant: { tenantId: 'shop-one-abc123' }, params: {} },
  { tenantId: 'shop-one-abc123', correlationId: 'corr', actor: 'test' },
  'cmd-1',
  new Date('2025-07-15T10:00:00.000Z'),
) as unknown as CommandMessage;
const context: CommandContext = {
  commandId: 'cmd-1',
  correlationId: 'corr',
  attempt: 1,
  logger: pino({ level: 'silent' }),
};

async function exposition(metrics: ResourceServiceMetrics): Promise<string> {
  return metrics.registry.metrics();
}

describe('ResourceServiceMetrics', () => {
  let store: MemoryEventStore;
  beforeEach(() => {
    store = new MemoryEventStore();
  });
  afterEach(() => store.close());

  it('serves process metrics labelled with the app, and the shared metric names', async () => {
    const text = await exposition(new ResourceServiceMetrics('database-service', store));
    expect(text).toMatch(/^provisioning_process_cpu_seconds_total\{app="database-service"\} /m);
    expect(text).toMatch(/^provisioning_process_resident_memory_bytes\{app="database-service"\} /m);
    for (const name of [
      'provisioning_event_store_subscription_lag_seconds',
      'provisioning_event_store_subscription_events_total',
      'provisioning_parked_messages_total',
      'provisioning_command_duration_seconds',
    ]) {
      expect(text).toContain(`# TYPE ${name} `);
    }
  });

  it('times each handler run by command and outcome, and leaves results and errors as they were', async () => {
    const metrics = new ResourceServiceMetrics('database-service', store);
    const outcomes: unknown[] = [
      { databases: 11 },
      permanent('DB.DENIED', 'denied'),
      retryable('DB.DOWN', 'down'),
    ];
    const handlers: CommandHandlers = {
      ProvisionDatabases: async () => {
        const next = outcomes.shift();
        if (next instanceof Error) throw next;
        return next as never;
      },
    };
    const instrumented = metrics.instrument(handlers);
    expect(Object.keys(instrumented)).toEqual(['ProvisionDatabases']);
    const run = () =>
      instrumented.ProvisionDatabases!(command as CommandMessage<'ProvisionDatabases'>, context);
    await expect(run()).resolves.toEqual({ databases: 11 });
    await expect(run()).rejects.toMatchObject({ code: 'DB.DENIED', retryable: false });
    await expect(run()).rejects.toMatchObject({ code: 'DB.DOWN', retryable: true });
    const text = await exposition(metrics);
    for (const outcome of ['succeeded', 'failed', 'retried']) {
      expect(text).toContain(
        `provisioning_command_duration_seconds_count{command="ProvisionDatabases",outcome="${outcome}"} 1`,
      );
    }
  });

  it('counts parked messages by queue and reason, each queue listed at 0 once subscribed', async () => {
    const metrics = new ResourceServiceMetrics('database-service', store);
    metrics.consumerObserver.subscribed?.('p.provisioning.database-service');
    let text = await exposition(metrics);
    expect(text).toContain(
      'provisioning_parked_messages_total{queue="p.provisioning.database-service",reason="retries-exhausted"} 0',
    );
    expect(text).toContain(
      'provisioning_parked_messages_total{queue="p.provisioning.database-service",reason="malformed"} 0',
    );
    metrics.consumerObserver.parked?.({
      queue: 'p.provisioning.database-service',
      reason: 'retries-exhausted',
    } as ParkedMessage);
    text = await exposition(metrics);
    expect(text).toContain(
      'provisioning_parked_messages_total{queue="p.provisioning.database-service",reason="retries-exhausted"} 1',
    );
  });

  it("reports each event store subscription's lag and deliveries, and drops it once stopped", async () => {
    const metrics = new ResourceServiceMetrics('database-service', store);
    const seen: string[] = [];
    const subscription = store.subscribe(
      { category: 'tenant' },
      { name: 'probe', fromCheckpoint: 'start', handler: async (event) => void seen.push(event.id) },
    );
    const id = randomUUID();
    await store.append('tenant-shop-one-abc123', [{ id, type: 'Probe', data: {} }], {
      expectedRevision: 'any',
    });
    for (let i = 0; i < 100 && seen.length === 0; i++)
      await new Promise((resolve) => setTimeout(resolve, 10));
    expect(seen).toEqual([id]);
    let text = await exposition(metrics);
    expect(text).toContain('provisioning_event_store_subscription_events_total{subscription="probe"} 1');
    expect(text).toMatch(/^provisioning_event_store_subscription_lag_seconds\{subscription="probe"\} \d/m);
    await subscription.stop();
    text = await exposition(metrics);
    expect(text).not.toContain('subscription="probe"');
  });
});
