import { randomBytes, randomUUID } from 'node:crypto';
import { API_INTAKE_QUEUE, BILLING_EVENTS, tenantStream } from '@app/contracts';
import { createEventStore, type EventStore, type RecordedEvent } from '@app/event-store';
import {
  billingCloudEventType,
  encodeCloudEvent,
  MessageConsumer,
  MessagePublisher,
  MessagingConnection,
  type EncodedCloudEvent,
} from '@app/messaging';
import { binaryCloudEvent, eventually, rabbit } from '@app/testing';
import { Client } from 'pg';
import pino from 'pino';
import { startBillingBusIntake } from './billing-bus.consumer';
import { closeIntakes, startIntake, type Intake } from './intake.test-helpers';

/**
 * Billing's CloudEvents on `billing.events` (real RabbitMQ in a throw-away vhost, real PostgreSQL): a
 * `com.collectverything.billing.subscription.created` event, in structured or binary mode, makes the tenant the
 * same payload makes over the webhook; an invalid CloudEvent is parked, and the next one handled.
 */
const DATABASE_URL =
  process.env['PROVISIONING_TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/provisioning_test';
const run = randomBytes(4).toString('hex');
const schema = `bus_ce_${run}`;
/** Intake's log lines, to count how often a delivery ran intake (`subscription event accepted`). */
const logLines: Array<Record<string, unknown>> = [];
const logger = pino({ level: 'info' }, { write: (line: string) => logLines.push(JSON.parse(line)) });
const CREATED = billingCloudEventType(BILLING_EVENTS.created);

let vhost: rabbit.TestVhost;
let store: EventStore;
let connection: MessagingConnection;
let consumer: MessageConsumer;
let publisher: MessagePublisher;
let intake: Intake;

function payload(subscriptionId: string, email = `owner-${subscriptionId}@bus.example`) {
  return {
    event: 'subscription.created',
    timestamp: '2025-01-15T10:00:00Z',
    data: {
      subscription_id: subscriptionId,
      customer: { name: 'Cloud Shop', email },
      plan: { tier: 'standard', price: 29.99, currency: 'EUR', billing_period: 'monthly' },
      metadata: { region: 'eu-west' },
    },
  };
}

function structured(subscriptionId: string, data: unknown = payload(subscriptionId)): EncodedCloudEvent {
  return encodeCloudEvent({
    id: randomUUID(),
    source: 'https://billing.collectverything.example/subscriptions',
    type: CREATED,
    subject: subscriptionId,
    time: new Date().toISOString(),
    data,
    correlationId: `billing-${subscriptionId}`,
  });
}

/** The AMQP binding's binary mode: attributes as `cloudEvents:` application properties, the data as the body. */
function binary(subscriptionId: string, id: string = randomUUID()): EncodedCloudEvent {
  const attributes = {
    id,
    type: CREATED,
    source: '/billing',
    subject: subscriptionId,
    time: new Date().toISOString(),
  };
  return binaryCloudEvent(attributes, payload(subscriptionId));
}

async function requested(subscriptionId: string): Promise<RecordedEvent[]> {
  const all = await store.readAll({ filter: { category: 'tenant' }, limit: 10_000 });
  return all.filter(
    (e) =>
      e.type === 'TenantRequested' &&
      (e.data as { tenant: { subscriptionId: string } }).tenant.subscriptionId === subscriptionId,
  );
}

async function queueInfo(name: string) {
  return rabbit.management().getQueue(vhost.vhost, name);
}

beforeAll(async () => {
  vhost = await rabbit.createTestVhost('billing-ce');
  store = await createEventStore(DATABASE_URL, { schema, logger, pollIntervalMs: 100 });
  connection = new MessagingConnection({
    url: vhost.url,
    connectionName: `billing-ce-${run}`,
    retry: { maxAttempts: 2, initialDelayMs: 50, maxDelayMs: 100 },
    logger,
  });
  await connection.connect();
  consumer = new MessageConsumer(connection);
  publisher = new MessagePublisher(connection);
  intake = await startIntake(store, { gracePeriodDays: 30 });
  await startBillingBusIntake(intake.commandBus, consumer, logger);
});

afterAll(async () => {
  await consumer?.stop(500);
  await closeIntakes();
  await connection?.close();
  await vhost?.cleanup();
  await store?.close();
  const client = new Client({ connectionString: DATABASE_URL });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await client.end();
});

describe('billing CloudEvents on billing.events → intake', () => {
  it('makes one tenant of a structured CloudEvent delivered twice, which the webhook then finds', async () => {
    const subscriptionId = `sub_ce_${run}`;
    const event = structured(subscriptionId);
    await publisher.publishCloudEvent('billingEvents', BILLING_EVENTS.created, event);
    await publisher.publishCloudEvent('billingEvents', BILLING_EVENTS.created, event);
    const [first] = await eventually(
      async () => ((await requested(subscriptionId)).length > 0 ? requested(subscriptionId) : undefined),
      'the tenant made from the CloudEvent',
    );
    expect(first.data).toMatchObject({ source: 'bus', tenant: { subscriptionId } });
    const byWebhook = await intake.acceptSubscriptionCreated(payload(subscriptionId), 'webhook');
    expect(byWebhook.duplicate).toBe(true);
    expect(tenantStream(byWebhook.tenantId)).toBe(first.streamName);
    await eventually(async () => {
      const info = await queueInfo(API_INTAKE_QUEUE);
      return info.messages === 0 && info.messagesUnacknowledged === 0 ? true : undefined;
    }, 'the intake queue to drain');
    expect(await requested(subscriptionId)).toHaveLength(1);
  });

  it('runs intake once for copies of one CloudEvent id, structured or binary, under other AMQP message ids', async () => {
    const subscriptionId = `sub_ce_dup_${run}`;
    const event = structured(subscriptionId);
    const copy = binary(subscriptionId, event.id);
    await publisher.publishCloudEvent('billingEvents', BILLING_EVENTS.created, event);
    await publisher.publishCloudEvent('billingEvents', BILLING_EVENTS.created, {
      ...event,
      properties: { ...event.properties, messageId: randomUUID() },
    });
    await publisher.publishCloudEvent('billingEvents', BILLING_EVENTS.created, copy);
    const [first] = await eventually(
      async () => ((await requested(subscriptionId)).length > 0 ? requested(subscriptionId) : undefined),
      'the tenant made from the CloudEvent',
    );
    await eventually(async () => {
      const info = await queueInfo(API_INTAKE_QUEUE);
      return info.messages === 0 && info.messagesUnacknowledged === 0 ? true : undefined;
    }, 'the intake queue to drain');
    const accepted = logLines.filter(
      (line) => line.msg === 'subscription event accepted' && line.tenantId === first.metadata.tenantId,
    );
    expect(accepted).toHaveLength(1);
  });

  it('accepts the binary mode (cloudEvents: application properties, data as the body)', async () => {
    const subscriptionId = `sub_ce_bin_${run}`;
    await publisher.publishCloudEvent('billingEvents', BILLING_EVENTS.created, binary(subscriptionId));
    const [made] = await eventually(
      async () => ((await requested(subscriptionId)).length > 0 ? requested(subscriptionId) : undefined),
      'the tenant made from the binary CloudEvent',
    );
    expect(made.data).toMatchObject({ source: 'bus', tenant: { subscriptionId } });
  });

  it('parks an invalid CloudEvent and a payload intake refuses, and handles the next one', async () => {
    const invalid = structured(`sub_ce_invalid_${run}`);
    const body = JSON.parse(invalid.body.toString('utf8')) as Record<string, unknown>;
    delete body.source;
    await publisher.publishCloudEvent('billingEvents', BILLING_EVENTS.created, {
      ...invalid,
      body: Buffer.from(JSON.stringify(body)),
    });
    const refused = `sub_ce_refused_${run}`;
    await publisher.publishCloudEvent(
      'billingEvents',
      BILLING_EVENTS.created,
      structured(refused, payload(refused, 'not-an-email')),
    );
    const good = `sub_ce_good_${run}`;
    await publisher.publishCloudEvent('billingEvents', BILLING_EVENTS.created, structured(good));
    await eventually(
      async () => ((await requested(good)).length === 1 ? true : undefined),
      'the tenant made from the next CloudEvent',
    );
    const parked = await eventually(async () => {
      const info = await queueInfo(`${API_INTAKE_QUEUE}.parked`);
      return info.messages >= 2 ? info : undefined;
    }, 'the invalid CloudEvent and the refused payload parked');
    expect(parked.messages).toBe(2);
    expect(await requested(refused)).toHaveLength(0);
  });
});
