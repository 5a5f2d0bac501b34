import {
  CLOUDEVENTS_CONTENT_TYPE,
  DEFAULT_EXCHANGES,
  DEFAULT_RETRY,
  exchangeTopology,
  queueNames,
  queueTopology,
  type QueueBinding,
} from '@app/messaging';
import type { JsonSchema } from '@app/contracts';

/**
 * The building blocks of the AsyncAPI document: AMQP channel bindings read from the topology `@app/messaging`
 * declares (exchanges, and consuming queues with their retry and parking companions), and message objects for
 * the house envelope and for CloudEvents in structured mode.
 */

export const AMQP = { bindingVersion: '0.3.0' } as const;
export const ref = ($ref: string) => ({ $ref });
export const schemaRef = (id: string) => ref(`#/components/schemas/${id}`);

export function exchangeBinding(name: string): JsonSchema {
  const exchange = exchangeTopology(DEFAULT_EXCHANGES).exchanges.find((e) => e.name === name);
  if (!exchange) throw new Error(`exchange ${name} is not declared by the messaging topology`);
  return {
    amqp: {
      is: 'routingKey',
      exchange: {
        name: exchange.name,
        type: exchange.type,
        durable: exchange.options.durable,
        autoDelete: exchange.options.autoDelete,
      },
      ...AMQP,
    },
  };
}

export function messageRefs(ids: readonly string[]): JsonSchema {
  return Object.fromEntries(ids.map((id) => [id, ref(`#/components/messages/${id}`)]));
}

export function routingKeyChannel(
  exchange: string,
  routingKey: string,
  messages: readonly string[],
): JsonSchema {
  return {
    address: routingKey,
    title: `${exchange} ${routingKey}`,
    servers: [ref('#/servers/rabbitmq')],
    messages: messageRefs(messages),
    bindings: exchangeBinding(exchange),
  };
}

/** A consuming queue as the messaging library declares it, with its retry and parking companions. */
export function queueChannel(
  queue: string,
  bindings: QueueBinding[],
  messages: readonly string[],
): JsonSchema {
  const topology = queueTopology({
    queue,
    bindings,
    retry: DEFAULT_RETRY,
    queueType: 'quorum',
    deliveryLimit: 10,
  });
  const work = topology.queues[0];
  const names = queueNames(queue, DEFAULT_RETRY);
  return {
    address: queue,
    title: `queue ${queue}`,
    description:
      `Replicas consume it as competing consumers and acknowledge after the outcome is durable. With the ` +
      `default retry policy, failed deliveries wait in ${names.retry.join(', ')} (TTL, then back through ` +
      `the default exchange); the last failure is parked in ${names.parked} with x-park-reason and ` +
      `x-last-error-* headers.`,
    servers: [ref('#/servers/rabbitmq')],
    messages: messageRefs(messages),
    bindings: {
      amqp: {
        is: 'queue',
        queue: { name: work.name, durable: work.options.durable, exclusive: false, autoDelete: false },
        'x-bound-to': topology.bindings.map((b) => ({ exchange: b.exchange, routingKey: b.routingKey })),
        ...AMQP,
      },
    },
  };
}

export function amqpMessage(type: string, summary: string): JsonSchema {
  return {
    name: type,
    title: type,
    summary,
    contentType: 'application/json',
    payload: schemaRef(type),
    headers: schemaRef('AmqpHeaders'),
    correlationId: { location: '$message.payload#/metadata/correlationId' },
    bindings: { amqp: { contentEncoding: 'utf-8', messageType: type, ...AMQP } },
  };
}

/** A CloudEvent in structured mode: the body is the whole event, the binding's attributes copied as headers. */
export function cloudEventMessage(id: string, cloudEventType: string, summary: string): JsonSchema {
  return {
    name: id,
    title: cloudEventType,
    summary,
    contentType: CLOUDEVENTS_CONTENT_TYPE,
    payload: schemaRef(id),
    headers: schemaRef('CloudEventHeaders'),
    correlationId: { location: '$message.payload#/correlationid' },
    bindings: { amqp: { messageType: cloudEventType, ...AMQP } },
  };
}

export function channelMessages(channel: string, ids: readonly string[]): JsonSchema[] {
  return ids.map((id) => ref(`#/channels/${channel}/messages/${id}`));
}
