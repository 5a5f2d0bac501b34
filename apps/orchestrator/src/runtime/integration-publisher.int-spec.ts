import { randomBytes } from 'node:crypto';
import { deterministicId, ORCHESTRATOR_CHECKPOINT_STREAM, tenantStream } from '@app/contracts';
import { createEventStore, type EventStore } from '@app/event-store';
import {
  decodeIntegrationDelivery,
  INTEGRATION_EVENT_SOURCE,
  MessagePublisher,
  MessagingConnection,
} from '@app/messaging';
import { createLogger } from '@app/platform';
import { TenantStreamBuilder } from '@app/tenancy';
import { eventually, rabbit } from '@app/testing';
import { CloudEvent, HTTP } from 'cloudevents';
import { Client } from 'pg';
import { Orchestrator } from './orchestrator';

/**
 * The integration events as CloudEvents, on the real RabbitMQ (a throw-away vhost) and the real PostgreSQL
 * event store: the orchestrator follows an activated tenant's stream and publishes `tenant.activated`; what
 * reaches a queue bound to `tenant.events` is read raw through the management API and parsed by the SDK.
 */
const PG_URL = process.env.TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/provisioning_test';
const logger = createLogger('integration-publisher-int-test', process.env.TEST_LOG_LEVEL ?? 'silent');
const run = randomBytes(4).toString('hex');
const schema = `ce_it_${run}`;
const TAP = 'integration-tap';
const auth = `Basic ${Buffer.from(`${rabbit.ADMIN_USER}:${rabbit.ADMIN_PASSWORD}`).toString('base64')}`;

interface RawMessage {
  payload: string;
  routing_key: string;
  properties: {
    content_type?: string;
    message_id?: string;
    type?: string;
    headers?: Record<string, unknown>;
  };
}

let vhost: rabbit.TestVhost;
let store: EventStore;
let connection: MessagingConnection;

/** Takes up to `count` messages off the tap (acknowledged: each is read once). */
async function take(count: number): Promise<RawMessage[]> {
  const path = `/api/queues/${encodeURIComponent(vhost.vhost)}/${TAP}/get`;
  const response = await fetch(`${rabbit.MANAGEMENT_URL}${path}`, {
    method: 'POST',
    headers: { authorization: auth, 'content-type': 'application/json' },
    body: JSON.stringify({ count, ackmode: 'ack_requeue_false', encoding: 'auto' }),
  });
  if (!response.ok) throw new Error(`management get answered ${response.status}`);
  return (await response.json()) as RawMessage[];
}

async function nextMessage(what: string): Promise<RawMessage> {
  return eventually(async () => (await take(1))[0], what);
}

async function startOrchestrator(): Promise<Orchestrator> {
  const orchestrator = new Orchestrator({
    eventStore: store,
    publisher: new MessagePublisher(connection),
    decider: { maxAttempts: 1, compensationMaxAttempts: 1, gracePeriodDays: 30, purgeRetryDelaySeconds: 60 },
    clock: () => new Date(),
    logger,
    timerIntervalMs: 1000,
  });
  await orchestrator.start();
  return orchestrator;
}

beforeAll(async () => {
  vhost = await rabbit.createTestVhost('ce-integration');
  store = await createEventStore(PG_URL, { schema, logger, pollIntervalMs: 100 });
  connection = new MessagingConnection({ url: vhost.url, connectionName: `ce-it-${run}`, logger });
  await connection.connect();
  // The publisher declares the exchanges; the tap is what billing or a CRM would bind.
  const publisher = new MessagePublisher(connection);
  await eventually(async () => (publisher.isOpen() ? true : undefined), 'the publisher channel');
  const management = rabbit.management();
  await eventually(
    async () => ((await management.getExchange(vhost.vhost, 'tenant.events')) ? true : undefined),
    'tenant.events declared',
  );
  await management.declareQueue(vhost.vhost, { name: TAP, durable: false });
  await management.createBinding(vhost.vhost, { source: 'tenant.events', destination: TAP, routingKey: '#' });
});

afterAll(async () => {
  await connection?.close();
  await store?.close();
  await vhost?.cleanup();
  const client = new Client({ connectionString: PG_URL });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await client.end();
});

describe('integration events as CloudEvents 1.0 (real RabbitMQ and PostgreSQL)', () => {
  it('publishes tenant.activated in structured mode, and the same event again with the same id', async () => {
    const builder = new TenantStreamBuilder(
      `ce-shop-${randomBytes(3).toString('hex')}`,
      '2025-01-15T10:00:00Z',
    ).activeTenant();
    await builder.appendTo(store);
    const [activation] = (await store.readStream(tenantStream(builder.tenantId))).filter(
      (event) => event.type === 'TenantActivated',
    );

    let orchestrator = await startOrchestrator();
    const first = await nextMessage('tenant.activated on tenant.events');
    await orchestrator.stop();

    expect(first.routing_key).toBe('tenant.activated');
    expect(first.properties.content_type).toBe('application/cloudevents+json; charset=utf-8');
    const parsed = HTTP.toEvent({
      headers: { 'content-type': first.properties.content_type },
      body: first.payload,
    });
    if (Array.isArray(parsed)) throw new Error('a batch where one event was expected');
    // The SDK's parser does not validate: its strict constructor does (and throws on an invalid event).
    const event = new CloudEvent(parsed);
    expect(event.validate()).toBe(true);
    const id = deterministicId('integration', activation.id);
    expect(JSON.parse(JSON.stringify(event))).toEqual({
      specversion: '1.0',
      id,
      source: INTEGRATION_EVENT_SOURCE,
      type: 'com.collectverything.tenant.activated',
      subject: builder.tenantId,
      time: activation.metadata.occurredAt,
      datacontenttype: 'application/json',
      data: { tenantId: builder.tenantId, event: 'TenantActivated', ...(activation.data as object) },
      correlationid: activation.metadata.correlationId,
      causationid: activation.id,
    });
    // The AMQP message id is the CloudEvent id, and the binding's attributes are readable without the body.
    expect(first.properties.message_id).toBe(id);
    expect(first.properties.headers).toMatchObject({
      'cloudEvents:id': id,
      'cloudEvents:type': 'com.collectverything.tenant.activated',
      'cloudEvents:subject': builder.tenantId,
    });
    // The library's decoder gives consumers the envelope their handlers take, keyed by the same id.
    const decoded = decodeIntegrationDelivery(Buffer.from(first.payload), {
      contentType: first.properties.content_type,
      headers: first.properties.headers,
    });
    expect(decoded).toMatchObject({
      ok: true,
      message: { type: 'tenant.activated', metadata: { messageId: id, tenantId: builder.tenantId } },
    });

    // A replay (the checkpoint lost, a second instance, a restore) publishes the event again: same id, same body.
    await store.setStreamMetadata(ORCHESTRATOR_CHECKPOINT_STREAM, { checkpoint: 'start' });
    orchestrator = await startOrchestrator();
    const again = await nextMessage('tenant.activated published again');
    await orchestrator.stop();
    expect(again.properties.message_id).toBe(id);
    expect(again.payload).toBe(first.payload);
  });
});
