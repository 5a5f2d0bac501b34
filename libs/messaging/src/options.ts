import { EXCHANGES } from '@app/contracts';
import type { Logger } from 'pino';
import { MessagingError } from './errors';

/** Logical exchange keys; services name exchanges by key so tests and deployments can rename them. */
export interface ExchangeNames {
  billingEvents: string;
  provisioningCommands: string;
  tenantEvents: string;
}
export type ExchangeKey = keyof ExchangeNames;

/** The names of DESIGN.md, defined once in the contracts. */
export const DEFAULT_EXCHANGES: Readonly<ExchangeNames> = {
  billingEvents: EXCHANGES.billing,
  provisioningCommands: EXCHANGES.commands,
  tenantEvents: EXCHANGES.tenantEvents,
};

export interface RetryPolicy {
  /** Handler attempts in total, first delivery included; after the last one the message is parked. */
  maxAttempts: number;
  initialDelayMs: number;
  multiplier: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: Readonly<RetryPolicy> = {
  maxAttempts: 5,
  initialDelayMs: 1000,
  multiplier: 4,
  maxDelayMs: 5 * 60_000,
};

export type QueueType = 'quorum' | 'classic';

export interface MessagingOptions {
  /** amqp(s)://user:password@host:port/vhost; the password never reaches logs or errors. */
  url: string;
  /** Client-provided connection name, shown by the management API (and used by tests to cut it). */
  connectionName: string;
  exchanges?: Partial<ExchangeNames>;
  /** Prepended to every queue name (e.g. a test run id). */
  queuePrefix?: string;
  queueType?: QueueType;
  /** Unacknowledged deliveries per consumer, which is also the number of handlers running at once. */
  prefetch?: number;
  retry?: Partial<RetryPolicy>;
  /** Redeliveries (crash, lost connection) after which a message is parked without running its handler. */
  maxRedeliveries?: number;
  /** How long a publish may wait for the broker (outage included) before failing. */
  publishTimeoutMs?: number;
  /** Publishes waiting or unconfirmed at once; beyond it `publish` fails at once instead of growing memory. */
  maxPendingPublishes?: number;
  heartbeatSeconds?: number;
  reconnectSeconds?: number;
  /** Time given to in-flight handlers on shutdown before channels are closed anyway. */
  shutdownTimeoutMs?: number;
  /**
   * How long one handler run may take before it counts as a retryable failure (`MESSAGING.HANDLER_TIMEOUT`):
   * the message is retried and the late run's result is discarded. Default 15 minutes.
   */
  handlerTimeoutMs?: number;
  logger?: Logger;
}

export interface ResolvedMessagingOptions {
  url: string;
  connectionName: string;
  exchanges: ExchangeNames;
  queuePrefix: string;
  queueType: QueueType;
  prefetch: number;
  retry: RetryPolicy;
  maxRedeliveries: number;
  publishTimeoutMs: number;
  maxPendingPublishes: number;
  heartbeatSeconds: number;
  reconnectSeconds: number;
  shutdownTimeoutMs: number;
  handlerTimeoutMs: number;
  logger?: Logger;
}

/** AMQP short strings stop at 255 bytes; the pattern keeps names safe in management API paths and logs too. */
const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$/;

export function assertName(kind: string, name: string): string {
  if (!NAME_PATTERN.test(name)) {
    throw new MessagingError(
      'MESSAGING.INVALID_NAME',
      `${kind} name "${name}" must match ${NAME_PATTERN.source}`,
      {
        kind,
      },
    );
  }
  return name;
}

function positiveInt(name: string, value: number, min = 1): number {
  if (!Number.isInteger(value) || value < min) {
    throw new MessagingError(
      'MESSAGING.INVALID_OPTIONS',
      `${name} must be an integer >= ${min}, got ${value}`,
      {
        option: name,
      },
    );
  }
  return value;
}

export function resolveOptions(options: MessagingOptions): ResolvedMessagingOptions {
  if (!/^amqps?:\/\//.test(options.url)) {
    throw new MessagingError('MESSAGING.INVALID_OPTIONS', 'url must start with amqp:// or amqps://', {
      option: 'url',
    });
  }
  const exchanges = { ...DEFAULT_EXCHANGES, ...options.exchanges };
  for (const [key, name] of Object.entries(exchanges)) assertName(`exchange ${key}`, name);
  const queuePrefix = options.queuePrefix ?? '';
  if (queuePrefix !== '') assertName('queue prefix', queuePrefix);
  const retry = { ...DEFAULT_RETRY, ...options.retry };
  positiveInt('retry.maxAttempts', retry.maxAttempts);
  positiveInt('retry.initialDelayMs', retry.initialDelayMs);
  positiveInt('retry.maxDelayMs', retry.maxDelayMs);
  if (!(retry.multiplier >= 1)) {
    throw new MessagingError('MESSAGING.INVALID_OPTIONS', 'retry.multiplier must be >= 1', {
      option: 'retry.multiplier',
    });
  }
  return {
    url: options.url,
    connectionName: assertName('connection', options.connectionName),
    exchanges,
    queuePrefix,
    queueType: options.queueType ?? 'quorum',
    prefetch: positiveInt('prefetch', options.prefetch ?? 20),
    retry,
    maxRedeliveries: positiveInt('maxRedeliveries', options.maxRedeliveries ?? 10),
    publishTimeoutMs: positiveInt('publishTimeoutMs', options.publishTimeoutMs ?? 30_000),
    maxPendingPublishes: positiveInt('maxPendingPublishes', options.maxPendingPublishes ?? 10_000),
    heartbeatSeconds: positiveInt('heartbeatSeconds', options.heartbeatSeconds ?? 10),
    reconnectSeconds: options.reconnectSeconds ?? 2,
    shutdownTimeoutMs: positiveInt('shutdownTimeoutMs', options.shutdownTimeoutMs ?? 30_000),
    handlerTimeoutMs: positiveInt('handlerTimeoutMs', options.handlerTimeoutMs ?? 15 * 60_000),
    logger: options.logger,
  };
}

/**
 * The url without its password, for logs. Parsed, not pattern-matched: a raw `@` or `/` in the password must
 * not leak part of it. A url the parser cannot read is not echoed at all.
 */
export function redactUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return '<unparseable AMQP URL>';
  }
  if (parsed.password) parsed.password = '***';
  // No credentials parsed but an `@` present: the userinfo was misread as host and path (`u:1/s@h`).
  else if (!parsed.username && url.includes('@')) return '<unparseable AMQP URL>';
  return parsed.href;
}
