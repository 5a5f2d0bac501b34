import {
  API_INTAKE_QUEUE,
  BILLING_EVENTS,
  COMMAND_CATALOG,
  COMMAND_TYPES,
  commandRoutingKey,
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
import { billingCloudEventType, integrationCloudEventType } from '@app/messaging';
import {
  AMQP,
  amqpMessage,
  channelMessages,
  cloudEventMessage,
  messageRefs,
  queueChannel,
  ref,
  routingKeyChannel,
  schemaRef,
} from './asyncapi-channels';
import { z } from 'zod';
import {
  amqpHeaders,
  billingCloudEventSchema,
  cloudEventHeaders,
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
 * Integration events are CloudEvents 1.0 (structured mode); billing may send its events as CloudEvents too.
 */

const TENANT_STREAM = 'tenant-stream';
/** Message and schema id of a billing event sent as a CloudEvent, structured or binary. */
const billingCloudEventId = (type: string, mode: 'structured' | 'binary') => `${type}.cloudevent-${mode}`;

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

function payloadSchemas(): Record<string, JsonSchema> {
  const registry = z.registry<{ id: string }>();
  registry.add(messageMetadata, { id: 'MessageMetadata' });
  registry.add(commandMetadata, { id: 'CommandMetadata' });
  registry.add(tenantProfile, { id: 'TenantProfile' });
  registry.add(failureReason, { id: 'FailureReason' });
  registry.add(amqpHeaders, { id: 'AmqpHeaders' });
  registry.add(cloudEventHeaders, { id: 'CloudEventHeaders' });
  registry.add(jsonValue, { id: 'JsonValue' });
  for (const type of COMMAND_TYPES) {
    registry.add(commandSchema(type), { id: type });
    const results = resultSchemas(type);
    registry.add(results.succeeded, { id: COMMAND_CATALOG[type].succeeded });
    registry.add(results.failed, { id: COMMAND_CATALOG[type].failed });
  }
  for (const type of Object.values(INTEGRATION_EVENTS)) registry.add(integrationSchema(type), { id: type });
  for (const type of Object.keys(BILLING_DTOS) as BillingEventType[]) {
    registry.add(billingCloudEventSchema(type), { id: billingCloudEventId(type, 'structured') });
  }
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
    const validated = `validated by ${dto.name} (class-validator) at intake`;
    out[type] = {
      type: 'object',
      properties: { type: { const: type }, data: dtoJsonSchema(dto), metadata: schemaRef('MessageMetadata') },
      required: ['type', 'data', 'metadata'],
      description: `data is billing's payload, ${validated}`,
    };
    const structured = out[billingCloudEventId(type, 'structured')];
    structured.properties = { ...(structured.properties as JsonSchema), data: dtoJsonSchema(dto) };
    structured.description = `A CloudEvent whose data is billing's payload, ${validated}`;
    out[billingCloudEventId(type, 'binary')] = {
      ...dtoJsonSchema(dto),
      description: `The data of a binary-mode CloudEvent: billing's payload, ${validated}`,
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
    channels[channel] = routingKeyChannel(EXCHANGES.tenantEvents, type, [type]);
    messages[type] = cloudEventMessage(
      type,
      integrationCloudEventType(type),
      `CloudEvent published after ${sources.join(' or ')} is appended; subject is the tenant id`,
    );
    operations[`publish.${type}`] = {
      action: 'send',
      channel: ref(`#/channels/${channel}`),
      title: `Publish ${type}`,
      description:
        'Published at least once by the orchestrator (it retries until the broker confirms, and does not move ' +
        'past the event meanwhile); consumers dedupe by the CloudEvent id (also the AMQP message id), derived ' +
        'from the lifecycle event id, so a republished event keeps it.',
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
  const all: string[] = [];
  for (const type of types) {
    const structured = billingCloudEventId(type, 'structured');
    const binary = billingCloudEventId(type, 'binary');
    channels[`billing-events.${type}`] = routingKeyChannel(EXCHANGES.billing, type, [
      type,
      structured,
      binary,
    ]);
    messages[type] = amqpMessage(type, 'Billing event, the same payload as the matching webhook');
    messages[structured] = cloudEventMessage(
      structured,
      billingCloudEventType(type),
      'The billing event as a CloudEvent in structured mode; subject the subscription id',
    );
    messages[binary] = {
      name: binary,
      title: billingCloudEventType(type),
      summary:
        'The billing event as a CloudEvent in binary mode: the attributes in cloudEvents: (or JMS-style ' +
        'cloudEvents_) application properties, the payload as the body, its content type the datacontenttype',
      contentType: 'application/json',
      payload: schemaRef(binary),
      headers: schemaRef('CloudEventHeaders'),
      bindings: { amqp: { ...AMQP } },
    };
    all.push(type, structured, binary);
  }
  const channel = `queue.${API_INTAKE_QUEUE}`;
  channels[channel] = queueChannel(
    API_INTAKE_QUEUE,
    types.map((routingKey) => ({ exchange: EXCHANGES.billing, routingKey })),
    all,
  );
  operations[`consume.${API_INTAKE_QUEUE}`] = {
    action: 'receive',
    channel: ref(`#/channels/${channel}`),
    title: 'Intake consumes billing events',
    description:
      'The same idempotent intake as the webhooks: a payload it refuses is parked with its violations, ' +
      'anything else (event store unavailable, a lost race) retried.',
    tags: [{ name: 'provisioning-api' }],
    messages: channelMessages(channel, all),
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
        'event stream, integration events on tenant.events and billing events on billing.events. Commands ' +
        'and results are the JSON envelope { type, data, metadata }; integration events are CloudEvents 1.0 ' +
        'in structured mode (application/cloudevents+json, types com.collectverything.tenant.*); billing may ' +
        'send the envelope or CloudEvents (com.collectverything.billing.subscription.*, structured or binary ' +
        'mode). Everything is published persistent with publisher confirms.',
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
