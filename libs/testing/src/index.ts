import { randomBytes } from 'node:crypto';
import {
  buildMessage,
  domainFor,
  generateTenantId,
  isTenantId,
  type CommandMessage,
  type CommandType,
  type ParamsOf,
  type TenantProfile,
} from '@app/contracts';
import type { EventStore, ReadAllFilter, RecordedEvent } from '@app/event-store';
import type { CommandContext, CommandHandler, CommandHandlers } from '@app/platform';
import pino from 'pino';

/**
 * Helpers for tests only (a boundary rule keeps production code from importing this library): tenants with
 * unique ids, and commands built the way the orchestrator builds them.
 */

export function testTenant(companyName = 'Test Co', overrides: Partial<TenantProfile> = {}): TenantProfile {
  const tenantId = overrides.tenantId ?? generateTenantId(companyName, randomBytes(3).toString('hex'));
  return {
    tenantId,
    companyName,
    adminEmail: 'admin@example.com',
    billingEmail: 'billing@example.com',
    tier: 'premium',
    region: 'eu-west',
    // Hostile ids (tests that prove validation) have no domain: give them one that can never resolve.
    domain: isTenantId(tenantId) ? domainFor(tenantId) : 'hostile.invalid',
    subscriptionId: `sub_${randomBytes(4).toString('hex')}`,
    plan: { price: 124.99, currency: 'EUR', billingPeriod: 'monthly' },
    createdAt: '2025-06-01T00:00:00.000Z',
    ...overrides,
  };
}

export function command<C extends CommandType>(
  type: C,
  tenant: TenantProfile,
  params: ParamsOf<C> = {} as ParamsOf<C>,
  options: { id?: string; now?: Date; step?: string } = {},
): CommandMessage<C> {
  const id = options.id ?? `${type}-${randomBytes(4).toString('hex')}`;
  return buildMessage(
    type,
    { step: options.step ?? 'test', tenant, params },
    { tenantId: tenant.tenantId, correlationId: id, actor: 'test' },
    id,
    options.now ?? new Date('2025-07-15T10:00:00.000Z'),
  ) as CommandMessage<C>;
}

export function context(): CommandContext {
  return { commandId: 'c', correlationId: 'c', attempt: 1, logger: pino({ level: 'silent' }) };
}

/** Runs one handler of a handler set with a freshly built command. */
export function runner(handlers: CommandHandlers) {
  return <C extends CommandType>(
    type: C,
    tenant: TenantProfile,
    params: ParamsOf<C>,
    id?: string,
    step?: string,
  ) => {
    const handler = handlers[type] as CommandHandler<C> | undefined;
    if (!handler) throw new Error(`no handler for ${type}`);
    return handler(command(type, tenant, params, { id, step }), context());
  };
}

/**
 * All events of a filter once at least `count` of them are visible. The PostgreSQL store shows events to
 * `readAll` and subscriptions only below the server-wide snapshot xmin (so that no reader ever skips a late
 * commit); while any other transaction on the server is open, events appended a moment ago are not visible
 * yet. Tests that read "everything" right after appending wait here instead of racing that horizon.
 */
export async function readAllWhenVisible(
  store: EventStore,
  filter: ReadAllFilter,
  count: number,
  timeoutMs = 30_000,
): Promise<RecordedEvent[]> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const events = await store.readAll({ filter, limit: 100_000 });
    if (events.length >= count) return events;
    if (Date.now() > until)
      throw new Error(`only ${events.length} of ${count} events visible after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
export { TestHttpProxy } from './http-proxy';

/**
 * The probe's first defined value, trying every 100 ms until `timeoutMs`. A probe that throws is tried again
 * (the server may not be ready yet); on timeout its last error is named, so a steady failure (a wrong queue
 * name, a 404) does not pass for slowness.
 */
export async function eventually<T>(
  probe: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const cause =
        lastError === undefined ? '' : ` (last error: ${(lastError as Error).message ?? String(lastError)})`;
      throw new Error(`timed out waiting for ${what}${cause}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
export { freePort } from './free-port';
export { PrivatePostgres, postgresBinDir } from './private-postgres';
export { PrivateMariadb } from './private-mariadb';
export { PrivateRabbitmq } from './private-rabbitmq';
export * as rabbit from './rabbit';
export * from './span-recorder';
export { binaryCloudEvent, type BinaryCloudEventAttributes } from './cloudevents';
export { TEST_DATABASE_URL, testSchemas, type TestSchemas } from './test-schemas';
