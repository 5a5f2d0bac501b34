import { MessagingError } from './errors';
import { DEFAULT_EXCHANGES, DEFAULT_RETRY, resolveOptions } from './options';
import {
  applyTopology,
  backoffDelays,
  exchangeTopology,
  queueNames,
  queueTopology,
  TopologyChannel,
} from './topology';

describe('backoffDelays', () => {
  it('grows exponentially and is capped, one delay per retry', () => {
    expect(
      backoffDelays({ maxAttempts: 5, initialDelayMs: 1000, multiplier: 4, maxDelayMs: 30_000 }),
    ).toEqual([1000, 4000, 16_000, 30_000]);
  });

  it('keeps one retry queue even with a single attempt (used while an onParked hook fails)', () => {
    expect(backoffDelays({ ...DEFAULT_RETRY, maxAttempts: 1 })).toEqual([DEFAULT_RETRY.initialDelayMs]);
  });
});

describe('queueTopology', () => {
  const retry = { maxAttempts: 3, initialDelayMs: 100, multiplier: 2, maxDelayMs: 1000 };
  const topology = queueTopology({
    queue: 'provisioning.database-service',
    bindings: [{ exchange: 'provisioning.commands', routingKey: 'database.#' }],
    retry,
    queueType: 'quorum',
    deliveryLimit: 15,
  });

  it('declares the work queue, one retry queue per retry and a parking queue', () => {
    expect(topology.queues.map((q) => q.name)).toEqual([
      'provisioning.database-service',
      'provisioning.database-service.retry.1',
      'provisioning.database-service.retry.2',
      'provisioning.database-service.parked',
    ]);
    expect(queueNames('provisioning.database-service', retry).retry).toHaveLength(2);
  });

  it('dead-letters retry queues back to the work queue after their TTL, through the default exchange', () => {
    const [, first, second] = topology.queues;
    expect(first.options.arguments).toMatchObject({
      'x-message-ttl': 100,
      'x-dead-letter-exchange': '',
      'x-dead-letter-routing-key': 'provisioning.database-service',
    });
    expect(second.options.arguments?.['x-message-ttl']).toBe(200);
  });

  it('makes every queue durable and quorum, the work queue dead-lettering to parked at its delivery limit', () => {
    expect(topology.queues.every((q) => q.options.durable === true)).toBe(true);
    expect(topology.queues.every((q) => q.options.arguments?.['x-queue-type'] === 'quorum')).toBe(true);
    expect(topology.queues[0].options.arguments).toMatchObject({
      'x-delivery-limit': 15,
      'x-dead-letter-routing-key': 'provisioning.database-service.parked',
      'x-dead-letter-strategy': 'at-least-once',
    });
  });

  it('omits quorum-only arguments for classic queues', () => {
    const classic = queueTopology({
      queue: 'q',
      bindings: [],
      retry,
      queueType: 'classic',
      deliveryLimit: 5,
    });
    expect(classic.queues[0].options.arguments).not.toHaveProperty('x-delivery-limit');
    expect(classic.queues[0].options.arguments).not.toHaveProperty('x-dead-letter-strategy');
  });

  it('binds the work queue by routing key', () => {
    expect(topology.bindings).toEqual([
      { queue: 'provisioning.database-service', exchange: 'provisioning.commands', routingKey: 'database.#' },
    ]);
  });

  it('refuses unsafe queue names and binding patterns', () => {
    const base = { bindings: [], retry, queueType: 'quorum' as const, deliveryLimit: 5 };
    expect(() => queueTopology({ ...base, queue: 'bad name' })).toThrow(MessagingError);
    expect(() =>
      queueTopology({ ...base, queue: 'q', bindings: [{ exchange: 'x', routingKey: 'a..b' }] }),
    ).toThrow(expect.objectContaining({ code: 'MESSAGING.INVALID_NAME' }));
  });
});

describe('exchangeTopology and applyTopology', () => {
  it('declares the three durable topic exchanges, then queues, then bindings', async () => {
    const calls: string[] = [];
    const channel: TopologyChannel = {
      assertExchange: async (name, type, options) =>
        calls.push(`exchange ${name} ${type} ${String(options?.durable)}`),
      assertQueue: async (name) => calls.push(`queue ${name}`),
      bindQueue: async (queue, exchange, key) => calls.push(`bind ${queue} ${exchange} ${key}`),
    };
    const queue = queueTopology({
      queue: 'svc',
      bindings: [{ exchange: 'tenant.events', routingKey: 'tenant.*' }],
      retry: { ...DEFAULT_RETRY, maxAttempts: 2 },
      queueType: 'classic',
      deliveryLimit: 5,
    });
    await applyTopology(channel, {
      ...exchangeTopology(DEFAULT_EXCHANGES),
      queues: queue.queues,
      bindings: queue.bindings,
    });
    expect(calls).toEqual([
      'exchange billing.events topic true',
      'exchange provisioning.commands topic true',
      'exchange tenant.events topic true',
      'queue svc',
      'queue svc.retry.1',
      'queue svc.parked',
      'bind svc tenant.events tenant.*',
    ]);
  });
});

describe('resolveOptions', () => {
  it('applies defaults and custom exchange names', () => {
    const resolved = resolveOptions({
      url: 'amqp://u:p@h/v',
      connectionName: 'svc',
      exchanges: { tenantEvents: 't1.tenant.events' },
    });
    expect(resolved.exchanges).toEqual({ ...DEFAULT_EXCHANGES, tenantEvents: 't1.tenant.events' });
    expect(resolved.queueType).toBe('quorum');
  });

  it('names the bad option', () => {
    expect(() => resolveOptions({ url: 'http://x', connectionName: 'svc' })).toThrow(/url/);
    expect(() => resolveOptions({ url: 'amqp://h', connectionName: 'svc', prefetch: 0 })).toThrow(/prefetch/);
    expect(() =>
      resolveOptions({ url: 'amqp://h', connectionName: 'svc', exchanges: { billingEvents: 'a/b' } }),
    ).toThrow(/billingEvents/);
  });
});
