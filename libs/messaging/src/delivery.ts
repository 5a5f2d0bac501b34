import type { ConsumeMessage, MessagePropertyHeaders, Options } from 'amqplib';
import { decodeEnvelopeDelivery, type DeliveryDecoder } from './cloudevents';
import { HEADERS, type Message } from './envelope';
import { errorMessage, type ErrorClassification, type MessagingErrorCode } from './errors';
import type { MessageHandler, ParkReason } from './subscription';

/**
 * One delivery as the consumer reads it: its history from the headers (attempt, original exchange and routing
 * key), the verdict it gets before any handler runs (park it, or hand it to its handler), and the copy of it
 * sent to a retry or parking queue.
 */

/** Header that ties a copy to the broker's `return` of it: the copy failed if the broker returned it. */
export const PUBLISH_ID_HEADER = 'x-publish-id';

/** Delivery-history headers a copy must not carry over: the broker's own, and those the copy rewrites. */
const STRIPPED_HEADERS = [
  'x-death',
  'x-first-death-exchange',
  'x-first-death-queue',
  'x-first-death-reason',
  HEADERS.deliveryCount,
  HEADERS.parkPending,
];

export function headerNumber(headers: MessagePropertyHeaders | undefined, key: string): number | undefined {
  const value: unknown = headers?.[key];
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && /^\d+$/.test(value)) return Number(value);
  return undefined;
}

export function headerString(headers: MessagePropertyHeaders | undefined, key: string): string | undefined {
  const value: unknown = headers?.[key];
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  return undefined;
}

export interface DeliveryFacts {
  /** 1-based handler attempt. */
  attempt: number;
  /** Where the message was first published (a retry comes back from the default exchange). */
  exchange: string;
  routingKey: string;
  messageId?: string;
  correlationId?: string;
  causationId?: string;
  type?: string;
}

export function readDelivery(msg: ConsumeMessage): DeliveryFacts {
  const props = msg.properties;
  const headers = props.headers;
  return {
    attempt: (headerNumber(headers, HEADERS.retryCount) ?? 0) + 1,
    exchange: headerString(headers, HEADERS.originalExchange) ?? msg.fields.exchange,
    routingKey: headerString(headers, HEADERS.originalRoutingKey) ?? msg.fields.routingKey,
    messageId: props.messageId as string | undefined,
    correlationId: props.correlationId as string | undefined,
    causationId: headerString(headers, HEADERS.causationId),
    type: props.type as string | undefined,
  };
}

export type Verdict =
  | { park: ParkReason; error: ErrorClassification; attempts: number; envelope?: Message }
  | { park?: undefined; handler: MessageHandler; message: Message };

/**
 * What happens to a delivery before any handler runs: a park the onParked hook failed to record is retried;
 * malformed, unknown, invalid and too often redelivered messages are parked; the rest go to their handler.
 */
export function verdict(
  msg: ConsumeMessage,
  attempt: number,
  handlers: Readonly<Record<string, MessageHandler>>,
  maxRedeliveries: number,
  decode: DeliveryDecoder = decodeEnvelopeDelivery,
): Verdict {
  const headers = msg.properties.headers;
  const parsed = decode(msg.content, msg.properties);
  const envelope = parsed.ok ? parsed.message : undefined;
  const park = (reason: ParkReason, code: MessagingErrorCode, message: string, attempts = 0): Verdict => ({
    park: reason,
    error: { retryable: false, code, message },
    attempts,
    envelope,
  });
  const pendingReason = headerString(headers, HEADERS.parkPending) as ParkReason | undefined;
  if (pendingReason !== undefined) {
    return {
      park: pendingReason,
      error: {
        retryable: false,
        code: headerString(headers, HEADERS.lastErrorCode) ?? 'UNKNOWN',
        message: headerString(headers, HEADERS.lastErrorMessage) ?? '',
      },
      attempts: headerNumber(headers, HEADERS.attempts) ?? attempt - 1,
      envelope,
    };
  }
  if (!parsed.ok) return park('malformed', 'MESSAGING.MALFORMED', parsed.reason);
  const message = parsed.message;
  const handler: MessageHandler | undefined = handlers[message.type];
  if (handler === undefined) {
    return park('unknown-type', 'MESSAGING.UNKNOWN_TYPE', `no handler for type ${message.type}`);
  }
  let problems: readonly string[] | undefined;
  try {
    problems = handler.validate?.(message);
  } catch (error) {
    problems = [`validator threw: ${errorMessage(error)}`];
  }
  if (problems !== undefined && problems.length > 0) {
    return park('validation-failed', 'MESSAGING.VALIDATION_FAILED', problems.join('; '));
  }
  const deliveries = headerNumber(headers, HEADERS.deliveryCount) ?? 0;
  if (deliveries >= maxRedeliveries) {
    const reason = `delivered ${deliveries + 1} times without an outcome`;
    return park('redelivery-limit', 'MESSAGING.REDELIVERY_LIMIT', reason, attempt);
  }
  return { handler, message };
}

/** The publish options of a delivery's copy: its own properties, its history headers rewritten. */
export function copyOptions(
  msg: ConsumeMessage,
  extraHeaders: Record<string, string | number>,
  publishId: string,
): Options.Publish {
  const props = msg.properties;
  const headers: Record<string, unknown> = { ...props.headers };
  for (const key of STRIPPED_HEADERS) delete headers[key];
  return {
    persistent: true,
    mandatory: true,
    contentType: props.contentType as string | undefined,
    contentEncoding: props.contentEncoding as string | undefined,
    messageId: props.messageId as string | undefined,
    correlationId: props.correlationId as string | undefined,
    type: props.type as string | undefined,
    timestamp: props.timestamp as number | undefined,
    appId: props.appId as string | undefined,
    headers: { ...headers, ...extraHeaders, [PUBLISH_ID_HEADER]: publishId },
  };
}
