import {
  API_INTAKE_QUEUE,
  BILLING_EVENTS,
  COMMAND_CATALOG,
  COMMAND_TYPES,
  commandRoutingKey,
  CONDITIONAL_INTEGRATION_SOURCES,
  dtoJsonSchema,
  EXCHANGES,
  INTEGRATION_EVENT_SOURCES,
  INTEGRATION_EVENTS,
  RESOURCE_SERVICES,
  serviceQueueName,
  SubscriptionCancelledDto,
  SubscriptionCreatedDto,
  SubscriptionReactivatedDto,
  SubscriptionResumedDto,
  SubscriptionSuspendedDto,
  SubscriptionUpdatedDto,
  type BillingEventType,
  type IntegrationEventType,
  type JsonSchema,
  type ResourceService,
} from '@app/contracts';
import {
  DEFAULT_EXCHANGES,
  DEFAULT_RETRY,
  exchangeTopology,
  queueNames,
  queueTopology,
  type QueueBinding,
} from '@app/messaging';
import { z } from 'zod';
import {
  amqpHeaders,
  commandMetadata,
  commandSchema,
  failureReason,
  integrationSchema,
  jsonValue,
  messageMetadata,
  resultSchemas,
  tenantProfile,
} from './payload-schemas';

/**
 * The AsyncAPI 3 document of the control plane's bus, generated from the catalogs (`COMMAND_CATALOG`, the
 * integration and billing events), the topology `@app/messaging` declares, and the payload schemas: zod's
 * JSON Schema output for the house messages (`payload-schemas.ts`), and for billing's payloads the JSON Schema
 * read from the class-validator DTOs intake validates them with. The application it describes is the control
 * plane as a whole: the orchestrator sends commands and integration events, the resource services receive
 * commands (each from its queue) and answer in the tenant's event stream, the API receives billing's events.
 */

const AMQP = { bindingVersion: '0.3.0' } as const;
const TENANT_STREAM = 'tenant-stream';
const ref = ($ref: string) => ({ $ref });
const schemaRef = (id: string) => ref(`#/components/schemas/${id}`);

const BILLING_DTOS: Record<BillingEventType, abstract new () => object> = {
  [BILLING_EVENTS.created]: SubscriptionCreatedDto,
  [BILLING_EVENTS.cancelled]: SubscriptionCancelledDto,
  [BILLING_EVENTS.updated]: SubscriptionUpdatedDto,
  [BILLING_EVENTS.suspended]: SubscriptionSuspendedDto,
  [BILLING_EVENTS.resumed]: SubscriptionResumedDto,
  [BILLING_EVENTS.reactivated]: SubscriptionReactivatedDto,
};

export type AsyncApiDocument = { asyncapi: string } & JsonSchema;

type Channels = Record<string, JsonSchema>;
type Operations = Record<string, JsonSchema>;

function exchangeBinding(name: string): JsonSchema {
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

function messageRefs(ids: readonly string[]): JsonSchema {
  return Object.fromEntries(ids.map((id) => [id, ref(`#/components/messages/${id}`)]));
}

function routingKeyChannel(exchange: string, routingKey: string, messages: readonly string[]): JsonSchema {
  return {
    address: routingKey,
    title: `${exchange} ${routingKey}`,
    servers: [ref('#/servers/rabbitmq')],
    messages: messageRefs(messages),
    bindings: exchangeBinding(exchange),
  };
}

/** A consuming queue as the messaging library declares it, with its retry and parking companions. */
function queueChannel(queue: string, bindings: QueueBinding[], messages: readonly string[]): JsonSchema {
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

function amqpMessage(type: string, summary: string): JsonSchema {
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

function channelMessages(channel: string, ids: readonly string[]): JsonSchema[] {
  return ids.map((id) => ref(`#/channels/${channel}/messages/${id}`));
}

function payloadSchemas(): Record<string, JsonSchema> {
  const registry = z.registry<{ id: string }>();
  registry.add(messageMetadata, { id: 'MessageMetadata' });
  registry.add(commandMetadata, { id: 'CommandMetadata' });
  registry.add(tenantProfile, { id: 'TenantProfile' });
  registry.add(failureReason, { id: 'FailureReason' });
  registry.add(amqpHeaders, { id: 'AmqpHeaders' });
  registry.add(jsonValue, { id: 'JsonValue' });
  for (const type of COMMAND_TYPES) {
    registry.add(commandSchema(type), { id: type });
    const results = resultSchemas(type);
    registry.add(results.succeeded, { id: COMMAND_CATALOG[type].succeeded });
    registry.add(results.failed, { id: COMMAND_CATALOG[type].failed });
  }
  for (const type of Object.values(INTEGRATION_EVENTS)) registry.add(integrationSchema(type), { id: type });
  const { schemas } = z.toJSONSchema(registry, {
    target: 'draft-7',
    io: 'input',
    uri: (id) => `#/components/schemas/${id}`,
  });
  const out: Record<string, JsonSchema> = {};
  // Each schema lives inside the document: no `$id` (it would change how its `$ref`s resolve), no `$schema`.
  for (const [id, schema] of Object.entries(schemas)) {
    const { $id: _id, $schema: _schema, ...rest } = schema as JsonSchema;
    out[id] = rest;
  }
  for (const [type, dto] of Object.entries(BILLING_DTOS)) {
    out[type] = {
      type: 'object',
      properties: { type: { const: type }, data: dtoJsonSchema(dto), metadata: schemaRef('MessageMetadata') },
      required: ['type', 'data', 'metadata'],
      description: `data is billing's payload, validated by ${dto.name} (class-validator) at intake`,
    };
  }
  return out;
}

function commandParts(
  channels: Channels,
  operations: Operations,
  messages: Record<string, JsonSchema>,
): void {
  const results: string[] = [];
  for (const type of COMMAND_TYPES) {
    const { service, succeeded, failed } = COMMAND_CATALOG[type];
    const routingKey = commandRoutingKey(type);
    const channel = `commands.${routingKey}`;
    channels[channel] = routingKeyChannel(EXCHANGES.commands, routingKey, [type]);
    messages[type] = amqpMessage(
      type,
      `Command to ${service}-service, answered by ${succeeded} or ${failed}`,
    );
    messages[succeeded] = { name: succeeded, title: succeeded, payload: schemaRef(succeeded) };
    messages[failed] = { name: failed, title: failed, payload: schemaRef(failed) };
    results.push(succeeded, failed);
    operations[`dispatch.${type}`] = {
      action: 'send',
      channel: ref(`#/channels/${channel}`),
      title: `Dispatch ${type}`,
      description:
        'The orchestrator appends StepStarted to the tenant stream, then publishes the command (mandatory: an ' +
        `unroutable command is an error); ${service}-service appends its outcome to the same stream.`,
      tags: [{ name: `${service}-service` }],
      messages: channelMessages(channel, [type]),
      bindings: { amqp: { deliveryMode: 2, mandatory: true, timestamp: true, ...AMQP } },
      reply: {
        channel: ref(`#/channels/${TENANT_STREAM}`),
        messages: channelMessages(TENANT_STREAM, [succeeded, failed]),
      },
    };
  }
  channels[TENANT_STREAM] = {
    address: 'tenant-{tenantId}',
    title: 'Tenant event stream',
    description:
      "The tenant's stream in the event store, where each resource service appends the outcome of a command " +
      '(the event id derived from the command id, so a redelivered command appends nothing new).',
    servers: [ref('#/servers/event-store')],
    parameters: { tenantId: { description: 'The tenant id' } },
    messages: messageRefs(results),
  };
  for (const service of RESOURCE_SERVICES) consumerPart(service, channels, operations);
}

function consumerPart(service: ResourceService, channels: Channels, operations: Operations): void {
  const owned = COMMAND_TYPES.filter((type) => COMMAND_CATALOG[type].service === service);
  const queue = serviceQueueName(service);
  const channel = `queue.${queue}`;
  const bindings = owned.map((type) => ({
    exchange: EXCHANGES.commands,
    routingKey: commandRoutingKey(type),
  }));
  channels[channel] = queueChannel(queue, bindings, owned);
  operations[`consume.${queue}`] = {
    action: 'receive',
    channel: ref(`#/channels/${channel}`),
    title: `${service}-service consumes its commands`,
    description:
      'A command the orchestrator did not decide (no matching StepStarted) is refused and recorded as ' +
      'UndecidedCommandRefused; one whose outcome is already recorded is acknowledged without running.',
    tags: [{ name: `${service}-service` }],
    messages: channelMessages(channel, owned),
    bindings: { amqp: { ack: true, ...AMQP } },
  };
}

function integrationParts(
  channels: Channels,
  operations: Operations,
  messages: Record<string, JsonSchema>,
): void {
  for (const type of Object.values(INTEGRATION_EVENTS) as IntegrationEventType[]) {
    const channel = `tenant-events.${type}`;
    const sources = Object.entries(INTEGRATION_EVENT_SOURCES)
      .filter(([, published]) => published === type)
      .map(([source]) => source);
    const conditional = sources.filter((s) => (CONDITIONAL_INTEGRATION_SOURCES as string[]).includes(s));
    channels[channel] = routingKeyChannel(EXCHANGES.tenantEvents, type, [type]);
    messages[type] = amqpMessage(type, `Published after ${sources.join(' or ')} is appended`);
    operations[`publish.${type}`] = {
      action: 'send',
      channel: ref(`#/channels/${channel}`),
      title: `Publish ${type}`,
      description:
        'Published at least once by the orchestrator (it retries until the broker confirms, and does not move ' +
        'past the event meanwhile); consumers dedupe by message id, derived from the event id.' +
        (conditional.length > 0
          ? ` After ${conditional.join(' or ')}, only when the tenant's state took the request.`
          : ''),
      tags: [{ name: 'orchestrator' }],
      messages: channelMessages(channel, [type]),
      bindings: { amqp: { deliveryMode: 2, mandatory: false, timestamp: true, ...AMQP } },
    };
  }
}

function billingParts(
  channels: Channels,
  operations: Operations,
  messages: Record<string, JsonSchema>,
): void {
  const types = Object.values(BILLING_EVENTS) as BillingEventType[];
  for (const type of types) {
    channels[`billing-events.${type}`] = routingKeyChannel(EXCHANGES.billing, type, [type]);
    messages[type] = amqpMessage(type, 'Billing event, the same payload as the matching webhook');
  }
  const channel = `queue.${API_INTAKE_QUEUE}`;
  channels[channel] = queueChannel(
    API_INTAKE_QUEUE,
    types.map((routingKey) => ({ exchange: EXCHANGES.billing, routingKey })),
    types,
  );
  operations[`consume.${API_INTAKE_QUEUE}`] = {
    action: 'receive',
    channel: ref(`#/channels/${channel}`),
    title: 'Intake consumes billing events',
    description:
      'The same idempotent intake as the webhooks: a payload it refuses is parked with its violations, ' +
      'anything else (event store unavailable, a lost race) retried.',
    tags: [{ name: 'provisioning-api' }],
    messages: channelMessages(channel, types),
    bindings: { amqp: { ack: true, ...AMQP } },
  };
}

export function buildAsyncApiDocument(): AsyncApiDocument {
  const channels: Channels = {};
  const operations: Operations = {};
  const messages: Record<string, JsonSchema> = {};
  commandParts(channels, operations, messages);
  integrationParts(channels, operations, messages);
  billingParts(channels, operations, messages);
  return {
    asyncapi: '3.1.0',
    info: {
      title: 'Tenant provisioning control plane: message bus',
      version: '1.0.0',
      description:
        'Commands on provisioning.commands (routing key <service>.<action>), their outcomes in the tenant ' +
        'event stream, integration events on tenant.events and billing events on billing.events. Every ' +
        'message is the JSON envelope { type, data, metadata }, published persistent with publisher confirms.',
    },
    defaultContentType: 'application/json',
    servers: {
      rabbitmq: {
        host: '{host}',
        protocol: 'amqp',
        protocolVersion: '0.9.1',
        description: 'RabbitMQ (AMQP_URL); exchange names are the defaults, a deployment may rename them',
        variables: { host: { default: 'localhost:5672', description: 'host:port of AMQP_URL' } },
      },
      'event-store': {
        host: '{host}',
        protocol: 'postgresql',
        description: 'The event store (EVENTSTORE_URL: PostgreSQL, or EventStoreDB over gRPC)',
        variables: { host: { default: 'localhost:5432', description: 'host:port of EVENTSTORE_URL' } },
      },
    },
    channels,
    operations,
    components: { schemas: payloadSchemas(), messages },
  };
}
