import { segment } from './transport';
import type { ExchangeInfo, PermissionEntry, QueueInfo, UserInfo, VhostInfo } from './types';

// The management API's own JSON shapes (snake_case) and their mapping to this client's types.

export interface RawVhost {
  name: string;
  description?: string;
  cluster_state?: Record<string, string>;
}

export interface RawConnection {
  name: string;
  vhost: string;
  user: string;
  state?: string;
  client_properties?: { connection_name?: string };
}

export interface RawQueue {
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

export interface RawExchange {
  name: string;
  vhost: string;
  type: string;
  durable: boolean;
  auto_delete: boolean;
  internal?: boolean;
  arguments?: Record<string, unknown>;
}

export interface RawBinding {
  source: string;
  destination: string;
  destination_type: 'queue' | 'exchange';
  routing_key: string;
  arguments?: Record<string, unknown>;
}

export function permissionsPath(vhost: string, user: string): string {
  return `/api/permissions/${segment('vhost', vhost)}/${segment('user', user)}`;
}

export function queuePath(vhost: string, queue: string): string {
  return `/api/queues/${segment('vhost', vhost)}/${segment('queue', queue)}`;
}

export function bindingPath(
  vhost: string,
  source: string,
  destination: string,
  destinationType: 'queue' | 'exchange' = 'queue',
): string {
  const kind = destinationType === 'queue' ? 'q' : 'e';
  return `/api/bindings/${segment('vhost', vhost)}/e/${segment('exchange', source)}/${kind}/${segment(destinationType, destination)}`;
}

export function toVhostInfo(raw: RawVhost): VhostInfo {
  return { name: raw.name, description: raw.description ?? '', clusterState: raw.cluster_state ?? {} };
}

export function toExchangeInfo(raw: RawExchange): ExchangeInfo {
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

export function toUserInfo(raw: { name: string; tags?: string | string[] }): UserInfo {
  const tags = Array.isArray(raw.tags) ? raw.tags : (raw.tags ?? '').split(',');
  return { name: raw.name, tags: tags.filter((tag) => tag.length > 0) };
}

export function toPermissionEntry(raw: PermissionEntry): PermissionEntry {
  return { user: raw.user, vhost: raw.vhost, configure: raw.configure, write: raw.write, read: raw.read };
}

export function toQueueInfo(raw: RawQueue): QueueInfo {
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
