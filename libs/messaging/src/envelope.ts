import type { Message, MessageMetadata } from '@app/contracts';
import type { MessageProperties, Options } from 'amqplib';
import { MessagingError } from './errors';

export type { Message, MessageMetadata };

/** Header names this library writes; `x-` ones describe the delivery history, the others the envelope. */
export const HEADERS = {
  causationId: 'causation-id',
  tenantId: 'tenant-id',
  schemaVersion: 'schema-version',
  commandId: 'command-id',
  actor: 'actor',
  retryCount: 'x-retry-count',
  originalExchange: 'x-original-exchange',
  originalRoutingKey: 'x-original-routing-key',
  lastErrorCode: 'x-last-error-code',
  lastErrorMessage: 'x-last-error-message',
  parkReason: 'x-park-reason',
  parkPending: 'x-park-pending',
  attempts: 'x-attempts',
  parkedAt: 'x-parked-at',
  parkedFrom: 'x-parked-from',
  deliveryCount: 'x-delivery-count',
} as const;

export function publishOptionsFor(message: Message): Options.Publish {
  const meta = message.metadata;
  const occurred = Date.parse(meta.occurredAt);
  return {
    persistent: true,
    mandatory: true,
    contentType: 'application/json',
    contentEncoding: 'utf-8',
    messageId: meta.messageId,
    correlationId: meta.correlationId,
    type: message.type,
    timestamp: Math.floor((Number.isNaN(occurred) ? Date.now() : occurred) / 1000),
    appId: meta.actor,
    headers: {
      [HEADERS.causationId]: meta.causationId,
      [HEADERS.tenantId]: meta.tenantId,
      [HEADERS.schemaVersion]: meta.schemaVersion,
      ...(meta.commandId ? { [HEADERS.commandId]: meta.commandId } : {}),
      [HEADERS.actor]: meta.actor,
    },
  };
}

/** Checks the envelope before it leaves, so a bad producer fails at its own call site, not in a consumer. */
export function assertPublishable(message: Message): void {
  const reason = envelopeProblem(message);
  if (reason) throw new MessagingError('MESSAGING.INVALID_MESSAGE', reason);
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

function envelopeProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'envelope is not an object';
  const record = value as Record<string, unknown>;
  if (!isNonEmptyString(record.type)) return 'envelope.type is missing';
  if (!('data' in record)) return 'envelope.data is missing';
  const meta = record.metadata;
  if (typeof meta !== 'object' || meta === null) return 'envelope.metadata is missing';
  const m = meta as Record<string, unknown>;
  for (const key of ['messageId', 'tenantId', 'correlationId', 'occurredAt', 'actor'] as const) {
    if (!isNonEmptyString(m[key])) return `envelope.metadata.${key} is missing`;
  }
  if (!(m.causationId === null || isNonEmptyString(m.causationId))) {
    return 'envelope.metadata.causationId must be a string or null';
  }
  if (!Number.isInteger(m.schemaVersion)) return 'envelope.metadata.schemaVersion must be an integer';
  if (m.commandId !== undefined && !isNonEmptyString(m.commandId))
    return 'envelope.metadata.commandId is invalid';
  return undefined;
}

export type ParseResult =
  { ok: true; message: Message } | { ok: false; code: 'MESSAGING.MALFORMED'; reason: string };

/** Decodes a delivery body into an envelope; a failure names the reason, never the body. */
export function parseEnvelope(
  content: Buffer,
  properties: Pick<MessageProperties, 'contentType'>,
): ParseResult {
  if (properties.contentType !== undefined && properties.contentType !== 'application/json') {
    return {
      ok: false,
      code: 'MESSAGING.MALFORMED',
      reason: `content type ${String(properties.contentType)}`,
    };
  }
  let value: unknown;
  try {
    value = JSON.parse(content.toString('utf8'));
  } catch {
    return { ok: false, code: 'MESSAGING.MALFORMED', reason: 'body is not valid JSON' };
  }
  const problem = envelopeProblem(value);
  if (problem) return { ok: false, code: 'MESSAGING.MALFORMED', reason: problem };
  return { ok: true, message: value as Message };
}
