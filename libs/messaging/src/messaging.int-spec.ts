import * as amqplib from 'amqplib';
import pino from 'pino';
import { MessagingConnection } from './connection';
import { MessageConsumer } from './consumer';
import type { MessageHandler, ParkedMessage } from './subscription';
import { DedupeStore, InMemoryDedupeStore } from './dedupe';
import { Message } from './envelope';
import { MessagingError, PermanentError, RetryableError } from './errors';
import { MessagingOptions } from './options';
import { MessagePublisher } from './publisher';
import { rabbit } from '@app/testing';

const { createTestVhost, envelope, eventually, management, testLogger, uniqueName } = rabbit;
type TestVhost = rabbit.TestVhost;

interface Rig {
  connection: MessagingConnection;
  publisher: MessagePublisher;
  consumer: MessageConsumer;
}

describe('messaging against the local RabbitMQ', () => {
  let vhost: TestVhost;
  const rigs: MessagingConnection[] = [];

  beforeAll(async () => {
    vhost = await createTestVhost();
  });

  afterAll(async () => {
    await Promise.all(rigs.map((connection) => connection.close()));
    await vhost.cleanup();
  });

  async function rig(overrides: Partial<MessagingOptions> = {}): Promise<Rig> {
    const connection = new MessagingConnection({
      url: vhost.url,
      connectionName: uniqueName('messaging-test'),
      queuePrefix: `${uniqueName('q')}.`,
      reconnectSeconds: 0.3,
      retry: { maxAttempts: 3, initialDelayMs: 200, multiplier: 2, maxDelayMs: 1000 },
      logger: testLogger,
      ...overrides,
    });
    rigs.push(connection);
    const publisher = new MessagePublisher(connection);
    const consumer = new MessageConsumer(connection);
    await connection.connect();
    return { connection, publisher, consumer };
  }

  function recorder() {
    const seen: Array<{ message: Message; attempt: number; at: number }> = [];
    const handler: MessageHandler = {
      handle: async (message, context) => {
        seen.push({ message, attempt: context.attempt, at: Date.now() });
      },
    };
    return { seen, handler };
  }

  it('routes an envelope through each exchange to the bound queue, with AMQP properties from the envelope', async () => {
    const { connection, publisher, consumer } = await rig();
    const { seen, handler } = recorder();
    const names = await consumer.subscribe({
      queue: 'roundtrip',
      bindings: [
        { exchange: 'billingEvents', routingKey: 'subscription.*' },
        { exchange: 'provisioningCommands', routingKey: 'database.#' },
        { exchange: 'tenantEvents', routingKey: 'tenant.activated' },
      ],
      handlers: { SubscriptionCreated: handler, ProvisionDatabases: handler, TenantActivated: handler },
    });
    const sent = [
      {
        exchange: 'billingEvents' as const,
        key: 'subscription.created',
        msg: envelope('SubscriptionCreated', { a: 1 }),
      },
      {
        exchange: 'provisioningCommands' as const,
        key: 'database.provision',
        msg: envelope('ProvisionDatabases', { b: 2 }),
      },
      {
        exchange: 'tenantEvents' as const,
        key: 'tenant.activated',
        msg: envelope('TenantActivated', { c: 3 }),
      },
    ];
    for (const { exchange, key, msg } of sent) await publisher.publish(exchange, key, msg);
    await eventually(() => (seen.length === 3 ? true : undefined), 'three deliveries');
    expect(seen.map((s) => s.message).sort((a, b) => a.type.localeCompare(b.type))).toEqual(
      sent.map((s) => s.msg).sort((a, b) => a.type.localeCompare(b.type)),
    );

    const queue = await management().getQueue(vhost.vhost, names.work);
    expect(queue.type).toBe('quorum');
    expect(queue.arguments['x-dead-letter-routing-key']).toBe(names.parked);
    const retry = await management().getQueue(vhost.vhost, names.retry[0]);
    expect(retry.arguments['x-message-ttl']).toBe(200);
    expect(retry.arguments['x-dead-letter-routing-key']).toBe(names.work);

    // The AMQP properties are read by a raw consumer of a second queue bound to the same key.
    const raw = await amqplib.connect(vhost.url);
    try {
      const channel = await raw.createChannel();
      const { queue: tap } = await channel.assertQueue('', { exclusive: true });
      await channel.bindQueue(tap, connection.options.exchanges.tenantEvents, 'tenant.#');
      const msg = envelope('TenantActivated', {}, { causationId: 'cause-1', commandId: 'cmd-1' });
      await publisher.publish('tenantEvents', 'tenant.activated', msg);
      const got = await eventually(async () => (await channel.get(tap, { noAck: true })) || undefined, 'tap');
      expect(got.properties).toMatchObject({
        messageId: msg.metadata.messageId,
        correlationId: msg.metadata.correlationId,
        type: 'TenantActivated',
        contentType: 'application/json',
        deliveryMode: 2,
        headers: { 'causation-id': 'cause-1', 'tenant-id': msg.metadata.tenantId, 'schema-version': 1 },
      });
      expect(got.properties.timestamp).toBe(Math.floor(Date.parse(msg.metadata.occurredAt) / 1000));
    } finally {
      await raw.close();
    }
  });

  it('retries a failing handler with growing delays until it succeeds', async () => {
    const { publisher, consumer } = await rig();
    const attempts: Array<{ attempt: number; at: number }> = [];
    await consumer.subscribe({
      queue: 'retry',
      bindings: [{ exchange: 'provisioningCommands', routingKey: 'storage.#' }],
      handlers: {
        ProvisionStorage: {
          handle: async (_message, context) => {
            attempts.push({ attempt: context.attempt, at: Date.now() });
            if (context.attempt < 3) throw new RetryableError('STORAGE.UNAVAILABLE', 'try later');
          },
        },
      },
      onParked: async () => {
        throw new Error('must not park');
      },
    });
    await publisher.publish('provisioningCommands', 'storage.provision', envelope('ProvisionStorage', {}));
    await eventually(() => (attempts.length === 3 ? true : undefined), 'three attempts');
    expect(attempts.map((a) => a.attempt)).toEqual([1, 2, 3]);
    // Lower bounds only: the message waited in retry.1 (200 ms) then retry.2 (400 ms).
    expect(attempts[1].at - attempts[0].at).toBeGreaterThanOrEqual(180);
    expect(attempts[2].at - attempts[1].at).toBeGreaterThanOrEqual(380);
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(attempts).toHaveLength(3);
  });

  it('parks a message after its last attempt, with the error in headers, after the onParked hook', async () => {
    const { publisher, consumer } = await rig();
    const parked: ParkedMessage[] = [];
    let calls = 0;
    let retriedCalls = 0;
    const names = await consumer.subscribe({
      queue: 'exhaust',
      bindings: [{ exchange: 'provisioningCommands', routingKey: 'broker.#' }],
      handlers: {
        ProvisionBroker: {
          handle: async () => {
            calls += 1;
            retriedCalls += 1;
            throw new RetryableError('BROKER.DOWN', `attempt ${retriedCalls} failed`);
          },
        },
        DeleteBroker: {
          handle: async () => {
            calls += 1;
            throw new PermanentError('BROKER.FORBIDDEN', 'refused by policy');
          },
        },
      },
      onParked: async (message) => {
        parked.push(message);
      },
    });
    const retried = envelope('ProvisionBroker', { n: 1 });
    const permanent = envelope('DeleteBroker', { n: 2 });
    await publisher.publish('provisioningCommands', 'broker.provision', retried);
    await publisher.publish('provisioningCommands', 'broker.delete', permanent);
    await eventually(() => (parked.length === 2 ? true : undefined), 'two parked');
    expect(calls).toBe(4);
    const byType = Object.fromEntries(parked.map((p) => [p.type, p]));
    expect(byType.ProvisionBroker).toMatchObject({
      reason: 'retries-exhausted',
      attempts: 3,
      routingKey: 'broker.provision',
      error: { code: 'BROKER.DOWN', message: 'attempt 3 failed', retryable: true },
      envelope: retried,
    });
    expect(byType.DeleteBroker).toMatchObject({ reason: 'permanent-error', attempts: 1 });

    const peeked = await eventually(async () => {
      const messages = await management().peekMessages(vhost.vhost, names.parked, 10);
      return messages.length === 2 ? messages : undefined;
    }, 'parked queue');
    const exhausted = peeked.find((m) => m.properties.messageId === retried.metadata.messageId);
    expect(exhausted?.properties.headers).toMatchObject({
      'x-park-reason': 'retries-exhausted',
      'x-last-error-code': 'BROKER.DOWN',
      'x-last-error-message': 'attempt 3 failed',
      'x-attempts': 3,
      'x-original-routing-key': 'broker.provision',
      'x-parked-from': names.work,
    });
    expect(JSON.parse(exhausted?.payload ?? '{}')).toEqual(retried);
  });

  it('keeps a message out of the parking queue until the onParked hook succeeds', async () => {
    const { publisher, consumer } = await rig();
    let hookCalls = 0;
    let releaseSecondCall: () => void = () => undefined;
    const secondCallMayEnd = new Promise<void>((resolve) => (releaseSecondCall = resolve));
    const names = await consumer.subscribe({
      queue: 'hook',
      bindings: [{ exchange: 'provisioningCommands', routingKey: 'k8s.#' }],
      handlers: {
        ProvisionNamespace: {
          handle: async () => {
            throw new PermanentError('K8S.INVALID', 'bad namespace');
          },
        },
      },
      onParked: async () => {
        hookCalls += 1;
        if (hookCalls === 1) throw new Error('event store unavailable');
        await secondCallMayEnd;
      },
    });
    await publisher.publish('provisioningCommands', 'k8s.namespace', envelope('ProvisionNamespace', {}));
    // The second call waits until the parking queue was looked at: what is there came from the failed first.
    await eventually(() => (hookCalls === 2 ? true : undefined), 'second hook call');
    expect(await management().peekMessages(vhost.vhost, names.parked, 1)).toHaveLength(0);
    releaseSecondCall();
    const peeked = await eventually(async () => {
      const messages = await management().peekMessages(vhost.vhost, names.parked, 5);
      return messages.length > 0 ? messages : undefined;
    }, 'parked');
    expect(peeked).toHaveLength(1);
    expect(peeked[0].properties.headers).toMatchObject({
      'x-park-reason': 'permanent-error',
      'x-last-error-code': 'K8S.INVALID',
    });
    expect(peeked[0].properties.headers['x-park-pending']).toBeUndefined();
  });

  it('parks malformed messages at once and keeps handling the next good one', async () => {
    const { connection, publisher, consumer } = await rig({ prefetch: 1 });
    const { seen, handler } = recorder();
    const parked: ParkedMessage[] = [];
    const names = await consumer.subscribe({
      queue: 'malformed',
      bindings: [{ exchange: 'provisioningCommands', routingKey: 'monitoring.#' }],
      handlers: {
        ProvisionMonitoring: {
          ...handler,
          validate: (message) =>
            (message.data as { tier?: string }).tier === 'gold'
              ? ['tier must be standard|premium|business']
              : undefined,
        },
      },
      onParked: async (message) => {
        parked.push(message);
      },
    });
    const raw = await amqplib.connect(vhost.url);
    try {
      const channel = await raw.createConfirmChannel();
      const exchange = connection.options.exchanges.provisioningCommands;
      const send = (body: string, messageId: string) =>
        new Promise<void>((resolve, reject) =>
          channel.publish(exchange, 'monitoring.provision', Buffer.from(body), { messageId }, (err) =>
            err ? reject(err) : resolve(),
          ),
        );
      await send('{not json', 'bad-json');
      await send(JSON.stringify({ type: 'ProvisionMonitoring', data: {} }), 'no-metadata');
      await send(JSON.stringify(envelope('SomethingElse', {})), 'unknown-type');
      await send(JSON.stringify(envelope('ProvisionMonitoring', { tier: 'gold' })), 'invalid');
    } finally {
      await raw.close();
    }
    const good = envelope('ProvisionMonitoring', { tier: 'premium' });
    await publisher.publish('provisioningCommands', 'monitoring.provision', good);
    await eventually(
      () => (seen.length === 1 && parked.length === 4 ? true : undefined),
      'good handled, bad parked',
    );
    expect(seen[0].message).toEqual(good);
    expect(parked.map((p) => [p.messageId, p.reason, p.error.code])).toEqual([
      ['bad-json', 'malformed', 'MESSAGING.MALFORMED'],
      ['no-metadata', 'malformed', 'MESSAGING.MALFORMED'],
      ['unknown-type', 'unknown-type', 'MESSAGING.UNKNOWN_TYPE'],
      ['invalid', 'validation-failed', 'MESSAGING.VALIDATION_FAILED'],
    ]);
    expect(parked[0].envelope).toBeUndefined();
    expect(parked[3].error.message).toContain('tier must be');
    const inParking = await eventually(async () => {
      const messages = await management().peekMessages(vhost.vhost, names.parked, 10);
      return messages.length === 4 ? messages : undefined;
    }, 'four parked');
    expect(inParking[0].payload).toBe('{not json');
  });

  it('rejects a publish that no queue receives with MESSAGING.UNROUTABLE', async () => {
    const { publisher } = await rig();
    await expect(
      publisher.publish('provisioningCommands', 'nobody.listens', envelope('Nothing', {})),
    ).rejects.toMatchObject({ code: 'MESSAGING.UNROUTABLE' });
  });

  it('handles every message at least once, and exactly once after dedupe, while its connection is cut', async () => {
    const { connection, publisher, consumer } = await rig({ prefetch: 50 });
    const total = 1000;
    const handled = new Map<string, number>();
    const store = new InMemoryDedupeStore();
    let duplicates = 0;
    const dedupe: DedupeStore = {
      has: async (key) => {
        const seen = await store.has(key);
        if (seen) duplicates += 1;
        return seen;
      },
      add: (key) => store.add(key),
    };
    await consumer.subscribe({
      queue: 'chaos',
      dedupe,
      bindings: [{ exchange: 'provisioningCommands', routingKey: 'chaos.#' }],
      handlers: {
        Chaos: {
          handle: async (message) => {
            // Slow enough that every cut finds deliveries handled or in hand but not yet acked.
            await new Promise((resolve) => setTimeout(resolve, 100));
            handled.set(message.metadata.messageId, (handled.get(message.metadata.messageId) ?? 0) + 1);
          },
        },
      },
    });
    const admin = management();
    const ids: string[] = [];
    let cuts = 0;
    let publishingDone = false;
    // A steady stream (~160/s) that lasts until 1000 messages are out and 3 cuts happened: the management
    // API sees a new connection only after its next stats tick (up to 5 s), so cuts cannot be timed closer.
    const deadline = Date.now() + 40_000;
    const publishing = (async () => {
      while ((ids.length < total || cuts < 3) && Date.now() < deadline) {
        const batch = Array.from({ length: 10 }, (_, j) => envelope('Chaos', { i: ids.length + j }));
        ids.push(...batch.map((msg) => msg.metadata.messageId));
        await Promise.all(batch.map((msg) => publisher.publish('provisioningCommands', 'chaos.run', msg)));
        await new Promise((resolve) => setTimeout(resolve, 60));
      }
    })().finally(() => {
      publishingDone = true;
    });
    while (!publishingDone) {
      if (connection.isConnected()) {
        cuts += await admin.closeConnectionsByClientName(
          connection.options.connectionName,
          'test: connection loss',
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await publishing;
    await eventually(() => (handled.size === ids.length ? true : undefined), 'all handled', 30_000);
    expect(ids.length).toBeGreaterThanOrEqual(total);
    expect(cuts).toBeGreaterThanOrEqual(3);
    // Redeliveries after each cut reached the dedupe store and were absorbed there.
    expect(duplicates).toBeGreaterThan(0);
    expect(ids.every((id) => handled.has(id))).toBe(true);
    expect([...handled.values()].every((count) => count === 1)).toBe(true);
  });

  it('declares its topology again on reconnect: a queue deleted meanwhile comes back, bound, and consumed', async () => {
    const { connection, publisher, consumer } = await rig();
    const { seen, handler } = recorder();
    const names = await consumer.subscribe({
      queue: 'redeclared',
      bindings: [{ exchange: 'provisioningCommands', routingKey: 'redeclared.#' }],
      handlers: { Redeclared: handler },
    });
    const admin = management();
    // An operator deletes the queue (and with it the binding), then the connection drops.
    // (No look for the queue now: the consumer, cancelled by the deletion, may already have declared it again.)
    expect(await admin.deleteQueue(vhost.vhost, names.work)).toBe(true);
    await eventually(
      async () =>
        (await admin.closeConnectionsByClientName(connection.options.connectionName, 'test: reconnect')) > 0
          ? true
          : undefined,
      'the connection to be cut',
      20_000,
    );
    await eventually(
      async () => ((await admin.findQueue(vhost.vhost, names.work)) ? true : undefined),
      'the queue declared again',
      20_000,
    );
    const message = envelope('Redeclared', { after: 'reconnect' });
    await eventually(
      async () => (connection.isConnected() ? true : undefined),
      'the connection to be back',
      20_000,
    );
    await publisher.publish('provisioningCommands', 'redeclared.run', message);
    await eventually(
      () =>
        seen.some((s) => s.message.metadata.messageId === message.metadata.messageId) ? true : undefined,
      'the message through the re-declared binding',
      20_000,
    );
  });

  it("backs off while the server keeps refusing a channel's declarations, and recovers once it accepts them", async () => {
    const { connection } = await rig();
    // A queue that already exists with other settings: every declaration of it closes the channel.
    const queue = uniqueName('conflict');
    const raw = await amqplib.connect(vhost.url);
    const rawChannel = await raw.createChannel();
    await rawChannel.assertQueue(queue, { durable: false, autoDelete: false });
    await raw.close();

    let setups = 0;
    const channel = connection.createChannel('conflicting', async (ch) => {
      setups += 1;
      await ch.assertQueue(queue, { durable: true });
    });
    try {
      await new Promise((resolve) => setTimeout(resolve, 5_000));
      // Without a backoff the connection was torn down and set up again every ~200 ms (25 times here).
      expect(setups).toBeGreaterThanOrEqual(2);
      expect(setups).toBeLessThanOrEqual(8);
      expect(channel.isOpen()).toBe(false);

      expect(await management().deleteQueue(vhost.vhost, queue)).toBe(true);
      await eventually(async () => (channel.isOpen() ? true : undefined), 'the channel to recover', 20_000);
    } finally {
      await channel.close();
    }
  });

  it('waits for an in-flight handler on shutdown, then acknowledges it', async () => {
    const { connection, publisher, consumer } = await rig();
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let started = false;
    let finished = false;
    const names = await consumer.subscribe({
      queue: 'shutdown',
      bindings: [{ exchange: 'provisioningCommands', routingKey: 'notification.#' }],
      handlers: {
        SendWelcome: {
          handle: async () => {
            started = true;
            await gate;
            finished = true;
          },
        },
      },
    });
    await publisher.publish('provisioningCommands', 'notification.welcome', envelope('SendWelcome', {}));
    await eventually(() => (started ? true : undefined), 'handler started');
    let closed = false;
    const closing = connection.close().then(() => {
      closed = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(closed).toBe(false);
    expect(connection.isConnected()).toBe(true);
    release();
    await closing;
    expect(finished).toBe(true);
    expect(connection.isConnected()).toBe(false);
    const raw = await amqplib.connect(vhost.url);
    try {
      const channel = await raw.createChannel();
      const info = await channel.checkQueue(names.work);
      expect(info.messageCount).toBe(0);
    } finally {
      await raw.close();
    }
  });

  it('reports health per channel, and stopping a consumer leaves the connection and publisher untouched', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(line) });
    const { connection, publisher, consumer } = await rig({ logger });
    await consumer.subscribe({
      queue: 'health',
      bindings: [{ exchange: 'tenantEvents', routingKey: 'health.#' }],
      handlers: {},
    });
    await eventually(() => (connection.isHealthy() ? true : undefined), 'healthy');
    expect(connection.health().channels.map((c) => c.name)).toEqual([
      'publisher',
      expect.stringMatching(/^consumer:/),
    ]);
    await consumer.stop();
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(connection.health()).toEqual({ connected: true, channels: [{ name: 'publisher', open: true }] });
    expect(lines.filter((line) => line.includes('disconnected'))).toEqual([]);
    expect(publisher.isOpen()).toBe(true);
  });

  it('fails publishes loudly while the broker is unreachable: bounded wait, bounded buffer', async () => {
    const connection = new MessagingConnection({
      url: 'amqp://guest:guest@127.0.0.1:1/',
      connectionName: uniqueName('messaging-down'),
      publishTimeoutMs: 300,
      maxPendingPublishes: 2,
      reconnectSeconds: 0.2,
      logger: testLogger,
    });
    rigs.push(connection);
    const publisher = new MessagePublisher(connection);
    await expect(connection.connect(300)).rejects.toMatchObject({ code: 'MESSAGING.CONNECT_TIMEOUT' });
    expect(connection.health()).toEqual({ connected: false, channels: [{ name: 'publisher', open: false }] });
    const first = publisher.publish('tenantEvents', 'tenant.activated', envelope('TenantActivated', {}));
    const second = publisher.publish('tenantEvents', 'tenant.activated', envelope('TenantActivated', {}));
    const third = publisher.publish('tenantEvents', 'tenant.activated', envelope('TenantActivated', {}));
    // Every expectation is attached now: the two timeouts can fire together, and a rejection that finds no
    // handler yet fails the test as unhandled.
    const firstFails = expect(first).rejects.toMatchObject({ code: 'MESSAGING.PUBLISH_TIMEOUT' });
    const secondFails = expect(second).rejects.toBeInstanceOf(MessagingError);
    await expect(third).rejects.toMatchObject({ code: 'MESSAGING.BUFFER_FULL' });
    await firstFails;
    await secondFails;
    expect(publisher.pendingCount()).toBe(0);
  });
});
