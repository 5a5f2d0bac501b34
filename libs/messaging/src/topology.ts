import type { Options } from 'amqplib';
import { MessagingError } from './errors';
import { assertName, ExchangeNames, QueueType, RetryPolicy } from './options';

/**
 * Queue type (DESIGN.md 5): quorum by default. Quorum queues are the replicated, durable type RabbitMQ
 * recommends for work that must not be lost (classic mirroring is deprecated), they count deliveries
 * (`x-delivery-count`, `x-delivery-limit`) so a message that crashes its consumer cannot loop forever, and
 * since 3.10 (the version here) they support queue TTL and at-least-once dead-lettering, which makes the
 * retry hop (retry queue TTL -> work queue) safe across a broker crash; classic dead-lettering is not
 * confirmed. `classic` stays available for brokers without the quorum/stream feature flags.
 */
export interface ExchangeDeclaration {
  name: string;
  type: 'topic' | 'direct';
  options: Options.AssertExchange;
}

export interface QueueDeclaration {
  name: string;
  options: Options.AssertQueue;
}

export interface BindingDeclaration {
  queue: string;
  exchange: string;
  routingKey: string;
}

export interface Topology {
  exchanges: ExchangeDeclaration[];
  queues: QueueDeclaration[];
  bindings: BindingDeclaration[];
}

export interface QueueBinding {
  /** Exchange name (already resolved from its logical key). */
  exchange: string;
  routingKey: string;
}

export interface QueueTopologyInput {
  queue: string;
  bindings: readonly QueueBinding[];
  retry: RetryPolicy;
  queueType: QueueType;
  /** Broker-side backstop above the consumer's own redelivery limit. */
  deliveryLimit: number;
}

/** Names of one consuming queue's plumbing; retry and parked messages travel through the default exchange. */
export interface QueueNames {
  work: string;
  parked: string;
  retry: string[];
}

const ROUTING_KEY_PATTERN = /^[A-Za-z0-9_*#-]+(\.[A-Za-z0-9_*#-]+)*$/;

export function assertRoutingKey(routingKey: string, allowWildcards: boolean): string {
  const ok =
    routingKey.length <= 255 &&
    ROUTING_KEY_PATTERN.test(routingKey) &&
    (allowWildcards || !/[*#]/.test(routingKey));
  if (!ok) {
    throw new MessagingError(
      'MESSAGING.INVALID_NAME',
      `routing key "${routingKey}" is not a valid ${allowWildcards ? 'binding pattern' : 'routing key'}`,
    );
  }
  return routingKey;
}

/** Delay before retry n (1-based) is `delays[n - 1]`: exponential, capped, at least one entry. */
export function backoffDelays(policy: RetryPolicy): number[] {
  const count = Math.max(1, policy.maxAttempts - 1);
  const delays: number[] = [];
  for (let i = 0; i < count; i += 1) {
    delays.push(Math.min(policy.maxDelayMs, Math.round(policy.initialDelayMs * policy.multiplier ** i)));
  }
  return delays;
}

export function queueNames(queue: string, policy: RetryPolicy): QueueNames {
  return {
    work: queue,
    parked: `${queue}.parked`,
    retry: backoffDelays(policy).map((_, i) => `${queue}.retry.${i + 1}`),
  };
}

export function exchangeTopology(names: ExchangeNames): Topology {
  return {
    exchanges: Object.values(names).map((name) => ({
      name: assertName('exchange', name),
      type: 'topic' as const,
      options: { durable: true, autoDelete: false },
    })),
    queues: [],
    bindings: [],
  };
}

function typeArguments(queueType: QueueType): Record<string, unknown> {
  return queueType === 'quorum'
    ? { 'x-queue-type': 'quorum', 'x-dead-letter-strategy': 'at-least-once', 'x-overflow': 'reject-publish' }
    : { 'x-queue-type': 'classic' };
}

export function queueTopology(input: QueueTopologyInput): Topology {
  const names = queueNames(assertName('queue', input.queue), input.retry);
  const base = typeArguments(input.queueType);
  const work: QueueDeclaration = {
    name: names.work,
    options: {
      durable: true,
      arguments: {
        ...base,
        // Only the broker's delivery limit dead-letters from the work queue: the consumer never rejects.
        'x-dead-letter-exchange': '',
        'x-dead-letter-routing-key': names.parked,
        ...(input.queueType === 'quorum' ? { 'x-delivery-limit': input.deliveryLimit } : {}),
      },
    },
  };
  const delays = backoffDelays(input.retry);
  const retries: QueueDeclaration[] = names.retry.map((name, i) => ({
    name,
    options: {
      durable: true,
      arguments: {
        ...base,
        'x-message-ttl': delays[i],
        'x-dead-letter-exchange': '',
        'x-dead-letter-routing-key': names.work,
      },
    },
  }));
  const parked: QueueDeclaration = {
    name: names.parked,
    options: { durable: true, arguments: { 'x-queue-type': input.queueType } },
  };
  return {
    exchanges: [],
    queues: [work, ...retries, parked],
    bindings: input.bindings.map((binding) => ({
      queue: names.work,
      exchange: assertName('exchange', binding.exchange),
      routingKey: assertRoutingKey(binding.routingKey, true),
    })),
  };
}

export function mergeTopologies(...parts: Topology[]): Topology {
  return {
    exchanges: parts.flatMap((part) => part.exchanges),
    queues: parts.flatMap((part) => part.queues),
    bindings: parts.flatMap((part) => part.bindings),
  };
}

/** The channel calls `applyTopology` needs; satisfied by amqplib channels. */
export interface TopologyChannel {
  assertExchange(name: string, type: string, options?: Options.AssertExchange): Promise<unknown>;
  assertQueue(name: string, options?: Options.AssertQueue): Promise<unknown>;
  bindQueue(queue: string, exchange: string, routingKey: string): Promise<unknown>;
}

/** Idempotent declaration, run again on every (re)connect. */
export async function applyTopology(channel: TopologyChannel, topology: Topology): Promise<void> {
  for (const exchange of topology.exchanges) {
    await channel.assertExchange(exchange.name, exchange.type, exchange.options);
  }
  for (const queue of topology.queues) {
    await channel.assertQueue(queue.name, queue.options);
  }
  for (const binding of topology.bindings) {
    await channel.bindQueue(binding.queue, binding.exchange, binding.routingKey);
  }
}
