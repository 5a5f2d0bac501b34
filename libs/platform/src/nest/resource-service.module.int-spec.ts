import { randomBytes, randomUUID } from 'node:crypto';
import { buildMessage, commandRoutingKey, tenantStream, type CommandMessage } from '@app/contracts';
import { createEventStore, type EventStore } from '@app/event-store';
import { MessagePublisher, MessagingConnection } from '@app/messaging';
import { RabbitManagementClient } from '@app/rabbitmq-admin';
import { Controller, Inject, type INestApplicationContext } from '@nestjs/common';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import { Client } from 'pg';
import pino from 'pino';
import { z } from 'zod';
import { baseConfigSchema, createResourceServiceApp } from '../bootstrap';
import type { CommandContext } from '../handlers';
import { permanent } from '../step-error';
import { loadConfig } from '../config';
import { HealthServer } from './health.module';
import { ResourceServiceLifecycle, ResourceServiceModule } from './resource-service.module';
import { CommandTransport } from './command-transport';
import { EVENT_STORE, HANDLER_DEPS, MESSAGE_CONSUMER } from './tokens';

/**
 * One resource service started as a Nest application context, against the real RabbitMQ (a vhost of its own)
 * and the PostgreSQL event store (a schema of its own): its providers are wired by token, it serves /ready and
 * /metrics once consuming, and closing the context drains the command in flight (its outcome recorded) before
 * the runtime, the connections and the health endpoint are closed.
 */
const PG_URL = process.env.TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/provisioning_test';
const HOST = process.env.RABBITMQ_HOST ?? '127.0.0.1';
const management = new RabbitManagementClient({
  baseUrl: process.env.RABBITMQ_MANAGEMENT_URL ?? `http://${HOST}:15672`,
  username: 'guest',
  password: 'guest',
});
const silent = pino({ level: 'silent' });

/** What the test hands its handler classes under HANDLER_DEPS. */
interface TestDeps {
  started(): void;
  released: Promise<void>;
  events: string[];
}

@Controller()
class SlowProvisionBroker {
  constructor(@Inject(HANDLER_DEPS) private readonly deps: TestDeps) {}

  @MessagePattern('ProvisionBroker')
  async provision(@Payload() command: CommandMessage, @Ctx() context: CommandContext) {
    expect(context.commandId).toBe(command.metadata.messageId);
    this.deps.started();
    await this.deps.released;
    this.deps.events.push('handler finished');
    return { vhost: 'tenant-vhost' };
  }
}

@Controller()
class RefusingVerifyBroker {
  @MessagePattern('VerifyBroker')
  verify(): Promise<never> {
    // A StepError must reach the outcome recorder as thrown: Nest's default RPC filter would replace it.
    return Promise.reject(permanent('BROKER.VHOST_MISSING', 'vhost tenant-x is missing'));
  }
}

describe('ResourceServiceModule (Nest microservice on the command transport)', () => {
  const vhost = `nest-it-${randomBytes(4).toString('hex')}`;
  const amqpUrl = `amqp://guest:guest@${HOST}:5672/${encodeURIComponent(vhost)}`;
  const schema = `nest_it_${randomBytes(4).toString('hex')}`;
  let app: INestApplicationContext | undefined;
  let publisherConnection: MessagingConnection | undefined;
  let store: EventStore | undefined;

  beforeAll(async () => {
    await management.createVhost(vhost, 'nest context int test, safe to delete');
    await management.setPermissions(vhost, 'guest', { configure: '.*', write: '.*', read: '.*' });
  });
  afterAll(async () => {
    await app?.close();
    await publisherConnection?.close();
    await store?.close();
    await management.deleteVhost(vhost);
    const client = new Client({ connectionString: PG_URL });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await client.end();
  });

  it('serves /ready and /metrics, and drains the command in flight before closing in order', async () => {
    const events: string[] = [];
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let started!: () => void;
    const handlerStarted = new Promise<void>((resolve) => (started = resolve));
    const config = loadConfig(baseConfigSchema, {
      EVENTSTORE_URL: PG_URL,
      EVENTSTORE_SCHEMA: schema,
      EVENTSTORE_POOL_SIZE: '2',
      AMQP_URL: amqpUrl,
      HEALTH_PORT: '0',
      HEALTH_HOST: '127.0.0.1',
      SHUTDOWN_TIMEOUT_SECONDS: '30',
    });
    app = await createResourceServiceApp(
      ResourceServiceModule.forRoot(
        {
          service: 'broker',
          configSchema: z.looseObject({}),
          commandHandlers: [SlowProvisionBroker, RefusingVerifyBroker],
          createRuntime: async () => ({
            deps: { started, released, events } satisfies TestDeps,
            ready: async () => true,
            close: async () => {
              events.push('runtime closed');
            },
          }),
        },
        config,
        { logger: silent, faults: [] },
      ),
      silent,
    );
    // Providers by token: the lifecycle and the health server got the same instances the tokens resolve to.
    expect(app.get(ResourceServiceLifecycle)).toBeInstanceOf(ResourceServiceLifecycle);
    expect(Object.keys(app.get(CommandTransport).commandHandlers()).sort()).toEqual([
      'ProvisionBroker',
      'VerifyBroker',
    ]);
    expect(app.get(CommandTransport).listening).toBe(true);
    expect(app.get(MESSAGE_CONSUMER).isHealthy()).toBe(true);
    const eventStore = app.get<EventStore>(EVENT_STORE);
    const port = app.get(HealthServer).port;
    expect(port).toBeGreaterThan(0);
    const base = `http://127.0.0.1:${port}`;
    expect((await fetch(`${base}/ready`)).status).toBe(200);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain('provisioning_process_cpu_seconds_total{app="broker-service"}');
    expect(metrics).toContain('provisioning_parked_messages_total{queue="provisioning.broker-service"');

    // Decided commands: one whose handler refuses with a StepError, one in flight when the context closes.
    const tenantId = 'shop-nest-abc123';
    const commandId = randomUUID();
    const verifyId = randomUUID();
    store = await createEventStore(PG_URL, { schema, migrate: false });
    await store.append(
      tenantStream(tenantId),
      [
        {
          id: randomUUID(),
          type: 'StepStarted',
          data: { step: 'broker-verify', commandId: verifyId, commandType: 'VerifyBroker', params: {} },
        },
        {
          id: randomUUID(),
          type: 'StepStarted',
          data: { step: 'broker', commandId, commandType: 'ProvisionBroker', params: {} },
        },
      ],
      { expectedRevision: 'any' },
    );
    publisherConnection = new MessagingConnection({
      url: amqpUrl,
      connectionName: 'nest-it',
      logger: silent,
    });
    await publisherConnection.connect(15_000);
    const publisher = new MessagePublisher(publisherConnection);
    const commandOf = (type: 'ProvisionBroker' | 'VerifyBroker', step: string, id: string) =>
      buildMessage(
        type,
        { step, tenant: { tenantId }, params: {} },
        { tenantId, correlationId: 'corr-nest', actor: 'test' },
        id,
        new Date(),
      ) as unknown as CommandMessage;
    await publisher.publish(
      'provisioningCommands',
      commandRoutingKey('VerifyBroker'),
      commandOf('VerifyBroker', 'broker-verify', verifyId),
    );
    await publisher.publish(
      'provisioningCommands',
      commandRoutingKey('ProvisionBroker'),
      commandOf('ProvisionBroker', 'broker', commandId),
    );
    await handlerStarted;
    const closeEventStore = eventStore.close.bind(eventStore);
    jest.spyOn(eventStore, 'close').mockImplementation(async () => {
      events.push('event store closed');
      await closeEventStore();
    });
    const closing = app.close();
    setTimeout(release, 300);
    await closing;
    app = undefined;

    expect(events).toEqual(['handler finished', 'runtime closed', 'event store closed']);
    const recorded = await store.readStream(tenantStream(tenantId));
    expect(recorded.map((e) => e.type)).toEqual([
      'StepStarted',
      'StepStarted',
      'BrokerVerificationFailed',
      'BrokerProvisioned',
    ]);
    // The handler's StepError, as thrown: code and message, failed at once (permanent), not retried.
    expect(recorded[2]?.data).toMatchObject({
      commandId: verifyId,
      attempts: 1,
      error: { code: 'BROKER.VHOST_MISSING', message: 'vhost tenant-x is missing' },
    });
    await expect(fetch(`${base}/health`)).rejects.toThrow();
  });
});
