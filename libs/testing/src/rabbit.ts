import { randomBytes, randomUUID } from 'node:crypto';
import { buildMetadata, Message } from '@app/contracts';
import pino from 'pino';
import { RabbitManagementClient } from '@app/rabbitmq-admin';

/**
 * The local RabbitMQ for int specs (libs/messaging, libs/rabbitmq-admin): its address and admin account,
 * throw-away vhosts, envelopes. Exported from index.ts as the `rabbit` namespace.
 */
export const AMQP_HOST = process.env.RABBITMQ_HOST ?? '127.0.0.1';
export const MANAGEMENT_URL = process.env.RABBITMQ_MANAGEMENT_URL ?? `http://${AMQP_HOST}:15672`;
export const ADMIN_USER = process.env.RABBITMQ_USER ?? 'guest';
export const ADMIN_PASSWORD = process.env.RABBITMQ_PASSWORD ?? 'guest';

export const testLogger = pino({ level: process.env.LOG_LEVEL ?? 'silent' });

export function management(): RabbitManagementClient {
  return new RabbitManagementClient({
    baseUrl: MANAGEMENT_URL,
    username: ADMIN_USER,
    password: ADMIN_PASSWORD,
  });
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

export interface TestVhost {
  vhost: string;
  url: string;
  cleanup(): Promise<void>;
}

/** A fresh vhost the admin user may use, deleted (with everything in it) by `cleanup`. */
export async function createTestVhost(prefix = 'test-messaging'): Promise<TestVhost> {
  const client = management();
  const vhost = uniqueName(prefix);
  await client.createVhost(vhost, 'messaging test, safe to delete');
  await client.setPermissions(vhost, ADMIN_USER, { configure: '.*', write: '.*', read: '.*' });
  const url = `amqp://${encodeURIComponent(ADMIN_USER)}:${encodeURIComponent(ADMIN_PASSWORD)}@${AMQP_HOST}:5672/${encodeURIComponent(vhost)}`;
  return {
    vhost,
    url,
    cleanup: async () => {
      await client.deleteVhost(vhost);
    },
  };
}

export function envelope<T>(
  type: string,
  data: T,
  overrides: Partial<Message['metadata']> = {},
): Message<string, T> {
  const metadata = buildMetadata(
    { tenantId: 'acme-corp-0a1b2c', correlationId: randomUUID(), actor: 'test' },
    randomUUID(),
    new Date(),
  );
  return { type, data, metadata: { ...metadata, ...overrides } };
}

export async function eventually<T>(
  probe: () => T | undefined | Promise<T | undefined>,
  what: string,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
