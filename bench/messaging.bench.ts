/**
 * Confirmed publish rate and publish -> handle -> ack round-trip rate of @app/messaging, against a raw
 * amqplib loop doing the same work (confirm channel, same body size, same in-flight window, same prefetch,
 * same queue type) in the same run, on the local RabbitMQ, inside a throw-away vhost.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import * as amqplib from 'amqplib';
import pino from 'pino';
import { buildMetadata, Message } from '@app/contracts';
import {
  MessageConsumer,
  MessagePublisher,
  MessagingConnection,
  QueueType,
  queueTopology,
  applyTopology,
  exchangeTopology,
  DEFAULT_EXCHANGES,
  DEFAULT_RETRY,
} from '@app/messaging';
import { RabbitManagementClient } from '@app/rabbitmq-admin';

const COUNT = Number(process.env.BENCH_MESSAGES ?? 10_000);
const WINDOW = Number(process.env.BENCH_WINDOW ?? 500);
const PREFETCH = Number(process.env.BENCH_PREFETCH ?? 100);
const QUEUE_TYPE = (process.env.BENCH_QUEUE_TYPE ?? 'quorum') as QueueType;
const HOST = process.env.RABBITMQ_HOST ?? '127.0.0.1';
const USER = process.env.RABBITMQ_USER ?? 'guest';
const PASSWORD = process.env.RABBITMQ_PASSWORD ?? 'guest';
const logger = pino({ level: 'warn' });
const PAYLOAD = { tenantName: 'ABC Corporation', tier: 'premium', region: 'eu-west', note: 'x'.repeat(200) };

function envelope(type: string, data: unknown): Message {
  const metadata = buildMetadata(
    { tenantId: 'bench-tenant-0a1b2c', correlationId: randomUUID(), actor: 'bench' },
    randomUUID(),
    new Date(),
  );
  return { type, data, metadata };
}

/** A throw-away vhost, so the run neither sees nor leaves anything in the shared broker. */
async function createVhost(): Promise<{ url: string; cleanup: () => Promise<void> }> {
  const management = new RabbitManagementClient({
    baseUrl: process.env.RABBITMQ_MANAGEMENT_URL ?? `http://${HOST}:15672`,
    username: USER,
    password: PASSWORD,
  });
  const vhost = `bench-messaging-${randomBytes(4).toString('hex')}`;
  await management.createVhost(vhost, 'messaging benchmark, safe to delete');
  await management.setPermissions(vhost, USER, { configure: '.*', write: '.*', read: '.*' });
  return {
    url: `amqp://${encodeURIComponent(USER)}:${encodeURIComponent(PASSWORD)}@${HOST}:5672/${encodeURIComponent(vhost)}`,
    cleanup: async () => {
      await management.deleteVhost(vhost);
    },
  };
}

function rate(count: number, ms: number): number {
  return Math.round((count * 1000) / ms);
}

async function inWindow(count: number, window: number, send: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(window, count) }, async () => {
    while (next < count) {
      const i = next;
      next += 1;
      await send(i);
    }
  });
  await Promise.all(lanes);
}

async function libraryRun(url: string, prefix: string): Promise<{ publish: number; roundtrip: number }> {
  const connection = new MessagingConnection({
    url,
    connectionName: `bench-lib-${prefix}`,
    queuePrefix: prefix,
    queueType: QUEUE_TYPE,
    prefetch: PREFETCH,
    maxPendingPublishes: WINDOW * 2,
    logger,
  });
  const publisher = new MessagePublisher(connection);
  const consumer = new MessageConsumer(connection);
  await connection.connect();
  try {
    // Publish only: a queue that nobody consumes, so confirms are the whole cost.
    const sinkConsumerless = new MessageConsumer(connection);
    await sinkConsumerless.subscribe({
      queue: 'sink',
      bindings: [{ exchange: 'tenantEvents', routingKey: 'bench.sink' }],
      handlers: {},
    });
    await sinkConsumerless.stop();
    const messages = Array.from({ length: COUNT }, () => envelope('BenchEvent', PAYLOAD));
    let started = Date.now();
    await inWindow(COUNT, WINDOW, (i) => publisher.publish('tenantEvents', 'bench.sink', messages[i]));
    const publish = rate(COUNT, Date.now() - started);

    let handled = 0;
    let done: () => void = () => undefined;
    const finished = new Promise<void>((resolve) => {
      done = resolve;
    });
    await consumer.subscribe({
      queue: 'roundtrip',
      bindings: [{ exchange: 'tenantEvents', routingKey: 'bench.roundtrip' }],
      handlers: {
        BenchEvent: {
          handle: async () => {
            handled += 1;
            if (handled === COUNT) done();
          },
        },
      },
    });
    const fresh = Array.from({ length: COUNT }, () => envelope('BenchEvent', PAYLOAD));
    started = Date.now();
    await inWindow(COUNT, WINDOW, (i) => publisher.publish('tenantEvents', 'bench.roundtrip', fresh[i]));
    await finished;
    const roundtrip = rate(COUNT, Date.now() - started);
    return { publish, roundtrip };
  } finally {
    await connection.close();
  }
}

async function rawRun(url: string, prefix: string): Promise<{ publish: number; roundtrip: number }> {
  const model = await amqplib.connect(url);
  try {
    const pub = await model.createConfirmChannel();
    const exchange = DEFAULT_EXCHANGES.tenantEvents;
    await applyTopology(pub, exchangeTopology(DEFAULT_EXCHANGES));
    const declare = (queue: string, key: string) =>
      applyTopology(
        pub,
        queueTopology({
          queue: `${prefix}${queue}`,
          bindings: [{ exchange, routingKey: key }],
          retry: DEFAULT_RETRY,
          queueType: QUEUE_TYPE,
          deliveryLimit: 15,
        }),
      );
    await declare('sink', 'raw.sink');
    await declare('roundtrip', 'raw.roundtrip');
    // Envelopes are built before the clock starts, as in the library run.
    const send = (key: string, msg: Message) =>
      new Promise<void>((resolve, reject) =>
        pub.publish(
          exchange,
          key,
          Buffer.from(JSON.stringify(msg)),
          {
            persistent: true,
            mandatory: true,
            contentType: 'application/json',
            messageId: msg.metadata.messageId,
            correlationId: msg.metadata.correlationId,
            type: msg.type,
            timestamp: Math.floor(Date.parse(msg.metadata.occurredAt) / 1000),
            headers: {
              'causation-id': msg.metadata.causationId,
              'tenant-id': msg.metadata.tenantId,
              'schema-version': msg.metadata.schemaVersion,
            },
          },
          (err) => (err ? reject(err) : resolve()),
        ),
      );
    const sinkMessages = Array.from({ length: COUNT }, () => envelope('BenchEvent', PAYLOAD));
    const roundtripMessages = Array.from({ length: COUNT }, () => envelope('BenchEvent', PAYLOAD));
    let started = Date.now();
    await inWindow(COUNT, WINDOW, (i) => send('raw.sink', sinkMessages[i]));
    const publish = rate(COUNT, Date.now() - started);

    const sub = await model.createConfirmChannel();
    await sub.prefetch(PREFETCH);
    let handled = 0;
    let done: () => void = () => undefined;
    const finished = new Promise<void>((resolve) => {
      done = resolve;
    });
    await sub.consume(
      `${prefix}roundtrip`,
      (msg) => {
        if (!msg) return;
        JSON.parse(msg.content.toString('utf8'));
        void Promise.resolve().then(() => {
          sub.ack(msg);
          handled += 1;
          if (handled === COUNT) done();
        });
      },
      { noAck: false },
    );
    started = Date.now();
    await inWindow(COUNT, WINDOW, (i) => send('raw.roundtrip', roundtripMessages[i]));
    await finished;
    const roundtrip = rate(COUNT, Date.now() - started);
    return { publish, roundtrip };
  } finally {
    await model.close();
  }
}

async function main(): Promise<void> {
  const vhost = await createVhost();
  try {
    const tag = randomUUID().slice(0, 8);
    // Warm-up on both paths, then the measured runs (raw first, then the library, then raw again; best of two).
    const raw1 = await rawRun(vhost.url, `raw1-${tag}.`);
    const lib = await libraryRun(vhost.url, `lib-${tag}.`);
    const raw2 = await rawRun(vhost.url, `raw2-${tag}.`);
    const raw = {
      publish: Math.max(raw1.publish, raw2.publish),
      roundtrip: Math.max(raw1.roundtrip, raw2.roundtrip),
    };
    console.log(
      `messages=${COUNT} window=${WINDOW} prefetch=${PREFETCH} queueType=${QUEUE_TYPE} ` +
        `publish ${Math.round((100 * lib.publish) / raw.publish)}% of raw, roundtrip ${Math.round((100 * lib.roundtrip) / raw.roundtrip)}% of raw`,
    );
    console.log(
      `RESULT messaging publish_mps=${lib.publish} roundtrip_mps=${lib.roundtrip} raw_publish_mps=${raw.publish} raw_roundtrip_mps=${raw.roundtrip}`,
    );
  } finally {
    await vhost.cleanup();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
