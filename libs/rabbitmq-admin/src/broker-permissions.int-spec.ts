import {
  API_INTAKE_QUEUE,
  BILLING_EVENTS,
  COMMAND_CATALOG,
  COMMAND_TYPES,
  commandRoutingKey,
  RESOURCE_SERVICES,
  serviceQueueName,
  type ResourceService,
} from '@app/contracts';
import * as amqplib from 'amqplib';
import { CONTROL_PLANE_APPS, type ControlPlaneApp } from './broker-permissions';
import { applyBrokerUsers, type BrokerAccount } from './broker-users';
import {
  MessageConsumer,
  MessagePublisher,
  MessagingConnection,
  PermanentError,
  RetryableError,
  type Message,
  type MessageHandler,
  type ParkedMessage,
} from '@app/messaging';
import { rabbit } from '@app/testing';

const {
  ADMIN_PASSWORD,
  ADMIN_USER,
  AMQP_HOST,
  createTestVhost,
  envelope,
  eventually,
  management,
  testLogger,
  uniqueName,
} = rabbit;
type TestVhost = rabbit.TestVhost;

/**
 * Each control-plane app's own account, with exactly the permissions of broker-permissions.ts applied through
 * the management API, against the local RabbitMQ: every role's real topology and traffic still works, and what
 * a role must not do is refused by the broker itself.
 */

const QUEUE_PREFIX = `${uniqueName('bp')}.`;
const RETRY = { maxAttempts: 2, initialDelayMs: 100, multiplier: 1, maxDelayMs: 100 };
const START_TIMEOUT_MS = 15_000;

function commandsOf(service: ResourceService) {
  return COMMAND_TYPES.filter((type) => COMMAND_CATALOG[type].service === service);
}

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what} did not start within ${START_TIMEOUT_MS} ms`)),
      START_TIMEOUT_MS,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

describe('per-app broker users against the local RabbitMQ', () => {
  let vhost: TestVhost;
  const accounts = new Map<ControlPlaneApp, BrokerAccount>();
  const connections: MessagingConnection[] = [];
  const raw: amqplib.ChannelModel[] = [];

  function urlOf(account: { user: string; password: string }): string {
    return `amqp://${encodeURIComponent(account.user)}:${encodeURIComponent(account.password)}@${AMQP_HOST}:5672/${encodeURIComponent(vhost.vhost)}`;
  }

  function connectionOf(app: ControlPlaneApp): MessagingConnection {
    const connection = new MessagingConnection({
      url: urlOf(accounts.get(app)!),
      connectionName: uniqueName(app),
      queuePrefix: QUEUE_PREFIX,
      retry: RETRY,
      reconnectSeconds: 0.3,
      logger: testLogger,
    });
    connections.push(connection);
    return connection;
  }

  /** A plain amqplib confirm channel as `who`, to try what the app's own code never does. */
  async function rawChannel(who: { user: string; password: string }): Promise<amqplib.ConfirmChannel> {
    const model = await amqplib.connect(urlOf(who));
    model.on('error', () => undefined);
    raw.push(model);
    const channel = await model.createConfirmChannel();
    channel.on('error', () => undefined);
    return channel;
  }

  function forgedRemoveDatabases(): Message {
    return envelope('RemoveDatabases', {
      step: 'purge-databases',
      tenant: { tenantId: 'acme-corp-0a1b2c' },
      params: {},
    });
  }

  async function publishConfirmed(
    channel: amqplib.ConfirmChannel,
    exchange: string,
    routingKey: string,
    message: Message,
  ): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      channel.once('close', () => reject(new Error('channel closed by the broker')));
      channel.once('error', reject);
      channel.publish(exchange, routingKey, Buffer.from(JSON.stringify(message)), {}, (err) =>
        err ? reject(err as Error) : resolve(),
      );
    });
  }

  const received = new Map<string, Message[]>();
  const parked: ParkedMessage[] = [];
  const attempts = new Map<string, number>();

  /** Records every message; `retry-once` fails its first attempt, `park` fails permanently. */
  function recorder(app: string): MessageHandler {
    return {
      handle: async (message) => {
        const id = message.metadata.messageId;
        const attempt = (attempts.get(id) ?? 0) + 1;
        attempts.set(id, attempt);
        const mode = (message.data as { mode?: string }).mode;
        if (mode === 'retry-once' && attempt === 1) throw new RetryableError('TEST.RETRY', 'first attempt');
        if (mode === 'park') throw new PermanentError('TEST.PARK', 'parked on purpose');
        received.set(app, [...(received.get(app) ?? []), message]);
      },
    };
  }

  beforeAll(async () => {
    vhost = await createTestVhost('test-broker-users');
    const userPrefix = uniqueName('bu');
    for (const app of CONTROL_PLANE_APPS) {
      accounts.set(app, {
        app,
        user: `${userPrefix}.${app}`,
        password: uniqueName('pw'),
        vhost: vhost.vhost,
      });
    }
    await applyBrokerUsers(management(), [...accounts.values()], { queuePrefix: QUEUE_PREFIX });

    // Every role starts as its app does: services and the API declare their queue and consume it, the
    // orchestrator declares the exchanges and publishes.
    for (const service of RESOURCE_SERVICES) {
      const app = `${service}-service` as const;
      const consumer = new MessageConsumer(connectionOf(app));
      await connections.at(-1)!.connect();
      const handler = recorder(app);
      await withTimeout(
        consumer.subscribe({
          queue: serviceQueueName(service),
          bindings: commandsOf(service).map((type) => ({
            exchange: 'provisioningCommands' as const,
            routingKey: commandRoutingKey(type),
          })),
          handlers: Object.fromEntries(commandsOf(service).map((type) => [type, handler])),
          onParked: async (message) => {
            parked.push(message);
          },
        }),
        `${app}'s consumer`,
      );
      expect(consumer.isHealthy()).toBe(true);
    }
    const api = new MessageConsumer(connectionOf('provisioning-api'));
    await connections.at(-1)!.connect();
    await withTimeout(
      api.subscribe({
        queue: API_INTAKE_QUEUE,
        bindings: [{ exchange: 'billingEvents', routingKey: BILLING_EVENTS.created }],
        handlers: { [BILLING_EVENTS.created]: recorder('provisioning-api') },
      }),
      "provisioning-api's intake consumer",
    );
    expect(api.isHealthy()).toBe(true);
  }, 60_000);

  afterAll(async () => {
    await Promise.all(connections.map((connection) => connection.close()));
    await Promise.all(raw.map((model) => model.close().catch(() => undefined)));
    await vhost?.cleanup();
    const client = management();
    await Promise.all([...accounts.values()].map((account) => client.deleteUser(account.user)));
  });

  it('lets the orchestrator publish commands that reach the service, retried and parked as usual', async () => {
    const orchestrator = connectionOf('orchestrator');
    const publisher = new MessagePublisher(orchestrator);
    await orchestrator.connect();
    const routingKey = commandRoutingKey('RemoveDatabases');
    const plain = envelope('RemoveDatabases', { mode: 'plain' });
    const retried = envelope('RemoveDatabases', { mode: 'retry-once' });
    const toPark = envelope('RemoveDatabases', { mode: 'park' });
    for (const message of [plain, retried, toPark]) {
      await publisher.publish('provisioningCommands', routingKey, message);
    }
    // No subscriber on tenant.events is legitimate: an integration event still needs write there.
    await publisher.publish('tenantEvents', 'tenant.activated', envelope('tenant.activated', {}), {
      mandatory: false,
    });

    const ids = (app: string) => (received.get(app) ?? []).map((message) => message.metadata.messageId);
    await eventually(
      () => (ids('database-service').length >= 2 ? true : undefined),
      'two commands handled by the database-service',
    );
    expect(ids('database-service').sort()).toEqual(
      [plain.metadata.messageId, retried.metadata.messageId].sort(),
    );
    expect(attempts.get(retried.metadata.messageId)).toBe(2);
    const parkedOne = await eventually(
      () => parked.find((message) => message.messageId === toPark.metadata.messageId),
      'the permanent failure parked',
    );
    expect(parkedOne.queue).toBe(`${QUEUE_PREFIX}${serviceQueueName('database')}`);
    // Parking re-publishes through the default exchange: the copy must have reached the parking queue.
    const admin = await rawChannel({ user: ADMIN_USER, password: ADMIN_PASSWORD });
    const inParking = await eventually(async () => {
      const got = await admin.get(`${QUEUE_PREFIX}${serviceQueueName('database')}.parked`, { noAck: true });
      return got === false ? undefined : got;
    }, 'the parked copy');
    expect(inParking.properties.messageId).toBe(toPark.metadata.messageId);
  });

  it("refuses a resource service's publish on the commands exchange (ACCESS_REFUSED)", async () => {
    const channel = await rawChannel(accounts.get('storage-service')!);
    await expect(
      publishConfirmed(
        channel,
        'provisioning.commands',
        commandRoutingKey('RemoveDatabases'),
        forgedRemoveDatabases(),
      ),
    ).rejects.toThrow(/ACCESS_REFUSED - access to exchange 'provisioning.commands'/);
  });

  it("refuses the API's publish on the commands exchange (ACCESS_REFUSED)", async () => {
    const channel = await rawChannel(accounts.get('provisioning-api')!);
    await expect(
      publishConfirmed(
        channel,
        'provisioning.commands',
        commandRoutingKey('RemoveDatabases'),
        forgedRemoveDatabases(),
      ),
    ).rejects.toThrow(/ACCESS_REFUSED - access to exchange 'provisioning.commands'/);
  });

  it("refuses a service consuming another service's queue (ACCESS_REFUSED)", async () => {
    const channel = await rawChannel(accounts.get('storage-service')!);
    await expect(
      channel.consume(`${QUEUE_PREFIX}${serviceQueueName('database')}`, () => undefined),
    ).rejects.toThrow(/ACCESS_REFUSED - access to queue '[^']*provisioning.database-service'/);
  });

  it("refuses a service binding its own queue to another service's commands (ACCESS_REFUSED)", async () => {
    const channel = await rawChannel(accounts.get('storage-service')!);
    await expect(
      channel.bindQueue(
        `${QUEUE_PREFIX}${serviceQueueName('storage')}`,
        'provisioning.commands',
        commandRoutingKey('RemoveDatabases'),
      ),
    ).rejects.toThrow(/ACCESS_REFUSED - access to topic 'database.remove-databases'/);
  });

  it("refuses the orchestrator reading a service's queue (ACCESS_REFUSED)", async () => {
    const channel = await rawChannel(accounts.get('orchestrator')!);
    await expect(channel.get(`${QUEUE_PREFIX}${serviceQueueName('database')}`)).rejects.toThrow(
      /ACCESS_REFUSED - access to queue/,
    );
  });

  it('accepts the same forged publish from the administrator every app used before', async () => {
    const before = (received.get('database-service') ?? []).length;
    const channel = await rawChannel({ user: ADMIN_USER, password: ADMIN_PASSWORD });
    const forged = envelope('RemoveDatabases', { mode: 'plain' });
    await publishConfirmed(channel, 'provisioning.commands', commandRoutingKey('RemoveDatabases'), forged);
    await eventually(
      () =>
        (received.get('database-service') ?? []).find(
          (m) => m.metadata.messageId === forged.metadata.messageId,
        ),
      'the forged command delivered to the database-service',
    );
    expect((received.get('database-service') ?? []).length).toBe(before + 1);
  });

  it('applies again without change: users without tags, the same permissions', async () => {
    const client = management();
    const account = accounts.get('database-service')!;
    const first = await client.getPermissions(vhost.vhost, account.user);
    await applyBrokerUsers(client, [account], { queuePrefix: QUEUE_PREFIX });
    expect(await client.getPermissions(vhost.vhost, account.user)).toEqual(first);
    expect((await client.getUser(account.user))?.tags).toEqual([]);
  });
});
