import { MessagingConnection } from './connection';
import { MessageConsumer } from './consumer';
import type { ParkedMessage } from './subscription';
import { DedupeStore, InMemoryDedupeStore } from './dedupe';
import { MessagingOptions } from './options';
import { MessagePublisher } from './publisher';
import { rabbit } from '@app/testing';

const { createTestVhost, envelope, eventually, testLogger, uniqueName } = rabbit;
type TestVhost = rabbit.TestVhost;

/** A dedupe store that remembers every `add`: the consumer records a message there only once it handled it. */
class RecordingDedupe implements DedupeStore {
  readonly added: string[] = [];
  private readonly inner = new InMemoryDedupeStore();
  has(id: string): Promise<boolean> {
    return this.inner.has(id);
  }
  async add(id: string): Promise<void> {
    this.added.push(id);
    await this.inner.add(id);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('consumer handler deadline against the local RabbitMQ', () => {
  let vhost: TestVhost;
  const connections: MessagingConnection[] = [];

  beforeAll(async () => {
    vhost = await createTestVhost('test-deadline');
  });

  afterAll(async () => {
    await Promise.all(connections.map((connection) => connection.close()));
    await vhost.cleanup();
  });

  async function rig() {
    // Not an object literal: the option is new, so a copy of this test on older code still compiles and runs.
    const deadline: Partial<MessagingOptions> = { handlerTimeoutMs: 400 };
    const connection = new MessagingConnection({
      url: vhost.url,
      connectionName: uniqueName('deadline-test'),
      queuePrefix: `${uniqueName('q')}.`,
      reconnectSeconds: 0.3,
      retry: { maxAttempts: 3, initialDelayMs: 200, multiplier: 1, maxDelayMs: 200 },
      logger: testLogger,
      ...deadline,
    });
    connections.push(connection);
    await connection.connect();
    return {
      connection,
      publisher: new MessagePublisher(connection),
      consumer: new MessageConsumer(connection),
    };
  }

  it('retries a handler that overruns its deadline and discards the late completion', async () => {
    const { publisher, consumer } = await rig();
    const dedupe = new RecordingDedupe();
    const attempts: number[] = [];
    const signals: AbortSignal[] = [];
    let releaseFirst!: () => void;
    const firstHangs = new Promise<void>((resolve) => {
      releaseFirst = resolve;
    });
    const parked: ParkedMessage[] = [];
    await consumer.subscribe({
      queue: 'deadline',
      bindings: [{ exchange: 'provisioningCommands', routingKey: 'database.#' }],
      dedupe,
      handlers: {
        ProvisionDatabases: {
          handle: async (_message, context) => {
            attempts.push(context.attempt);
            signals.push((context as { signal?: AbortSignal }).signal ?? new AbortController().signal);
            if (context.attempt === 1) await firstHangs;
          },
        },
      },
      onParked: async (message) => {
        parked.push(message);
      },
    });
    const message = envelope('ProvisionDatabases', {});
    await publisher.publish('provisioningCommands', 'database.provision', message);

    await eventually(() => (attempts.length >= 2 ? true : undefined), 'a retry after the deadline', 10_000);
    await eventually(() => (dedupe.added.length === 1 ? true : undefined), 'the retry recorded as handled');
    expect(attempts).toEqual([1, 2]);
    expect(signals[0].aborted).toBe(true);
    expect(signals[1].aborted).toBe(false);

    // The first run completes late: it must neither ack (a second ack of one delivery closes the channel),
    // nor record the message as handled, nor trigger another attempt.
    releaseFirst();
    await sleep(800);
    expect(dedupe.added).toEqual([message.metadata.messageId]);
    expect(attempts).toEqual([1, 2]);
    expect(parked).toEqual([]);
    expect(consumer.isHealthy()).toBe(true);
  }, 20_000);

  it('parks a message whose handler never finishes once its attempts are spent', async () => {
    const { publisher, consumer } = await rig();
    const attempts: number[] = [];
    const parked: ParkedMessage[] = [];
    await consumer.subscribe({
      queue: 'never',
      bindings: [{ exchange: 'provisioningCommands', routingKey: 'storage.#' }],
      handlers: {
        ProvisionStorage: {
          handle: (_message, context) => {
            attempts.push(context.attempt);
            return new Promise<void>(() => undefined);
          },
        },
      },
      onParked: async (message) => {
        parked.push(message);
      },
    });
    await publisher.publish('provisioningCommands', 'storage.provision', envelope('ProvisionStorage', {}));
    const [first] = await eventually(() => (parked.length > 0 ? parked : undefined), 'the park', 10_000);
    expect(attempts).toEqual([1, 2, 3]);
    expect(first.reason).toBe('retries-exhausted');
    expect(first.error).toMatchObject({ retryable: true, code: 'MESSAGING.HANDLER_TIMEOUT' });
  }, 20_000);
});
