import {
  BILLING_EVENTS,
  INTEGRATION_EVENTS,
  type BillingEventType,
  type IntegrationEventType,
  type Message,
} from '@app/contracts';
import type { Options } from 'amqplib';
import { CloudEvent, HTTP, ValidationError, type CloudEventV1, type Headers } from 'cloudevents';
import { parseEnvelope, type ParseResult } from './envelope';
import { errorMessage, MessagingError } from './errors';

/**
 * CloudEvents 1.0 on the bus, through the `cloudevents` SDK. Published events use the AMQP binding's structured
 * content mode: the body is the JSON event format (`application/cloudevents+json`), so the event travels whole
 * with its body through every hop (a parking queue, a shovel, a dump, a forward to HTTP or Kafka) and any
 * CloudEvents SDK reads it as it is; the binding's `cloudEvents:` application properties are copied beside it
 * (allowed in structured mode) so a broker or a tool can filter on them without reading the body. Incoming
 * events are read in either mode: structured, or binary (attributes in `cloudEvents:` or JMS-style
 * `cloudEvents_` application properties, `data` as the body, the AMQP content type as `datacontenttype`).
 */

export const CLOUDEVENTS_CONTENT_TYPE = 'application/cloudevents+json; charset=utf-8';
const CLOUDEVENTS_MEDIA_TYPE = 'application/cloudevents';
const ATTRIBUTE_PREFIXES = ['cloudEvents:', 'cloudEvents_'];
/**
 * Context attributes copied into the application properties of a structured event; `traceparent` and
 * `tracestate` are the Distributed Tracing extension's, when the event has them.
 */
const HEADER_ATTRIBUTES = [
  'specversion',
  'id',
  'type',
  'source',
  'subject',
  'time',
  'traceparent',
  'tracestate',
] as const;
/** A W3C `traceparent` (version 00): what the Distributed Tracing extension carries. */
const TRACEPARENT = /^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

/** Reverse-DNS namespace of the platform's event types. */
export const CLOUDEVENT_TYPE_NAMESPACE = 'com.collectverything';

/** The `source` of the integration events: the tenant provisioning control plane. */
export const INTEGRATION_EVENT_SOURCE = 'urn:collectverything:tenant-provisioning';

/** `tenant.activated` → `com.collectverything.tenant.activated`. */
export function integrationCloudEventType(type: IntegrationEventType): string {
  return `${CLOUDEVENT_TYPE_NAMESPACE}.${type}`;
}

/** `subscription.created` → `com.collectverything.billing.subscription.created`. */
export function billingCloudEventType(type: BillingEventType): string {
  return `${CLOUDEVENT_TYPE_NAMESPACE}.billing.${type}`;
}

const INTEGRATION_TYPES: ReadonlyMap<string, string> = new Map(
  Object.values(INTEGRATION_EVENTS).map((type) => [integrationCloudEventType(type), type]),
);
const BILLING_TYPES: ReadonlyMap<string, string> = new Map(
  Object.values(BILLING_EVENTS).map((type) => [billingCloudEventType(type), type]),
);

/** A CloudEvent with the two house extensions that tie it to the request it stems from. */
export interface CloudEventInput {
  id: string;
  source: string;
  type: string;
  subject: string;
  time: string;
  data: unknown;
  /** The `correlationid` extension: shared by every message of one business request. */
  correlationId: string;
  /** The `causationid` extension: the message or event that caused this one. */
  causationId?: string;
  /**
   * The CloudEvents Distributed Tracing extension: the W3C trace context the fact was recorded in (for an
   * integration event, the append of its lifecycle event), so the event names its trace wherever it is forwarded,
   * AMQP headers or not. Left out when it is not a valid `traceparent`.
   */
  traceContext?: { traceparent?: unknown; tracestate?: unknown };
}

/** A CloudEvent ready for the publisher: its body and AMQP properties. */
export interface EncodedCloudEvent {
  id: string;
  type: string;
  subject: string;
  correlationId: string;
  body: Buffer;
  properties: Options.Publish;
}

/** Reads a CloudEvent out of a delivery, or names why it is not one. */
export type CloudEventDecodeResult =
  { ok: true; event: CloudEventV1<unknown> } | { ok: false; reason: string };

/** The properties of a delivery that tell its format. */
export interface DeliveryProperties {
  contentType?: string;
  headers?: Record<string, unknown>;
}

/** Turns a delivery into the house envelope a consumer's handlers take (`Subscription.decode`). */
export type DeliveryDecoder = (content: Buffer, properties: DeliveryProperties) => ParseResult;

function validationReason(error: unknown): string {
  if (error instanceof ValidationError && Array.isArray(error.errors) && error.errors.length > 0) {
    const details = error.errors.map((e) =>
      typeof e === 'object' && e !== null && 'message' in e
        ? `${String((e as { instancePath?: string }).instancePath ?? '')} ${String(e.message)}`.trim()
        : String(e),
    );
    // The SDK appends the raw validator output to its message: keep its first line, then the details.
    return `${error.message.split('\n')[0]}: ${details.join('; ')}`;
  }
  return errorMessage(error).split('\n')[0];
}

/** Builds and validates the event with the SDK, and encodes it in structured mode. */
export function encodeCloudEvent(input: CloudEventInput): EncodedCloudEvent {
  let event: CloudEvent<unknown>;
  try {
    event = new CloudEvent<unknown>({
      specversion: '1.0',
      id: input.id,
      source: input.source,
      type: input.type,
      subject: input.subject,
      time: input.time,
      datacontenttype: 'application/json',
      data: input.data,
      correlationid: input.correlationId,
      ...(input.causationId ? { causationid: input.causationId } : {}),
      ...tracingExtension(input.traceContext),
    });
  } catch (error) {
    throw new MessagingError(
      'MESSAGING.INVALID_MESSAGE',
      `not a valid CloudEvent: ${validationReason(error)}`,
      {
        id: input.id,
        type: input.type,
      },
    );
  }
  const message = HTTP.structured(event);
  const headers: Record<string, string> = {};
  for (const attribute of HEADER_ATTRIBUTES) {
    const value = event[attribute];
    if (typeof value === 'string') headers[`cloudEvents:${attribute}`] = value;
  }
  return {
    id: event.id,
    type: event.type,
    subject: input.subject,
    correlationId: input.correlationId,
    body: Buffer.from(String(message.body), 'utf8'),
    properties: {
      persistent: true,
      contentType: CLOUDEVENTS_CONTENT_TYPE,
      messageId: event.id,
      correlationId: input.correlationId,
      type: event.type,
      timestamp: Math.floor(Date.parse(String(event.time)) / 1000),
      headers,
    },
  };
}

/** The Distributed Tracing extension's attributes of a trace context, when its `traceparent` is valid. */
function tracingExtension(context: CloudEventInput['traceContext']): Record<string, string> {
  const traceparent = context?.traceparent;
  if (typeof traceparent !== 'string' || !TRACEPARENT.test(traceparent)) return {};
  const tracestate = context?.tracestate;
  return typeof tracestate === 'string' && tracestate.length > 0
    ? { traceparent, tracestate }
    : { traceparent };
}

function headerText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value instanceof Date) return value.toISOString();
  return undefined;
}

/** The binding's attribute properties of a binary-mode delivery, as the SDK's `ce-` headers. */
function binaryAttributes(headers: Record<string, unknown> | undefined): Headers {
  const attributes: Headers = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    const prefix = ATTRIBUTE_PREFIXES.find((p) => name.startsWith(p));
    const text = prefix ? headerText(value) : undefined;
    if (prefix && text !== undefined) attributes[`ce-${name.slice(prefix.length).toLowerCase()}`] = text;
  }
  return attributes;
}

/** True when the delivery says it is a CloudEvent: a CloudEvents media type, or binary-mode attributes. */
export function isCloudEventDelivery(properties: DeliveryProperties): boolean {
  const contentType = typeof properties.contentType === 'string' ? properties.contentType : '';
  return (
    contentType.startsWith(CLOUDEVENTS_MEDIA_TYPE) || 'ce-specversion' in binaryAttributes(properties.headers)
  );
}

/** Reads a CloudEvent in structured or binary mode and validates it (the SDK's parser does not). */
export function decodeCloudEvent(content: Buffer, properties: DeliveryProperties): CloudEventDecodeResult {
  const contentType = typeof properties.contentType === 'string' ? properties.contentType : undefined;
  const structured = contentType?.startsWith(CLOUDEVENTS_MEDIA_TYPE) ?? false;
  if (structured && !contentType?.startsWith('application/cloudevents+json')) {
    return { ok: false, reason: `CloudEvents format ${contentType} is not supported (only JSON, one event)` };
  }
  const headers: Headers = structured
    ? { 'content-type': contentType }
    : { ...binaryAttributes(properties.headers), ...(contentType ? { 'content-type': contentType } : {}) };
  try {
    const decoded = HTTP.toEvent<unknown>({ headers, body: content.toString('utf8') });
    if (Array.isArray(decoded)) return { ok: false, reason: 'a batch of CloudEvents is not supported' };
    const event = new CloudEvent<unknown>(decoded);
    if (event.specversion !== '1.0') {
      return {
        ok: false,
        reason: `CloudEvents specversion ${event.specversion} is not supported (1.0 only)`,
      };
    }
    return { ok: true, event };
  } catch (error) {
    return { ok: false, reason: `not a valid CloudEvent: ${validationReason(error)}` };
  }
}

function extension(event: CloudEventV1<unknown>, name: string): string | undefined {
  const value = (event as unknown as Record<string, unknown>)[name];
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/**
 * The house envelope of a CloudEvent, for the consumer's handlers: the house type mapped from the CloudEvent
 * type (an unmapped type stays as it is, so the consumer parks it as of unknown type), `messageId` its id (the
 * dedupe key), `actor` its source, correlation and causation from the house extensions.
 */
export function cloudEventToMessage(
  event: CloudEventV1<unknown>,
  types: ReadonlyMap<string, string>,
  tenantId: string,
): Message {
  return {
    type: types.get(event.type) ?? event.type,
    data: event.data,
    metadata: {
      messageId: event.id,
      schemaVersion: 1,
      occurredAt: event.time ?? new Date().toISOString(),
      tenantId,
      correlationId: extension(event, 'correlationid') ?? event.id,
      causationId: extension(event, 'causationid') ?? null,
      actor: event.source,
    },
  };
}

/** The house envelope only: what a subscription reads unless it names another decoder. */
export const decodeEnvelopeDelivery: DeliveryDecoder = (content, properties) =>
  parseEnvelope(content, { contentType: properties.contentType });

function malformed(reason: string): ParseResult {
  return { ok: false, code: 'MESSAGING.MALFORMED', reason };
}

/** The subscription id of a billing payload (`{ event, timestamp, data: { subscription_id } }`), if any. */
function subscriptionIdOf(data: unknown): string | undefined {
  const inner = typeof data === 'object' && data !== null ? (data as { data?: unknown }).data : undefined;
  const id =
    typeof inner === 'object' && inner !== null
      ? (inner as { subscription_id?: unknown }).subscription_id
      : undefined;
  return typeof id === 'string' && id.length > 0 ? id : undefined;
}

/**
 * `billing.events`: billing's CloudEvents (`com.collectverything.billing.subscription.*`, either mode, `data`
 * the webhook's payload, `subject` the subscription id) beside the house envelope. The envelope's tenant id is
 * the subject, else the payload's subscription id, as billing's house envelopes carry it.
 */
export const decodeBillingDelivery: DeliveryDecoder = (content, properties) => {
  if (!isCloudEventDelivery(properties)) return decodeEnvelopeDelivery(content, properties);
  const decoded = decodeCloudEvent(content, properties);
  if (!decoded.ok) return malformed(decoded.reason);
  const { event } = decoded;
  if (typeof event.data !== 'object' || event.data === null || Array.isArray(event.data)) {
    return malformed('CloudEvent data must be the subscription payload, a JSON object');
  }
  const tenantId = event.subject ?? subscriptionIdOf(event.data) ?? event.id;
  return { ok: true, message: cloudEventToMessage(event, BILLING_TYPES, tenantId) };
};

/** `tenant.events`: the integration events, CloudEvents whose subject is the tenant id. */
export const decodeIntegrationDelivery: DeliveryDecoder = (content, properties) => {
  const decoded = decodeCloudEvent(content, properties);
  if (!decoded.ok) return malformed(decoded.reason);
  const { event } = decoded;
  if (!event.subject) return malformed('integration CloudEvent without subject (the tenant id)');
  return { ok: true, message: cloudEventToMessage(event, INTEGRATION_TYPES, event.subject) };
};
