import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type Span,
  type TextMapGetter,
} from '@opentelemetry/api';
import type { ConsumeMessage, MessagePropertyHeaders } from 'amqplib';
import { HEADERS } from './envelope';
import { headerString, readDelivery } from './delivery';
import type { ErrorClassification } from './errors';

/**
 * Spans of the bus, after the messaging and RabbitMQ semantic conventions: a PRODUCER span per publish whose
 * W3C trace context travels in the message's AMQP headers (`traceparent`, `tracestate`), and a CONSUMER span
 * per delivery (`process`), child of the publish span read back from those headers, under which the handler
 * runs. With tracing off the spans are non-recording and no header is written.
 */

const tracer = trace.getTracer('@app/messaging');

/**
 * The conventions' names. The messaging conventions are still experimental: @opentelemetry/semantic-conventions
 * keeps them in its `incubating` entry point, which may change in a minor release, and advises copying them.
 * These are the names RabbitMQ's conventions give and tracing back ends read (`messaging.system`).
 */
export const MESSAGING_ATTRIBUTES = {
  system: 'messaging.system',
  operationName: 'messaging.operation.name',
  operationType: 'messaging.operation.type',
  destination: 'messaging.destination.name',
  subscription: 'messaging.destination.subscription.name',
  routingKey: 'messaging.rabbitmq.destination.routing_key',
  deliveryTag: 'messaging.rabbitmq.message.delivery_tag',
  messageId: 'messaging.message.id',
  conversationId: 'messaging.message.conversation_id',
  bodySize: 'messaging.message.body.size',
  errorType: 'error.type',
  serverAddress: 'server.address',
  serverPort: 'server.port',
} as const;

/** The broker a span's operation went to: host and port of the connection URL, never its credentials. */
export interface BrokerEndpoint {
  address: string;
  port: number;
}

/** `server.address` and `server.port` of an AMQP URL (5672, or 5671 for amqps, when it names none). */
export function brokerEndpoint(url: string): BrokerEndpoint | undefined {
  try {
    const parsed = new URL(url);
    if (!parsed.hostname) return undefined;
    const port = parsed.port ? Number(parsed.port) : parsed.protocol === 'amqps:' ? 5671 : 5672;
    return { address: parsed.hostname.replace(/^\[|\]$/g, ''), port };
  } catch {
    return undefined;
  }
}

function endpointAttributes(endpoint: BrokerEndpoint | undefined): Record<string, string | number> {
  return endpoint
    ? {
        [MESSAGING_ATTRIBUTES.serverAddress]: endpoint.address,
        [MESSAGING_ATTRIBUTES.serverPort]: endpoint.port,
      }
    : {};
}

/** This project's own attributes, beside the conventions'. */
export const PROVISIONING_ATTRIBUTES = {
  tenantId: 'provisioning.tenant.id',
  messageType: 'provisioning.message.type',
  attempt: 'provisioning.delivery.attempt',
  outcome: 'provisioning.delivery.outcome',
} as const;

const headerGetter: TextMapGetter<MessagePropertyHeaders | undefined> = {
  keys: (headers) => Object.keys(headers ?? {}),
  get: (headers, key) => headerString(headers, key),
};

/** The active trace context as AMQP headers (none with tracing off). */
export function traceHeaders(active: Context = context.active()): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(active, carrier);
  return carrier;
}

/**
 * The CloudEvents AMQP binding's names of the Distributed Tracing extension (binary mode, or copied beside a
 * structured event): `cloudEvents:traceparent`, or the JMS-style `cloudEvents_traceparent`.
 */
const CLOUDEVENTS_TRACE_PREFIXES = ['cloudEvents:', 'cloudEvents_'];

/** The extension's trace context read as the propagator's fields (`traceparent`, `tracestate`). */
const cloudEventTraceGetter: TextMapGetter<MessagePropertyHeaders | undefined> = {
  keys: () => ['traceparent', 'tracestate'],
  get: (headers, key) =>
    CLOUDEVENTS_TRACE_PREFIXES.map((prefix) => headerString(headers, `${prefix}${key}`)).find(
      (value) => value !== undefined,
    ),
};

/**
 * The trace context a delivery was published in: the AMQP headers' (`traceparent`, set by whoever published
 * it), else a CloudEvent's Distributed Tracing extension in the binding's application properties (a producer
 * that traces its events but not its AMQP client); the root context when it carries neither.
 */
export function deliveryTraceContext(headers: MessagePropertyHeaders | undefined): Context {
  const published = propagation.extract(ROOT_CONTEXT, headers, headerGetter);
  if (trace.getSpanContext(published)) return published;
  return propagation.extract(ROOT_CONTEXT, headers, cloudEventTraceGetter);
}

export interface PublishFacts {
  exchange: string;
  routingKey: string;
  messageId: string;
  correlationId: string;
  tenantId: string;
  type: string;
  bodySize: number;
  /** The broker, for `server.address`/`server.port` (the conventions require them when known). */
  server?: BrokerEndpoint;
}

/**
 * Runs `send` in the publish span (`publish <exchange>`), handing it the headers that carry the span's context;
 * the span ends when the broker confirmed, returned or refused the message.
 */
export function tracePublish<T>(
  facts: PublishFacts,
  send: (headers: Record<string, string>) => Promise<T>,
): Promise<T> {
  const attributes = {
    [MESSAGING_ATTRIBUTES.system]: 'rabbitmq',
    [MESSAGING_ATTRIBUTES.operationName]: 'publish',
    [MESSAGING_ATTRIBUTES.operationType]: 'send',
    [MESSAGING_ATTRIBUTES.destination]: facts.exchange,
    [MESSAGING_ATTRIBUTES.routingKey]: facts.routingKey,
    [MESSAGING_ATTRIBUTES.messageId]: facts.messageId,
    [MESSAGING_ATTRIBUTES.conversationId]: facts.correlationId,
    [MESSAGING_ATTRIBUTES.bodySize]: facts.bodySize,
    [PROVISIONING_ATTRIBUTES.tenantId]: facts.tenantId,
    [PROVISIONING_ATTRIBUTES.messageType]: facts.type,
    ...endpointAttributes(facts.server),
  };
  return tracer.startActiveSpan(
    `publish ${facts.exchange}`,
    { kind: SpanKind.PRODUCER, attributes },
    async (span) => {
      try {
        return await send(traceHeaders());
      } catch (error) {
        failSpan(span, errorCode(error), error instanceof Error ? error.message : String(error));
        throw error;
      } finally {
        span.end();
      }
    },
  );
}

/**
 * Runs the processing of one delivery in its CONSUMER span (`process <exchange>`), child of the publish span
 * whose context the delivery's headers carry; `run` resolves to the delivery's outcome (handled, retried,
 * parked…), recorded on the span.
 */
export function traceDelivery<T extends string>(
  msg: ConsumeMessage,
  queue: string,
  run: () => Promise<T>,
  server?: BrokerEndpoint,
): Promise<T> {
  const facts = readDelivery(msg);
  const tenantId = headerString(msg.properties.headers, HEADERS.tenantId);
  const attributes = {
    [MESSAGING_ATTRIBUTES.system]: 'rabbitmq',
    [MESSAGING_ATTRIBUTES.operationName]: 'process',
    [MESSAGING_ATTRIBUTES.operationType]: 'process',
    [MESSAGING_ATTRIBUTES.destination]: facts.exchange,
    [MESSAGING_ATTRIBUTES.subscription]: queue,
    [MESSAGING_ATTRIBUTES.routingKey]: facts.routingKey,
    [MESSAGING_ATTRIBUTES.deliveryTag]: msg.fields.deliveryTag,
    [MESSAGING_ATTRIBUTES.bodySize]: msg.content.length,
    [PROVISIONING_ATTRIBUTES.attempt]: facts.attempt,
    ...(facts.messageId ? { [MESSAGING_ATTRIBUTES.messageId]: facts.messageId } : {}),
    ...(facts.correlationId ? { [MESSAGING_ATTRIBUTES.conversationId]: facts.correlationId } : {}),
    ...(facts.type ? { [PROVISIONING_ATTRIBUTES.messageType]: facts.type } : {}),
    ...(tenantId ? { [PROVISIONING_ATTRIBUTES.tenantId]: tenantId } : {}),
    ...endpointAttributes(server),
  };
  return tracer.startActiveSpan(
    `process ${facts.exchange}`,
    { kind: SpanKind.CONSUMER, attributes },
    deliveryTraceContext(msg.properties.headers),
    async (span) => {
      try {
        const outcome = await run();
        span.setAttribute(PROVISIONING_ATTRIBUTES.outcome, outcome);
        return outcome;
      } catch (error) {
        failSpan(span, errorCode(error), error instanceof Error ? error.message : String(error));
        throw error;
      } finally {
        span.end();
      }
    },
  );
}

/** Marks the active delivery span failed: the handler threw, or the message is parked without a handler. */
export function recordDeliveryFailure(error: ErrorClassification): void {
  const span = trace.getActiveSpan();
  if (span) failSpan(span, error.code, error.message);
}

function failSpan(span: Span, code: string, message: string): void {
  span.setAttribute(MESSAGING_ATTRIBUTES.errorType, code);
  span.recordException({ name: code, message });
  span.setStatus({ code: SpanStatusCode.ERROR, message: code });
}

function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return code;
  return error instanceof Error ? error.name : 'Error';
}
