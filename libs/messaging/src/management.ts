/** Stable codes of management API failures. */
export type ManagementErrorCode =
  | 'MANAGEMENT.NOT_FOUND'
  | 'MANAGEMENT.UNAUTHORIZED'
  | 'MANAGEMENT.BAD_REQUEST'
  | 'MANAGEMENT.HTTP_ERROR'
  | 'MANAGEMENT.TIMEOUT'
  | 'MANAGEMENT.UNREACHABLE'
  | 'MANAGEMENT.INVALID_NAME'
  | 'MANAGEMENT.INVALID_OPTIONS';

export class RabbitManagementError extends Error {
  constructor(
    readonly code: ManagementErrorCode,
    message: string,
    readonly status?: number,
    /** RabbitMQ's own explanation (e.g. `PRECONDITION_FAILED - inequivalent arg ...`), at most 300 chars. */
    readonly reason = '',
  ) {
    super(message);
    this.name = 'RabbitManagementError';
  }

  /** Network trouble and server errors may pass on a later attempt; 4xx answers will not. */
  get retryable(): boolean {
    return (
      this.code === 'MANAGEMENT.TIMEOUT' ||
      this.code === 'MANAGEMENT.UNREACHABLE' ||
      (this.status !== undefined && this.status >= 500)
    );
  }
}

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

/** Names going into URL paths: any printable text, encoded per segment (a vhost may be `/` or contain it). */
function segment(kind: string, value: string): string {
  const hasControl = [...value].some((char) => char.charCodeAt(0) < 0x20 || char.charCodeAt(0) === 0x7f);
  if (value.length === 0 || value.length > 255 || hasControl) {
    throw new RabbitManagementError(
      'MANAGEMENT.INVALID_NAME',
      `${kind} name is empty, too long or has control characters`,
    );
  }
  return encodeURIComponent(value);
}

/** Delay before attempt `attempt + 1` (attempt counts from 1): exponential, capped. */
export function managementBackoffMs(attempt: number, backoffMs: number, maxBackoffMs: number): number {
  return Math.min(maxBackoffMs, backoffMs * 2 ** (attempt - 1));
}

interface RawVhost {
  name: string;
  description?: string;
  cluster_state?: Record<string, string>;
}

interface RawConnection {
  name: string;
  vhost: string;
  user: string;
  state?: string;
  client_properties?: { connection_name?: string };
}

interface RawQueue {
  name: string;
  vhost: string;
  type?: string;
  durable: boolean;
  auto_delete?: boolean;
  messages?: number;
  messages_ready?: number;
  messages_unacknowledged?: number;
  consumers?: number;
  arguments?: Record<string, unknown>;
}

interface RawExchange {
  name: string;
  vhost: string;
  type: string;
  durable: boolean;
  auto_delete: boolean;
  internal?: boolean;
  arguments?: Record<string, unknown>;
}

interface RawBinding {
  source: string;
  destination: string;
  destination_type: 'queue' | 'exchange';
  routing_key: string;
  arguments?: Record<string, unknown>;
}

type Method = 'GET' | 'PUT' | 'POST' | 'DELETE';

interface RequestOptions {
  body?: unknown;
  headers?: Record<string, string>;
  /** GET/PUT/DELETE are; a POST only when the caller says so. */
  idempotent?: boolean;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Client for the RabbitMQ HTTP management API: vhosts, users, permissions, exchanges, queues, bindings,
 * connections and message peeking. Used by tests and by the broker-service, so errors are typed (with the
 * HTTP status and whether a retry may help) and never carry the password, which travels only in bodies.
 * Lookups of a single object answer `undefined` when it is missing, except `getQueue`, which throws
 * `MANAGEMENT.NOT_FOUND` (for callers whose queue must exist; `findQueue` is the lookup). Deletes are
 * idempotent and answer whether the object existed.
 */
export class RabbitManagementClient {
  private readonly baseUrl: string;
  private readonly authorization: string;
  private readonly timeoutMs: number;
  private readonly attempts: number;
  private readonly backoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly fetch: ManagementFetch;

  constructor(options: RabbitManagementOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.authorization = `Basic ${Buffer.from(`${options.username}:${options.password}`).toString('base64')}`;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.attempts = options.attempts ?? 1;
    this.backoffMs = options.backoffMs ?? 250;
    this.maxBackoffMs = options.maxBackoffMs ?? 5_000;
    this.fetch = options.fetch ?? ((url, init) => fetch(url, init));
    const invalid = !Number.isInteger(this.attempts) || this.attempts < 1 || this.attempts > 20;
    if (invalid || !(this.backoffMs >= 0) || !(this.maxBackoffMs >= 0) || !(this.timeoutMs > 0)) {
      throw new RabbitManagementError(
        'MANAGEMENT.INVALID_OPTIONS',
        'attempts must be an integer in 1..20, backoffMs/maxBackoffMs >= 0 and timeoutMs > 0',
      );
    }
  }

  async overview(): Promise<{ rabbitmqVersion: string; managementVersion: string }> {
    const body = (await this.request('GET', '/api/overview')) as {
      rabbitmq_version: string;
      management_version: string;
    };
    return { rabbitmqVersion: body.rabbitmq_version, managementVersion: body.management_version };
  }

  // --- vhosts ---

  /** Creates the vhost, or updates its description: a PUT, so safe to repeat. */
  async createVhost(vhost: string, description?: string): Promise<void> {
    await this.request('PUT', `/api/vhosts/${segment('vhost', vhost)}`, {
      body: description ? { description } : {},
    });
  }

  async getVhost(vhost: string): Promise<VhostInfo | undefined> {
    const raw = await this.find<RawVhost>(`/api/vhosts/${segment('vhost', vhost)}`);
    return raw && toVhostInfo(raw);
  }

  async vhostExists(vhost: string): Promise<boolean> {
    return (await this.getVhost(vhost)) !== undefined;
  }

  async listVhosts(): Promise<VhostInfo[]> {
    const raw = (await this.request(
      'GET',
      '/api/vhosts?columns=name,description,cluster_state',
    )) as RawVhost[];
    return raw.map(toVhostInfo);
  }

  /**
   * Starts the vhost's supervisor on `node` (a vhost left `stopped`, e.g. by a creation request cut short).
   * Starting a running vhost changes nothing, so this POST is retried too. Restores no missing objects.
   */
  async startVhost(vhost: string, node: string): Promise<void> {
    await this.request('POST', `/api/vhosts/${segment('vhost', vhost)}/start/${segment('node', node)}`, {
      idempotent: true,
    });
  }

  /** Deletes the vhost with everything in it; answers false when it did not exist. */
  async deleteVhost(vhost: string): Promise<boolean> {
    return this.deleteIfExists(`/api/vhosts/${segment('vhost', vhost)}`);
  }

  /**
   * Sets one limit of the vhost (a PUT, safe to repeat). A limit below current use refuses only new
   * connections or queues beyond it. NOT_FOUND when the vhost does not exist.
   */
  async setVhostLimit(vhost: string, name: VhostLimitName, value: number): Promise<void> {
    if (!VHOST_LIMIT_NAMES.includes(name) || !Number.isSafeInteger(value) || value < 0) {
      throw new RabbitManagementError(
        'MANAGEMENT.INVALID_OPTIONS',
        `vhost limit ${JSON.stringify(name)} must be one of ${VHOST_LIMIT_NAMES.join(', ')} with a whole value >= 0`,
      );
    }
    await this.request('PUT', `/api/vhost-limits/${segment('vhost', vhost)}/${name}`, { body: { value } });
  }

  /** The vhost's limits (empty when it has none); undefined when the vhost does not exist. */
  async getVhostLimits(vhost: string): Promise<VhostLimits | undefined> {
    const raw = await this.find<Array<{ vhost: string; value?: Record<string, unknown> }>>(
      `/api/vhost-limits/${segment('vhost', vhost)}`,
    );
    if (raw === undefined) return undefined;
    const limits: VhostLimits = {};
    for (const name of VHOST_LIMIT_NAMES) {
      const value = raw.find((entry) => entry.vhost === vhost)?.value?.[name];
      if (typeof value === 'number') limits[name] = value;
    }
    return limits;
  }

  // --- users ---

  /** Creates or updates a user; the password travels only in the request body. */
  async putUser(user: string, password: string, tags: readonly string[] = []): Promise<void> {
    await this.request('PUT', `/api/users/${segment('user', user)}`, {
      body: { password, tags: tags.join(',') },
    });
  }

  async getUser(user: string): Promise<UserInfo | undefined> {
    const raw = await this.find<{ name: string; tags?: string | string[] }>(
      `/api/users/${segment('user', user)}`,
    );
    return raw && toUserInfo(raw);
  }

  async userExists(user: string): Promise<boolean> {
    return (await this.getUser(user)) !== undefined;
  }

  async listUsers(): Promise<UserInfo[]> {
    const raw = (await this.request('GET', '/api/users?columns=name,tags')) as Array<{
      name: string;
      tags?: string | string[];
    }>;
    return raw.map(toUserInfo);
  }

  async deleteUser(user: string): Promise<boolean> {
    return this.deleteIfExists(`/api/users/${segment('user', user)}`);
  }

  // --- permissions ---

  async setPermissions(vhost: string, user: string, permissions: Permissions): Promise<void> {
    await this.request('PUT', permissionsPath(vhost, user), {
      body: { configure: permissions.configure, write: permissions.write, read: permissions.read },
    });
  }

  async getPermissions(vhost: string, user: string): Promise<Permissions | undefined> {
    const body = await this.find<Permissions>(permissionsPath(vhost, user));
    return body && { configure: body.configure, write: body.write, read: body.read };
  }

  async deletePermissions(vhost: string, user: string): Promise<boolean> {
    return this.deleteIfExists(permissionsPath(vhost, user));
  }

  /** Routing keys the user may publish (`write`) and bind (`read`) on one topic exchange of the vhost. */
  async setTopicPermissions(
    vhost: string,
    user: string,
    permissions: { exchange: string; write: string; read: string },
  ): Promise<void> {
    await this.request('PUT', `/api/topic-permissions/${segment('vhost', vhost)}/${segment('user', user)}`, {
      body: { exchange: permissions.exchange, write: permissions.write, read: permissions.read },
    });
  }

  /** Every topic permission of the user on the vhost (all its exchanges). */
  async deleteTopicPermissions(vhost: string, user: string): Promise<boolean> {
    return this.deleteIfExists(`/api/topic-permissions/${segment('vhost', vhost)}/${segment('user', user)}`);
  }

  /** Every vhost the user has permissions on; empty when the user does not exist. */
  async listUserPermissions(user: string): Promise<PermissionEntry[]> {
    const raw = await this.find<PermissionEntry[]>(`/api/users/${segment('user', user)}/permissions`);
    return (raw ?? []).map(toPermissionEntry);
  }

  async listPermissions(): Promise<PermissionEntry[]> {
    return ((await this.request('GET', '/api/permissions')) as PermissionEntry[]).map(toPermissionEntry);
  }

  // --- exchanges ---

  /** Declares the exchange; RabbitMQ answers 400 (PRECONDITION_FAILED) if it exists with other settings. */
  async declareExchange(vhost: string, exchange: ExchangeDefinition): Promise<void> {
    await this.request(
      'PUT',
      `/api/exchanges/${segment('vhost', vhost)}/${segment('exchange', exchange.name)}`,
      {
        body: {
          type: exchange.type,
          durable: exchange.durable ?? true,
          auto_delete: exchange.autoDelete ?? false,
          internal: exchange.internal ?? false,
          arguments: exchange.arguments ?? {},
        },
      },
    );
  }

  async getExchange(vhost: string, exchange: string): Promise<ExchangeInfo | undefined> {
    const raw = await this.find<RawExchange>(
      `/api/exchanges/${segment('vhost', vhost)}/${segment('exchange', exchange)}`,
    );
    return raw && toExchangeInfo(raw);
  }

  /** Every exchange of the vhost, its default ones (`''`, `amq.*`) included; NOT_FOUND if the vhost is missing. */
  async listExchanges(vhost: string): Promise<ExchangeInfo[]> {
    const raw = (await this.request('GET', `/api/exchanges/${segment('vhost', vhost)}`)) as RawExchange[];
    return raw.map(toExchangeInfo);
  }

  // --- queues ---

  /** Declares the queue; RabbitMQ answers 400 (PRECONDITION_FAILED) if it exists with other arguments. */
  async declareQueue(vhost: string, queue: QueueDefinition): Promise<void> {
    await this.request('PUT', queuePath(vhost, queue.name), {
      body: {
        durable: queue.durable ?? true,
        auto_delete: queue.autoDelete ?? false,
        arguments: queue.arguments ?? {},
      },
    });
  }

  /** Throws `MANAGEMENT.NOT_FOUND` when the queue (or its vhost) is missing. */
  async getQueue(vhost: string, queue: string): Promise<QueueInfo> {
    return toQueueInfo((await this.request('GET', queuePath(vhost, queue))) as RawQueue);
  }

  async findQueue(vhost: string, queue: string): Promise<QueueInfo | undefined> {
    const raw = await this.find<RawQueue>(queuePath(vhost, queue));
    return raw && toQueueInfo(raw);
  }

  async listQueues(vhost: string): Promise<QueueInfo[]> {
    const raw = (await this.request('GET', `/api/queues/${segment('vhost', vhost)}`)) as RawQueue[];
    return raw.map(toQueueInfo);
  }

  async deleteQueue(vhost: string, queue: string): Promise<boolean> {
    return this.deleteIfExists(queuePath(vhost, queue));
  }

  // --- bindings ---

  /** A binding is a set member: posting an existing one changes nothing, so this POST is retried too. */
  async createBinding(vhost: string, binding: BindingDefinition): Promise<void> {
    await this.request(
      'POST',
      bindingPath(vhost, binding.source, binding.destination, binding.destinationType),
      {
        body: { routing_key: binding.routingKey, arguments: binding.arguments ?? {} },
        idempotent: true,
      },
    );
  }

  /** Bindings from `source` to `destination`; empty when there are none (throws NOT_FOUND if the vhost is missing). */
  async listBindings(
    vhost: string,
    source: string,
    destination: string,
    destinationType: 'queue' | 'exchange' = 'queue',
  ): Promise<BindingInfo[]> {
    const raw = (await this.request(
      'GET',
      bindingPath(vhost, source, destination, destinationType),
    )) as RawBinding[];
    return raw.map((b) => ({
      source: b.source,
      destination: b.destination,
      destinationType: b.destination_type,
      routingKey: b.routing_key,
      arguments: b.arguments ?? {},
    }));
  }

  // --- connections ---

  async listConnections(vhost?: string): Promise<ConnectionInfo[]> {
    const path =
      vhost === undefined ? '/api/connections' : `/api/vhosts/${segment('vhost', vhost)}/connections`;
    const body = (await this.request('GET', path)) as RawConnection[];
    return body.map((c) => ({
      name: c.name,
      vhost: c.vhost,
      user: c.user,
      clientName: c.client_properties?.connection_name,
      state: c.state,
    }));
  }

  /** Force-closes every connection whose client-provided name matches; returns how many were closed. */
  async closeConnectionsByClientName(
    clientName: string,
    reason = 'closed by management client',
  ): Promise<number> {
    const targets = (await this.listConnections()).filter((c) => c.clientName === clientName);
    let closed = 0;
    for (const target of targets) {
      if (
        await this.deleteIfExists(`/api/connections/${segment('connection', target.name)}`, {
          'X-Reason': reason,
        })
      ) {
        closed += 1;
      }
    }
    return closed;
  }

  /**
   * Reads up to `count` messages and puts them back (diagnostics and tests, not for consumption). Never
   * retried: a repeat would requeue the messages again and mark them redelivered.
   */
  async peekMessages(vhost: string, queue: string, count: number): Promise<PeekedMessage[]> {
    const raw = (await this.request('POST', `${queuePath(vhost, queue)}/get`, {
      body: { count, ackmode: 'ack_requeue_true', encoding: 'auto', truncate: 50_000 },
    })) as Array<{
      payload: string;
      routing_key: string;
      exchange: string;
      redelivered: boolean;
      properties: {
        message_id?: string;
        correlation_id?: string;
        type?: string;
        headers?: Record<string, unknown>;
      };
    }>;
    return raw.map((m) => ({
      payload: m.payload,
      routingKey: m.routing_key,
      exchange: m.exchange,
      redelivered: m.redelivered,
      properties: {
        messageId: m.properties.message_id,
        correlationId: m.properties.correlation_id,
        type: m.properties.type,
        headers: m.properties.headers ?? {},
      },
    }));
  }

  private async find<T>(path: string): Promise<T | undefined> {
    try {
      return (await this.request('GET', path)) as T;
    } catch (error) {
      if (error instanceof RabbitManagementError && error.code === 'MANAGEMENT.NOT_FOUND') return undefined;
      throw error;
    }
  }

  private async deleteIfExists(path: string, headers: Record<string, string> = {}): Promise<boolean> {
    try {
      await this.request('DELETE', path, { headers });
      return true;
    } catch (error) {
      if (error instanceof RabbitManagementError && error.code === 'MANAGEMENT.NOT_FOUND') return false;
      throw error;
    }
  }

  private async request(method: Method, path: string, options: RequestOptions = {}): Promise<unknown> {
    const idempotent = options.idempotent ?? method !== 'POST';
    const attempts = idempotent ? this.attempts : 1;
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await this.once(method, path, options);
      } catch (error) {
        if (!(error instanceof RabbitManagementError) || !error.retryable || attempt >= attempts) throw error;
        await sleep(managementBackoffMs(attempt, this.backoffMs, this.maxBackoffMs));
      }
    }
  }

  private async once(method: Method, path: string, options: RequestOptions): Promise<unknown> {
    // The path (never the body, which may hold a password) names the request in errors.
    const what = `${method} ${path.split('?')[0]}`;
    const { body, headers = {} } = options;
    let response: Awaited<ReturnType<ManagementFetch>>;
    try {
      response = await this.fetch(`${this.baseUrl}${path}`, {
        method,
        headers: {
          authorization: this.authorization,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      // Duck-typed: fetch's errors may come from another realm (e.g. under Jest), where instanceof fails.
      const failure = error as { name?: unknown; message?: unknown; cause?: { message?: unknown } };
      if (failure.name === 'TimeoutError' || failure.name === 'AbortError') {
        throw new RabbitManagementError(
          'MANAGEMENT.TIMEOUT',
          `${what}: no answer within ${this.timeoutMs} ms`,
        );
      }
      const cause = String(failure.cause?.message ?? failure.message ?? error);
      throw new RabbitManagementError('MANAGEMENT.UNREACHABLE', `${what}: ${cause}`);
    }
    const text = await response.text();
    if (!response.ok) {
      const reason = extractReason(text);
      const code: ManagementErrorCode =
        response.status === 404
          ? 'MANAGEMENT.NOT_FOUND'
          : response.status === 401 || response.status === 403
            ? 'MANAGEMENT.UNAUTHORIZED'
            : response.status === 400
              ? 'MANAGEMENT.BAD_REQUEST'
              : 'MANAGEMENT.HTTP_ERROR';
      throw new RabbitManagementError(
        code,
        `${what}: HTTP ${response.status}${reason ? ` ${reason}` : ''}`,
        response.status,
        reason,
      );
    }
    return text.length === 0 ? undefined : (JSON.parse(text) as unknown);
  }
}

function permissionsPath(vhost: string, user: string): string {
  return `/api/permissions/${segment('vhost', vhost)}/${segment('user', user)}`;
}

function queuePath(vhost: string, queue: string): string {
  return `/api/queues/${segment('vhost', vhost)}/${segment('queue', queue)}`;
}

function bindingPath(
  vhost: string,
  source: string,
  destination: string,
  destinationType: 'queue' | 'exchange' = 'queue',
): string {
  const kind = destinationType === 'queue' ? 'q' : 'e';
  return `/api/bindings/${segment('vhost', vhost)}/e/${segment('exchange', source)}/${kind}/${segment(destinationType, destination)}`;
}

function extractReason(text: string): string {
  try {
    const parsed = JSON.parse(text) as { reason?: unknown; error?: unknown };
    const reason =
      typeof parsed.reason === 'string'
        ? parsed.reason
        : typeof parsed.error === 'string'
          ? parsed.error
          : '';
    return reason.slice(0, 300);
  } catch {
    return text.slice(0, 300);
  }
}

function toVhostInfo(raw: RawVhost): VhostInfo {
  return { name: raw.name, description: raw.description ?? '', clusterState: raw.cluster_state ?? {} };
}

function toExchangeInfo(raw: RawExchange): ExchangeInfo {
  return {
    name: raw.name,
    vhost: raw.vhost,
    type: raw.type,
    durable: raw.durable,
    autoDelete: raw.auto_delete,
    internal: raw.internal ?? false,
    arguments: raw.arguments ?? {},
  };
}

function toUserInfo(raw: { name: string; tags?: string | string[] }): UserInfo {
  const tags = Array.isArray(raw.tags) ? raw.tags : (raw.tags ?? '').split(',');
  return { name: raw.name, tags: tags.filter((tag) => tag.length > 0) };
}

function toPermissionEntry(raw: PermissionEntry): PermissionEntry {
  return { user: raw.user, vhost: raw.vhost, configure: raw.configure, write: raw.write, read: raw.read };
}

function toQueueInfo(raw: RawQueue): QueueInfo {
  return {
    name: raw.name,
    vhost: raw.vhost,
    type: raw.type ?? 'classic',
    durable: raw.durable,
    autoDelete: raw.auto_delete ?? false,
    messages: raw.messages ?? 0,
    messagesReady: raw.messages_ready ?? 0,
    messagesUnacknowledged: raw.messages_unacknowledged ?? 0,
    consumers: raw.consumers ?? 0,
    arguments: raw.arguments ?? {},
  };
}
