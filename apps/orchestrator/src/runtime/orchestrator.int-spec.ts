import { randomBytes } from 'node:crypto';
import {
  COMMAND_CATALOG,
  COMMAND_TYPES,
  generateTenantId,
  INTEGRATION_EVENTS,
  RESOURCE_SERVICES,
  tenantStream,
  type CommandType,
  type LifecycleEventData,
  type MessageMetadata,
  type ResourceService,
  type StepOutputs,
  type TenantProfile,
} from '@app/contracts';
import { createEventStore, type EventData, type EventStore, type RecordedEvent } from '@app/event-store';
import {
  decodeIntegrationDelivery,
  MessageConsumer,
  MessagePublisher,
  MessagingConnection,
  MessagingError,
} from '@app/messaging';
import { createLogger, permanent, startResourceService, type CommandHandlers } from '@app/platform';
import { eventually, readAllWhenVisible } from '@app/testing';
import { Client } from 'pg';
import type { DeciderConfig } from '../domain';
import { Orchestrator, type OrchestratorOptions } from './orchestrator';
import { TenantProcessor } from './tenant-processor';

/**
 * The orchestrator runtime against the real PostgreSQL event store and the real RabbitMQ, with the six
 * resource services stood in by small handlers consuming their real queues.
 */
const PG_URL = process.env.TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/provisioning_test';
const AMQP_URL = process.env.TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const logger = createLogger('orchestrator-int-test', process.env.TEST_LOG_LEVEL ?? 'silent');

type Behaviour = 'succeed' | 'fail' | 'silent';

interface Stack {
  eventStore: EventStore;
  connections: MessagingConnection[];
  consumers: MessageConsumer[];
  orchestrators: Orchestrator[];
  behaviour: Map<CommandType, Behaviour>;
  handled: CommandType[];
  startOrchestrator(
    wrap?: (publisher: MessagePublisher) => MessagePublisher,
    store?: EventStore,
    extra?: Partial<OrchestratorOptions>,
  ): Promise<Orchestrator>;
  stop(): Promise<void>;
}

const run = randomBytes(4).toString('hex');
const schema = `orch_it_${run}`;
const exchanges = {
  billingEvents: `it-${run}.billing.events`,
  provisioningCommands: `it-${run}.provisioning.commands`,
  tenantEvents: `it-${run}.tenant.events`,
};

const deciderConfig: DeciderConfig = {
  maxAttempts: 1,
  compensationMaxAttempts: 2,
  gracePeriodDays: 30,
  purgeRetryDelaySeconds: 60,
  // Production deadlines, so that a loaded two-core CI machine always answers a healthy step in time; only the
  // broker's is short, for the test whose broker never answers.
  deadlineSeconds: { ProvisionBroker: 8 },
};

function connection(name: string): MessagingConnection {
  return new MessagingConnection({
    url: AMQP_URL,
    connectionName: `${name}-${run}`,
    exchanges,
    queuePrefix: `it-${run}`,
    retry: { maxAttempts: 2, initialDelayMs: 50, maxDelayMs: 100 },
    logger,
  });
}

async function startStack(eventStore: EventStore): Promise<Stack> {
  const behaviour = new Map<CommandType, Behaviour>();
  const handled: CommandType[] = [];
  const connections: MessagingConnection[] = [];
  const consumers: MessageConsumer[] = [];
  const orchestrators: Orchestrator[] = [];

  for (const service of RESOURCE_SERVICES) {
    const conn = connection(`svc-${service}`);
    await conn.connect();
    connections.push(conn);
    const consumer = new MessageConsumer(conn);
    consumers.push(consumer);
    const handlers: CommandHandlers = {};
    for (const type of COMMAND_TYPES.filter(
      (t) => COMMAND_CATALOG[t].service === (service as ResourceService),
    )) {
      handlers[type] = async (command): Promise<StepOutputs> => {
        const mode = behaviour.get(type) ?? 'succeed';
        handled.push(type);
        if (mode === 'fail') throw permanent('TEST.INJECTED', `injected failure of ${type}`);
        if (mode === 'silent') return new Promise<StepOutputs>(() => undefined);
        return type === 'CreateWebsiteRecord' ? { websiteId: 789 } : { step: command.data.step };
      };
    }
    await startResourceService({ service, handlers, eventStore, consumer, logger });
  }

  const startOrchestrator = async (
    wrap = (publisher: MessagePublisher) => publisher,
    store: EventStore = eventStore,
    extra: Partial<OrchestratorOptions> = {},
  ) => {
    const conn = connection('orchestrator');
    await conn.connect();
    connections.push(conn);
    const orchestrator = new Orchestrator({
      eventStore: store,
      publisher: wrap(new MessagePublisher(conn)),
      decider: deciderConfig,
      clock: () => new Date(),
      logger,
      timerIntervalMs: 100,
      ...extra,
    });
    await orchestrator.start();
    orchestrators.push(orchestrator);
    return orchestrator;
  };

  return {
    eventStore,
    connections,
    consumers,
    orchestrators,
    behaviour,
    handled,
    startOrchestrator,
    async stop() {
      for (const orchestrator of orchestrators) await orchestrator.stop();
      for (const consumer of consumers) await consumer.stop(200);
      for (const conn of connections) await conn.close();
    },
  };
}

function profile(): TenantProfile {
  const tenantId = generateTenantId('Integration Test Co', randomBytes(3).toString('hex'));
  return {
    tenantId,
    companyName: 'Integration Test Co',
    adminEmail: 'admin@example.com',
    billingEmail: 'billing@example.com',
    tier: 'premium',
    region: 'eu-west',
    domain: `${tenantId}.collectverything.com`,
    subscriptionId: `sub_${tenantId.replace(/-/g, '_')}`,
    plan: { price: 124.99, currency: 'EUR', billingPeriod: 'monthly' },
    createdAt: new Date().toISOString(),
  };
}

async function request(eventStore: EventStore, tenant: TenantProfile): Promise<void> {
  const data: LifecycleEventData['TenantRequested'] = { tenant, source: 'webhook' };
  const id = `00000000-0000-4000-8000-${randomBytes(6).toString('hex')}`;
  const event: EventData<LifecycleEventData['TenantRequested'], MessageMetadata> = {
    id,
    type: 'TenantRequested',
    data,
    metadata: {
      messageId: id,
      schemaVersion: 1,
      occurredAt: new Date().toISOString(),
      tenantId: tenant.tenantId,
      correlationId: id,
      causationId: null,
      actor: 'test',
    },
  };
  await eventStore.append(tenantStream(tenant.tenantId), [event], { expectedRevision: 'no_stream' });
}

/** `after`: 0 to cancel right after the request (a race), 'any' for a tenant already under way. */
async function cancel(eventStore: EventStore, tenant: TenantProfile, after: 0 | 'any' = 0): Promise<void> {
  const now = new Date().toISOString();
  const data: LifecycleEventData['CancellationRequested'] = {
    subscriptionId: tenant.subscriptionId,
    reason: 'race',
    requestedAt: now,
    deletionDate: now,
    requestedBy: 'billing',
  };
  const id = `00000000-0000-4000-8000-${randomBytes(6).toString('hex')}`;
  const event: EventData<LifecycleEventData['CancellationRequested'], MessageMetadata> = {
    id,
    type: 'CancellationRequested',
    data,
    metadata: {
      messageId: id,
      schemaVersion: 1,
      occurredAt: now,
      tenantId: tenant.tenantId,
      correlationId: id,
      causationId: null,
      actor: 'test',
    },
  };
  await eventStore.append(tenantStream(tenant.tenantId), [event], { expectedRevision: after });
}

async function waitFor(
  eventStore: EventStore,
  tenantId: string,
  type: string,
  timeoutMs = 40_000,
): Promise<RecordedEvent[]> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const events = await eventStore.readStream(tenantStream(tenantId));
    if (events.some((e) => e.type === type)) return events;
    if (Date.now() > until) {
      throw new Error(`timed out waiting for ${type}; stream has: ${events.map((e) => e.type).join(', ')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const types = (events: RecordedEvent[]) => events.map((e) => e.type);
const indexOf = (events: RecordedEvent[], type: string) => types(events).indexOf(type);

describe('orchestrator runtime (PostgreSQL event store, RabbitMQ)', () => {
  let eventStore: EventStore;
  let stack: Stack;

  /**
   * A process that appends its decisions and dies before publishing them (its dispatcher never sends). It
   * decides with every production deadline, the broker's too, so nothing times out before a resend.
   */
  const crashedWriter = () =>
    new TenantProcessor(
      eventStore,
      { dispatch: async () => undefined },
      { ...deciderConfig, deadlineSeconds: {} },
      () => new Date(),
      logger,
    );

  beforeAll(async () => {
    if (!/test/.test(new URL(PG_URL).pathname))
      throw new Error('refusing to run against a non-test database');
    eventStore = await createEventStore(PG_URL, { schema });
    stack = await startStack(eventStore);
    await stack.startOrchestrator();
  });

  afterAll(async () => {
    await stack?.stop();
    await eventStore?.close();
    const client = new Client({ connectionString: PG_URL });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await client.end();
    const mgmt = 'http://127.0.0.1:15672/api';
    const auth = { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}` };
    const queues = (await (await fetch(`${mgmt}/queues/%2F`, { headers: auth })).json()) as {
      name: string;
    }[];
    for (const q of queues.filter((q) => q.name.startsWith(`it-${run}`))) {
      await fetch(`${mgmt}/queues/%2F/${encodeURIComponent(q.name)}`, { method: 'DELETE', headers: auth });
    }
    for (const name of Object.values(exchanges)) {
      await fetch(`${mgmt}/exchanges/%2F/${encodeURIComponent(name)}`, { method: 'DELETE', headers: auth });
    }
  });

  beforeEach(() => stack.behaviour.clear());

  it('takes a requested tenant to active, running independent steps in parallel', async () => {
    const tenant = profile();
    await request(eventStore, tenant);
    const events = await waitFor(eventStore, tenant.tenantId, 'WelcomeEmailSent');
    const all = types(events);
    expect(all).toContain('TenantActivated');
    const independent = ['namespace', 'databases', 'storage', 'broker'];
    const starts = events
      .map((e, i) => ({ e, i }))
      .filter(({ e }) => e.type === 'StepStarted' && independent.includes((e.data as { step: string }).step))
      .map(({ i }) => i);
    expect(starts).toHaveLength(4);
    const firstResult = Math.min(
      ...['NamespaceProvisioned', 'DatabasesProvisioned', 'StorageProvisioned', 'BrokerProvisioned'].map(
        (t) => indexOf(events, t),
      ),
    );
    // the four independent steps are all started before any of them has finished
    expect(Math.max(...starts)).toBeLessThan(firstResult);
    expect(indexOf(events, 'WorkloadsDeployed')).toBeGreaterThan(indexOf(events, 'DatabasesProvisioned'));
    expect(indexOf(events, 'TenantActivated')).toBeGreaterThan(indexOf(events, 'KubernetesVerified'));
    expect(all).not.toContain('RollbackStarted');
  });

  it('rolls back every completed step when one fails for good', async () => {
    stack.behaviour.set('DeployWorkloads', 'fail');
    const tenant = profile();
    await request(eventStore, tenant);
    const events = await waitFor(eventStore, tenant.tenantId, 'TenantProvisioningFailed');
    const all = types(events);
    expect(all).toContain('WorkloadsDeploymentFailed');
    expect(all).toContain('RollbackStarted');
    for (const removed of ['NamespaceRemoved', 'DatabasesRemoved', 'StorageRemoved', 'BrokerRemoved']) {
      expect(all).toContain(removed);
    }
    expect(all).not.toContain('TenantActivated');
  });

  it('treats a step that never answers as failed at its deadline and rolls back', async () => {
    stack.behaviour.set('ProvisionBroker', 'silent');
    const tenant = profile();
    await request(eventStore, tenant);
    const events = await waitFor(eventStore, tenant.tenantId, 'TenantProvisioningFailed', 60_000);
    const all = types(events);
    expect(all).toContain('StepTimedOut');
    expect(all).toContain('DatabasesRemoved');
    expect(all).toContain('BrokerRemoved');
  });

  it('completes a tenant after the orchestrator stops mid-flight, with two instances racing', async () => {
    const tenant = profile();
    await request(eventStore, tenant);
    await waitFor(eventStore, tenant.tenantId, 'DatabasesProvisioned');
    for (const orchestrator of stack.orchestrators.splice(0)) await orchestrator.stop();
    // Two instances start at once on the same streams: they must never issue conflicting decisions.
    await Promise.all([stack.startOrchestrator(), stack.startOrchestrator()]);
    const events = await waitFor(eventStore, tenant.tenantId, 'WelcomeEmailSent', 60_000);
    const started = events
      .filter((e) => e.type === 'StepStarted')
      .map((e) => (e.data as { commandId: string }).commandId);
    expect(new Set(started).size).toBe(started.length);
    expect(events.filter((e) => e.type === 'TenantActivated')).toHaveLength(1);
    expect(types(events)).not.toContain('RollbackStarted');
  });

  it('sends on start what a crash left decided but unsent, for every tenant', async () => {
    for (const orchestrator of stack.orchestrators.splice(0)) await orchestrator.stop();
    // Twelve tenants decided one after the other, then a start-up: with production deadlines nothing times out
    // before the restarted orchestrator sends them (what this test is about is the sending).
    const crashed = crashedWriter();
    const tenants = Array.from({ length: 12 }, () => profile());
    for (const tenant of tenants) {
      await request(eventStore, tenant);
      expect((await crashed.process(tenant.tenantId)).appended).toBeGreaterThan(0);
    }
    await stack.startOrchestrator();
    for (const tenant of tenants) {
      const events = await waitFor(eventStore, tenant.tenantId, 'WelcomeEmailSent', 60_000);
      expect(events.filter((e) => e.type === 'TenantActivated')).toHaveLength(1);
    }
  });

  it('sends what a crash left unsent for a tenant its start-up read did not see', async () => {
    for (const orchestrator of stack.orchestrators.splice(0)) await orchestrator.stop();
    const crashed = crashedWriter();
    const tenant = profile();
    await request(eventStore, tenant);
    expect((await crashed.process(tenant.tenantId)).appended).toBeGreaterThan(0);
    // The start-up read misses the tenant, as PostgreSQL's visibility horizon can hide the last commits for a
    // moment: the orchestrator first hears of it through its subscription. Production deadlines: without a
    // resend the steps would wait 60 s and more for results that never come.
    const blind = Object.create(eventStore) as EventStore;
    blind.readAll = async () => [];
    await stack.startOrchestrator(undefined, blind);
    const events = await waitFor(eventStore, tenant.tenantId, 'WelcomeEmailSent', 30_000);
    expect(events.filter((e) => e.type === 'TenantActivated')).toHaveLength(1);
    expect(types(events)).not.toContain('StepTimedOut');
  });

  it('sends again, at once, the commands of a dispatch that failed after its decisions were appended', async () => {
    for (const orchestrator of stack.orchestrators.splice(0)) await orchestrator.stop();
    let refusals = 1;
    await stack.startOrchestrator((publisher) => {
      const flaky = Object.create(publisher) as MessagePublisher;
      flaky.publish = async (...args: Parameters<MessagePublisher['publish']>) => {
        // A later step's dispatch: the tenant is known by then, so only a reconcile after the failure resends.
        if ((args[2] as { type: string }).type === 'DeployWorkloads' && refusals > 0) {
          refusals -= 1;
          throw new MessagingError('MESSAGING.PUBLISH_TIMEOUT', 'not confirmed (injected)');
        }
        return publisher.publish(...args);
      };
      return flaky;
    });
    const tenant = profile();
    await request(eventStore, tenant);
    // Production deadlines: without a resend the first steps would wait 60 s and more, then time out.
    const events = await waitFor(eventStore, tenant.tenantId, 'WelcomeEmailSent', 30_000);
    expect(refusals).toBe(0);
    expect(types(events)).not.toContain('StepTimedOut');
  });

  it('starts although one tenant cannot be read at first, and decides that tenant once it can', async () => {
    for (const orchestrator of stack.orchestrators.splice(0)) await orchestrator.stop();
    const tenant = profile();
    await request(eventStore, tenant);
    await readAllWhenVisible(eventStore, { streamPrefix: tenantStream(tenant.tenantId) }, 1);
    let failures = 1;
    const flaky = Object.create(eventStore) as EventStore;
    flaky.readStream = async (...args: Parameters<EventStore['readStream']>) => {
      if (args[0] === tenantStream(tenant.tenantId) && failures > 0) {
        failures -= 1;
        throw new Error('read failed (injected)');
      }
      return eventStore.readStream(...args);
    };
    await stack.startOrchestrator(undefined, flaky);
    const events = await waitFor(eventStore, tenant.tenantId, 'WelcomeEmailSent', 30_000);
    expect(failures).toBe(0);
    expect(events.filter((e) => e.type === 'TenantActivated')).toHaveLength(1);
  });

  it('is ready while it follows the streams, and reports a subscription that stopped on an error', async () => {
    for (const orchestrator of stack.orchestrators.splice(0)) await orchestrator.stop();
    const healthy = await stack.startOrchestrator();
    expect(healthy.isReady()).toBe(true);
    await healthy.stop();
    expect(healthy.isReady()).toBe(false);
    stack.orchestrators.splice(0);

    // A handler failure the orchestrator does not expect stops its subscription: main.ts exits on onFatal.
    const broken = Object.create(eventStore) as EventStore;
    broken.subscribe = (target, options) =>
      eventStore.subscribe(target, {
        ...options,
        handler: async () => {
          throw new Error('injected handler failure');
        },
      });
    const fatal: unknown[] = [];
    const orchestrator = await stack.startOrchestrator(undefined, broken, { onFatal: (e) => fatal.push(e) });
    await request(eventStore, profile());
    await eventually(async () => (fatal.length > 0 ? true : undefined), 'the fatal report');
    expect(String(fatal[0])).toContain('injected handler failure');
    expect(orchestrator.isReady()).toBe(false);
    for (const stopped of stack.orchestrators.splice(0)) await stopped.stop();
    await stack.startOrchestrator();
  });

  it('publishes the integration events on tenant.events, retrying until the broker takes them', async () => {
    // A tap on tenant.events, as billing or a CRM would bind.
    const tapConnection = connection('tap');
    await tapConnection.connect();
    stack.connections.push(tapConnection);
    const tap = new MessageConsumer(tapConnection);
    stack.consumers.push(tap);
    const heard: { type: string; tenantId: string; messageId: string }[] = [];
    const record = {
      handle: async (message: { type: string; data: unknown; metadata: MessageMetadata }) => {
        heard.push({
          type: message.type,
          tenantId: (message.data as { tenantId: string }).tenantId,
          messageId: message.metadata.messageId,
        });
      },
    };
    await tap.subscribe({
      queue: 'integration-tap',
      bindings: [{ exchange: 'tenantEvents', routingKey: '#' }],
      // Integration events are CloudEvents: the decoder hands the handlers the envelope keyed by their id.
      decode: decodeIntegrationDelivery,
      handlers: Object.fromEntries(Object.values(INTEGRATION_EVENTS).map((type) => [type, record])),
    });

    // The broker refuses the first integration publishes (an outage): they are retried, not dropped.
    for (const orchestrator of stack.orchestrators.splice(0)) await orchestrator.stop();
    let refusals = 3;
    await stack.startOrchestrator((publisher) => {
      const flaky = Object.create(publisher) as MessagePublisher;
      flaky.publishCloudEvent = async (...args: Parameters<MessagePublisher['publishCloudEvent']>) => {
        if (args[0] === 'tenantEvents' && refusals > 0) {
          refusals -= 1;
          throw new Error('broker unavailable (injected)');
        }
        return publisher.publishCloudEvent(...args);
      };
      return flaky;
    });
    const ok = profile();
    await request(eventStore, ok);
    await waitFor(eventStore, ok.tenantId, 'TenantActivated');
    stack.behaviour.set('DeployWorkloads', 'fail');
    const failing = profile();
    await request(eventStore, failing);
    await waitFor(eventStore, failing.tenantId, 'TenantProvisioningFailed');

    const deadline = Date.now() + 20_000;
    const of = (tenantId: string) => heard.filter((h) => h.tenantId === tenantId).map((h) => h.type);
    while (Date.now() < deadline && (of(ok.tenantId).length < 1 || of(failing.tenantId).length < 1)) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(refusals).toBe(0);
    expect(of(ok.tenantId)).toEqual([INTEGRATION_EVENTS.activated]);
    expect(of(failing.tenantId)).toEqual([INTEGRATION_EVENTS.provisioningFailed]);

    // Billing cancels both. Every recorded request takes effect: the failed tenant's cancellation ends it as
    // cancelled (nothing left to delete), so billing hears it started and ended; the active tenant's starts
    // its grace period.
    await cancel(eventStore, failing, 'any');
    await cancel(eventStore, ok, 'any');
    await eventually(
      async () => (of(ok.tenantId).includes(INTEGRATION_EVENTS.deprovisioningStarted) ? true : undefined),
      "the active tenant's deprovisioning_started",
    );
    expect(of(ok.tenantId).slice(0, 2)).toEqual([
      INTEGRATION_EVENTS.activated,
      INTEGRATION_EVENTS.deprovisioningStarted,
    ]);
    await eventually(
      async () => (of(failing.tenantId).includes(INTEGRATION_EVENTS.deprovisioned) ? true : undefined),
      "the failed tenant's deprovisioned",
    );
    expect(of(failing.tenantId)).toEqual([
      INTEGRATION_EVENTS.provisioningFailed,
      INTEGRATION_EVENTS.deprovisioningStarted,
      INTEGRATION_EVENTS.deprovisioned,
    ]);
  });

  it('skips an integration event that can never be published, instead of stopping every tenant', async () => {
    for (const orchestrator of stack.orchestrators.splice(0)) await orchestrator.stop();
    let refused = 0;
    await stack.startOrchestrator((publisher) => {
      const broken = Object.create(publisher) as MessagePublisher;
      broken.publishCloudEvent = async (...args: Parameters<MessagePublisher['publishCloudEvent']>) => {
        if (args[0] !== 'tenantEvents') return publisher.publishCloudEvent(...args);
        refused += 1;
        throw new MessagingError('MESSAGING.INVALID_MESSAGE', 'message is not valid (injected)');
      };
      return broken;
    });
    const first = profile();
    await request(eventStore, first);
    await waitFor(eventStore, first.tenantId, 'TenantActivated');
    // A tenant requested after it is only seen through the subscription: it moves only if the subscription
    // went past the refused publish of the first tenant's activation.
    const second = profile();
    await request(eventStore, second);
    await waitFor(eventStore, second.tenantId, 'TenantActivated');
    // The activation is in the stream before the orchestrator, hearing it, tries to publish it.
    await eventually(async () => (refused >= 2 ? true : undefined), "the second tenant's activation publish");
  });

  it('never issues conflicting decisions: a writer that lost the append race decides again on the new state', async () => {
    for (const orchestrator of stack.orchestrators.splice(0)) await orchestrator.stop();
    const sent: string[] = [];
    const tenant = profile();
    await request(eventStore, tenant);
    // Between this instance's read and its append, billing cancels the subscription (intake appends).
    let appends = 0;
    const racing = Object.create(eventStore) as EventStore;
    racing.append = async (...args: Parameters<EventStore['append']>) => {
      appends += 1;
      if (appends === 1) await cancel(eventStore, tenant);
      return eventStore.append(...args);
    };
    const processor = new TenantProcessor(
      racing,
      { dispatch: async (command) => void sent.push(command.metadata.messageId) },
      deciderConfig,
      () => new Date(),
      logger,
    );
    await processor.process(tenant.tenantId);

    // The first append (four steps decided before the cancellation) was refused; nothing of it was sent,
    // and what was decided again follows the cancellation.
    expect(appends).toBeGreaterThanOrEqual(2);
    const events = await eventStore.readStream(tenantStream(tenant.tenantId));
    expect(events[1].type).toBe('CancellationRequested');
    const started = events.filter((e) => e.type === 'StepStarted');
    expect(started.map((e) => (e.data as { commandId: string }).commandId).sort()).toEqual([...sent].sort());
    expect(started).toHaveLength(0);
  });
});
