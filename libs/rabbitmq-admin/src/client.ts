import { RabbitManagementError } from './errors';
import { ManagementTransport, segment } from './transport';
import {
  VHOST_LIMIT_NAMES,
  type BindingDefinition,
  type BindingInfo,
  type ConnectionInfo,
  type ExchangeDefinition,
  type ExchangeInfo,
  type PeekedMessage,
  type PermissionEntry,
  type Permissions,
  type QueueDefinition,
  type QueueInfo,
  type UserInfo,
  type VhostInfo,
  type VhostLimitName,
  type VhostLimits,
} from './types';
import {
  bindingPath,
  permissionsPath,
  queuePath,
  toExchangeInfo,
  toPermissionEntry,
  toQueueInfo,
  toUserInfo,
  toVhostInfo,
  type RawBinding,
  type RawConnection,
  type RawExchange,
  type RawQueue,
  type RawVhost,
} from './wire';

/**
 * Client for the RabbitMQ HTTP management API: vhosts, users, permissions, exchanges, queues, bindings,
 * connections and message peeking. Used by tests and by the broker-service, so errors are typed (with the
 * HTTP status and whether a retry may help) and never carry the password, which travels only in bodies.
 * Lookups of a single object answer `undefined` when it is missing, except `getQueue`, which throws
 * `MANAGEMENT.NOT_FOUND` (for callers whose queue must exist; `findQueue` is the lookup). Deletes are
 * idempotent and answer whether the object existed.
 */
export class RabbitManagementClient extends ManagementTransport {
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
}
