import { randomBytes, randomUUID } from 'node:crypto';
import { buildMessage, commandRoutingKey, tenantStream, type CommandMessage } from '@app/contracts';
import { createEventStore, type EventStore } from '@app/event-store';
import { MessagePublisher, MessagingConnection } from '@app/messaging';
import { RabbitManagementClient } from '@app/rabbitmq-admin';
import { Controller } from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';
import { Client } from 'pg';
import pino from 'pino';
import { z } from 'zod';
import { runResourceService, type RunningService } from './bootstrap';
import { retryable } from './step-error';

/**
 * A resource service started as main.ts starts it, against the real RabbitMQ (in a vhost of its own) and the
 * PostgreSQL event store (a schema of its own, where the test records the orchestrator's decision of the command
 * it publishes): its health port serves /metrics, and a command parked after its last attempt is counted.
 */
const PG_URL = process.env.TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/provisioning_test';
const HOST = process.env.RABBITMQ_HOST ?? '127.0.0.1';
const management = new RabbitManagementClient({
  baseUrl: process.env.RABBITMQ_MANAGEMENT_URL ?? `http://${HOST}:15672`,
  username: 'guest',
  password: 'guest',
});

@Controller()
class UnreachableDatabases {
  @MessagePattern('ProvisionDatabases')
  provision(): Promise<never> {
    return Promise.reject(retryable('DATABASE.UNREACHABLE', 'MySQL refused the connection'));
  }
}

describe('runResourceService /metrics', () => {
  const vhost = `metrics-it-${randomBytes(4).toString('hex')}`;
  const amqpUrl = `amqp://guest:guest@${HOST}:5672/${encodeURIComponent(vhost)}`;
  let running: RunningService | undefined;
  let connection: MessagingConnection | undefined;
  let eventStore: EventStore | undefined;
  const schema = `metrics_it_${randomBytes(4).toString('hex')}`;

  beforeAll(async () => {
    await management.createVhost(vhost, 'metrics int test, safe to delete');
    await management.setPermissions(vhost, 'guest', { configure: '.*', write: '.*', read: '.*' });
  });
  afterAll(async () => {
    await running?.stop();
    await connection?.close();
    await eventStore?.close();
    await management.deleteVhost(vhost);
    const client = new Client({ connectionString: PG_URL });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await client.end();
  });

  it('serves process, handler and parked-message metrics beside /health and /ready', async () => {
    running = await runResourceService(
      {
        service: 'database',
        configSchema: z.object({}),
        commandHandlers: [UnreachableDatabases],
        createRuntime: async () => ({
          deps: undefined,
          ready: async () => true,
          close: async () => undefined,
        }),
      },
      {
        EVENTSTORE_URL: PG_URL,
        EVENTSTORE_SCHEMA: schema,
        EVENTSTORE_POOL_SIZE: '2',
        AMQP_URL: amqpUrl,
        HEALTH_PORT: '0',
        HEALTH_HOST: '127.0.0.1',
        COMMAND_MAX_ATTEMPTS: '1',
        LOG_LEVEL: 'silent',
      },
    );
    const base = `http://127.0.0.1:${running.healthPort}`;
    expect((await fetch(`${base}/health`)).status).toBe(200);
    let text = await (await fetch(`${base}/metrics`)).text();
    expect(text).toContain('provisioning_process_cpu_seconds_total{app="database-service"}');
    expect(text).toContain(
      'provisioning_parked_messages_total{queue="provisioning.database-service",reason="retries-exhausted"} 0',
    );

    connection = new MessagingConnection({
      url: amqpUrl,
      connectionName: 'metrics-it-publisher',
      logger: pino({ level: 'silent' }),
    });
    await connection.connect(15_000);
    const tenantId = 'shop-one-abc123';
    const commandId = randomUUID();
    const command = buildMessage(
      'ProvisionDatabases',
      { step: 'databases', tenant: { tenantId }, params: {} },
      { tenantId, correlationId: 'corr-metrics', actor: 'test' },
      commandId,
      new Date(),
    ) as unknown as CommandMessage;
    // Services run only what the orchestrator decided: its StepStarted comes first, as on the real path.
    eventStore = await createEventStore(PG_URL, { schema, migrate: false });
    const decision = { step: 'databases', commandId, commandType: 'ProvisionDatabases', params: {} };
    await eventStore.append(
      tenantStream(tenantId),
      [{ id: randomUUID(), type: 'StepStarted', data: decision }],
      { expectedRevision: 'any' },
    );
    await new MessagePublisher(connection).publish(
      'provisioningCommands',
      commandRoutingKey('ProvisionDatabases'),
      command,
    );
    const deadline = Date.now() + 20_000;
    for (;;) {
      text = await (await fetch(`${base}/metrics`)).text();
      if (text.includes('reason="retries-exhausted"} 1') || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(text).toContain(
      'provisioning_parked_messages_total{queue="provisioning.database-service",reason="retries-exhausted"} 1',
    );
    expect(text).toContain(
      'provisioning_command_duration_seconds_count{command="ProvisionDatabases",outcome="retried"} 1',
    );
    expect(text).not.toContain(tenantId);
  });
});
