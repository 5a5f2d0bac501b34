/** The part of `fetch` this client uses; injectable so the request logic is unit-tested without I/O. */
export type ManagementFetch = (
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string; signal: AbortSignal },
) => Promise<{ ok: boolean; status: number; text(): Promise<string> }>;

export interface RabbitManagementOptions {
  /** e.g. http://127.0.0.1:15672 */
  baseUrl: string;
  username: string;
  password: string;
  /** Per attempt. */
  timeoutMs?: number;
  /**
   * Attempts per idempotent request (GET, PUT, DELETE, binding and vhost-start POSTs) on 5xx, timeouts and connection errors;
   * 1 (the default) never retries. 4xx answers and non-idempotent requests are never retried.
   */
  attempts?: number;
  /** Delay before the 2nd attempt, doubled before each further one (capped by `maxBackoffMs`). */
  backoffMs?: number;
  maxBackoffMs?: number;
  fetch?: ManagementFetch;
}

export interface ConnectionInfo {
  name: string;
  vhost: string;
  user: string;
  /** Client-provided connection name (`connection_name` client property), when set. */
  clientName?: string;
  state?: string;
}

export const VHOST_LIMIT_NAMES = ['max-connections', 'max-queues'] as const;
export type VhostLimitName = (typeof VHOST_LIMIT_NAMES)[number];
export type VhostLimits = Partial<Record<VhostLimitName, number>>;

export interface VhostInfo {
  name: string;
  description: string;
  /**
   * The vhost's state per cluster node: `running`, `stopped` (its supervisor is not running there, so
   * nothing can be declared in it; see `startVhost`) or `nodedown`.
   */
  clusterState: Record<string, string>;
}

export interface UserInfo {
  name: string;
  /** Normalised: RabbitMQ 3.9 answers a comma-separated string, 3.10+ a list. */
  tags: string[];
}

export interface QueueInfo {
  name: string;
  vhost: string;
  type: string;
  durable: boolean;
  autoDelete: boolean;
  messages: number;
  messagesReady: number;
  messagesUnacknowledged: number;
  consumers: number;
  arguments: Record<string, unknown>;
}

export interface QueueDefinition {
  name: string;
  /** Default true. */
  durable?: boolean;
  /** Default false. */
  autoDelete?: boolean;
  arguments?: Record<string, unknown>;
}

export interface ExchangeInfo {
  name: string;
  vhost: string;
  type: string;
  durable: boolean;
  autoDelete: boolean;
  internal: boolean;
  arguments: Record<string, unknown>;
}

export interface ExchangeDefinition {
  name: string;
  type: 'direct' | 'topic' | 'fanout' | 'headers';
  /** Default true. */
  durable?: boolean;
  /** Default false. */
  autoDelete?: boolean;
  /** Default false. */
  internal?: boolean;
  arguments?: Record<string, unknown>;
}

export interface BindingInfo {
  source: string;
  destination: string;
  destinationType: 'queue' | 'exchange';
  routingKey: string;
  arguments: Record<string, unknown>;
}

export interface BindingDefinition {
  /** Source exchange. */
  source: string;
  destination: string;
  /** Default 'queue'. */
  destinationType?: 'queue' | 'exchange';
  routingKey: string;
  arguments?: Record<string, unknown>;
}

export interface Permissions {
  configure: string;
  write: string;
  read: string;
}

export interface PermissionEntry extends Permissions {
  user: string;
  vhost: string;
}

export interface PeekedMessage {
  payload: string;
  routingKey: string;
  exchange: string;
  redelivered: boolean;
  properties: {
    messageId?: string;
    correlationId?: string;
    type?: string;
    headers: Record<string, unknown>;
  };
}
