import { randomUUID } from 'node:crypto';
import { BILLING_EVENTS, INTEGRATION_EVENTS } from '@app/contracts';
import { binaryCloudEvent, rabbit } from '@app/testing';
import {
  billingCloudEventType,
  decodeBillingDelivery,
  decodeIntegrationDelivery,
  encodeCloudEvent,
  INTEGRATION_EVENT_SOURCE,
  integrationCloudEventType,
  type EncodedCloudEvent,
} from './cloudevents';
import { MessagingConnection } from './connection';
import { MessageConsumer } from './consumer';
import type { Message } from './envelope';
import { MessagePublisher } from './publisher';
import type { MessageHandler } from './subscription';

const { createTestVhost, eventually, testLogger, uniqueName } = rabbit;

/**
 * CloudEvents consumers on the real broker dedupe by the CloudEvent `id` (the spec: "consumers MAY assume that
 * events with identical source and id are duplicates"), whatever the transport did to the copy: a second
 * publish of the same event under another AMQP message id, or a binary-mode copy, is acknowledged without
 * running the handler again; a new id with the same data is a new event.
 */
describe('CloudEvents consumers dedupe by id (real RabbitMQ)', () => {
  let vhost: rabbit.TestVhost;
  let connection: MessagingConnection;
  let publisher: MessagePublisher;
  let consumer: MessageConsumer;

  beforeAll(async () => {
    vhost = await createTestVhost('test-cloudevents');
    connection = new MessagingConnection({
      url: vhost.url,
      connectionName: uniqueName('cloudevents-test'),
      queuePrefix: `${uniqueName('q')}.`,
      reconnectSeconds: 0.3,
      retry: { maxAttempts: 2, initialDelayMs: 100, multiplier: 2, maxDelayMs: 200 },
      logger: testLogger,
    });
    publisher = new MessagePublisher(connection);
    consumer = new MessageConsumer(connection);
    await connection.connect();
  });

  afterAll(async () => {
    await connection?.close();
    await vhost?.cleanup();
  });

  function recorder() {
    const seen: Message[] = [];
    const handler: MessageHandler = {
      handle: async (message) => {
        seen.push(message);
      },
    };
    return { seen, handler };
  }

  /** The same event with another AMQP message id: what a republishing producer or a shovel may send. */
  function underAnotherMessageId(event: EncodedCloudEvent): EncodedCloudEvent {
    return { ...event, properties: { ...event.properties, messageId: randomUUID() } };
  }

  /** Waits until the consumer has taken every delivery (nothing ready, nothing unacknowledged). */
  async function drained(queue: string): Promise<void> {
    await eventually(async () => {
      const info = await rabbit.management().getQueue(vhost.vhost, queue);
      return info.messages === 0 && info.messagesUnacknowledged === 0 ? true : undefined;
    }, `queue ${queue} drained`);
  }

  it('handles an integration event once when its id arrives twice, and a new id with the same data again', async () => {
    const { seen, handler } = recorder();
    const names = await consumer.subscribe({
      queue: 'integration-consumer',
      bindings: [{ exchange: 'tenantEvents', routingKey: 'tenant.#' }],
      decode: decodeIntegrationDelivery,
      handlers: { [INTEGRATION_EVENTS.activated]: handler },
    });
    const tenantId = `ce-dedupe-${randomUUID().slice(0, 6)}`;
    const event = (id: string) =>
      encodeCloudEvent({
        id,
        source: INTEGRATION_EVENT_SOURCE,
        type: integrationCloudEventType(INTEGRATION_EVENTS.activated),
        subject: tenantId,
        time: '2025-01-15T10:00:00.000Z',
        data: { tenantId, tier: 'premium' },
        correlationId: `corr-${tenantId}`,
      });
    const first = event(randomUUID());
    await publisher.publishCloudEvent('tenantEvents', INTEGRATION_EVENTS.activated, first);
    await publisher.publishCloudEvent(
      'tenantEvents',
      INTEGRATION_EVENTS.activated,
      underAnotherMessageId(first),
    );
    const second = event(randomUUID());
    await publisher.publishCloudEvent('tenantEvents', INTEGRATION_EVENTS.activated, second);
    await eventually(() => (seen.length >= 2 ? true : undefined), 'two handled events');
    await drained(names.work);
    expect(seen.map((message) => message.metadata.messageId)).toEqual([first.id, second.id]);
    expect(seen[0]).toMatchObject({ type: INTEGRATION_EVENTS.activated, metadata: { tenantId } });
  });

  it('handles a billing CloudEvent once whether its copy comes structured or binary', async () => {
    const { seen, handler } = recorder();
    const names = await consumer.subscribe({
      queue: 'billing-consumer',
      bindings: [{ exchange: 'billingEvents', routingKey: 'subscription.#' }],
      decode: decodeBillingDelivery,
      handlers: { [BILLING_EVENTS.suspended]: handler },
    });
    const subscriptionId = `sub_ce_${randomUUID().slice(0, 8)}`;
    const id = randomUUID();
    const type = billingCloudEventType(BILLING_EVENTS.suspended);
    const data = {
      event: BILLING_EVENTS.suspended,
      timestamp: '2025-02-01T09:00:00Z',
      data: { subscription_id: subscriptionId, reason: 'payment_failed' },
    };
    const structured = encodeCloudEvent({
      id,
      source: '/billing',
      type,
      subject: subscriptionId,
      time: '2025-02-01T09:00:00.000Z',
      data,
      correlationId: id,
    });
    // The same event in the AMQP binding's binary mode, under another AMQP message id.
    const binary = binaryCloudEvent(
      { id, type, source: '/billing', subject: subscriptionId, time: '2025-02-01T09:00:00.000Z' },
      data,
    );
    await publisher.publishCloudEvent('billingEvents', BILLING_EVENTS.suspended, structured);
    await publisher.publishCloudEvent('billingEvents', BILLING_EVENTS.suspended, binary);
    await eventually(() => (seen.length >= 1 ? true : undefined), 'the billing event handled');
    await drained(names.work);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({
      type: BILLING_EVENTS.suspended,
      data,
      metadata: { messageId: id, tenantId: subscriptionId, actor: '/billing' },
    });
  });
});
