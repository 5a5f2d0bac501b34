import { randomBytes, randomUUID } from 'node:crypto';
import { API_INTAKE_QUEUE, BILLING_EVENTS, buildMessage, tenantStream } from '@app/contracts';
import { createEventStore, type EventStore } from '@app/event-store';
import { MessageConsumer, MessagePublisher, MessagingConnection } from '@app/messaging';
import { RabbitManagementClient } from '@app/rabbitmq-admin';
import { Client } from 'pg';
import pino from 'pino';
import { startBillingBusIntake } from './billing-bus.consumer';
import { closeIntakes, startIntake, type Intake } from './intake.test-helpers';
import { eventually } from '@app/testing';

/**
 * Billing's bus path (`billing.events`) on the real RabbitMQ and the real PostgreSQL event store: the same
 * subscription delivered over the bus and by webhook makes one tenant, and a payload intake refuses is parked
 * while the next one is handled.
 */
const DATABASE_URL =
  process.env['PROVISIONING_TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/provisioning_test';
const AMQP_URL = process.env['TEST_AMQP_URL'] ?? 'amqp://guest:guest@127.0.0.1:5672';
const MANAGEMENT_URL = process.env['RABBITMQ_MANAGEMENT_URL'] ?? 'http://127.0.0.1:15672';
const run = randomBytes(4).toString('hex');
const schema = `bus_intake_${run}`;
const logger = pino({ level: 'silent' });

describe('billing.events → intake (real RabbitMQ and PostgreSQL)', () => {
  let store: EventStore;
  let connection: MessagingConnection;
  let consumer: MessageConsumer;
  let publisher: MessagePublisher;
  let intake: Intake;
  const management = new RabbitManagementClient({
    baseUrl: MANAGEMENT_URL,
    username: 'guest',
    password: 'guest',
  });
  const queue = `bus-${run}.${API_INTAKE_QUEUE}`;

  beforeAll(async () => {
    store = await createEventStore(DATABASE_URL, { schema, logger, pollIntervalMs: 100 });
    connection = new MessagingConnection({
      url: AMQP_URL,
      connectionName: `bus-intake-${run}`,
      exchanges: {
        billingEvents: `bus-${run}.billing.events`,
        provisioningCommands: `bus-${run}.provisioning.commands`,
        tenantEvents: `bus-${run}.tenant.events`,
      },
      queuePrefix: `bus-${run}.`,
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
    for (const name of [queue, `${queue}.parked`, `${queue}.retry.1`]) {
      await management.deleteQueue('/', name).catch(() => undefined);
    }
    for (const exchange of ['billing.events', 'provisioning.commands', 'tenant.events']) {
      await fetch(`${MANAGEMENT_URL}/api/exchanges/%2F/${encodeURIComponent(`bus-${run}.${exchange}`)}`, {
        method: 'DELETE',
        headers: { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}` },
      }).catch(() => undefined);
    }
    await store?.close();
    const client = new Client({ connectionString: DATABASE_URL });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.end();
  });

  function created(subscriptionId: string, email: string) {
    return {
      event: 'subscription.created',
      timestamp: '2025-01-15T10:00:00Z',
      data: {
        subscription_id: subscriptionId,
        customer: { name: 'Bus Shop', email },
        plan: { tier: 'standard', price: 29.99, currency: 'EUR', billing_period: 'monthly' },
        metadata: { region: 'eu-west' },
      },
    };
  }

  function envelope(type: string, data: { data: { subscription_id: string } }) {
    const subscriptionId = data.data.subscription_id;
    return buildMessage(
      type,
      data,
      { tenantId: subscriptionId, correlationId: `bus-${subscriptionId}`, actor: 'billing' },
      randomUUID(),
      new Date(),
    );
  }

  it('makes one tenant of a subscription delivered over the bus (twice) and by webhook', async () => {
    const subscriptionId = `sub_bus_${run}`;
    const payload = created(subscriptionId, `owner-${run}@bus.example`);
    await publisher.publish(
      'billingEvents',
      BILLING_EVENTS.created,
      envelope(BILLING_EVENTS.created, payload),
    );
    await publisher.publish(
      'billingEvents',
      BILLING_EVENTS.created,
      envelope(BILLING_EVENTS.created, payload),
    );
    // The bus made the tenant: its first event says so.
    const first = await eventually(async () => {
      const all = await store.readAll({ filter: { category: 'tenant' }, limit: 1000 });
      return all.find((e) => e.type === 'TenantRequested');
    }, 'the tenant made from the bus');
    expect(first.data).toMatchObject({ source: 'bus', tenant: { subscriptionId } });
    const byWebhook = await intake.acceptSubscriptionCreated(payload, 'webhook');
    expect(byWebhook).toMatchObject({ duplicate: true });
    expect(tenantStream(byWebhook.tenantId)).toBe(first.streamName);
    await eventually(async () => {
      const info = await management.getQueue('/', queue);
      return info.messages === 0 && info.messagesUnacknowledged === 0 ? true : undefined;
    }, 'the intake queue to drain');
    const all = await store.readAll({ filter: { category: 'tenant' }, limit: 1000 });
    expect(all.filter((e) => e.type === 'TenantRequested')).toHaveLength(1);
  });

  it('parks a payload intake refuses and handles the next one', async () => {
    const bad = created(`sub_bad_${run}`, 'not-an-email');
    await publisher.publish('billingEvents', BILLING_EVENTS.created, envelope(BILLING_EVENTS.created, bad));
    const good = created(`sub_good_${run}`, `good-${run}@bus.example`);
    await publisher.publish('billingEvents', BILLING_EVENTS.created, envelope(BILLING_EVENTS.created, good));
    const parked = await eventually(async () => {
      const info = await management.getQueue('/', `${queue}.parked`);
      return info && info.messages >= 1 ? info : undefined;
    }, 'the refused payload to be parked');
    expect(parked.messages).toBe(1);
    // The next one was handled: its tenant is there, made by the bus, and the webhook finds it.
    await eventually(async () => {
      const all = await store.readAll({ filter: { category: 'tenant' }, limit: 1000 });
      return all.find(
        (e) =>
          e.type === 'TenantRequested' &&
          (e.data as { tenant: { subscriptionId: string } }).tenant.subscriptionId === `sub_good_${run}`,
      );
    }, 'the tenant made from the next payload');
    const accepted = await intake.acceptSubscriptionCreated(good, 'webhook');
    expect(accepted.duplicate).toBe(true);
  });
});
