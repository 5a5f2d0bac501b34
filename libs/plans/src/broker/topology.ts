import {
  tenantExchangeName,
  tenantLimits,
  tenantQueueName,
  TENANT_QUEUES,
  vhostName,
  type Tier,
} from '@app/contracts';

/** Spec 5.2, field for field, in the management API's shapes. */
export interface ExchangeSpec {
  name: string;
  type: 'topic';
  durable: true;
  auto_delete: false;
}
export interface QueueSpec {
  name: string;
  durable: true;
  auto_delete: false;
  arguments: Record<string, number>;
}
export interface BindingSpec {
  source: string;
  destination: string;
  destination_type: 'queue';
  routing_key: string;
}
export interface TenantTopology {
  vhost: string;
  exchanges: ExchangeSpec[];
  queues: QueueSpec[];
  bindings: BindingSpec[];
}

/**
 * Every permission inside one vhost: what the tenant's user gets in its own vhost, and what the provisioning
 * admin needs there to declare the topology through the management API (RabbitMQ's own default for the
 * creator of a vhost, granted explicitly, see ProvisionBroker).
 */
export const FULL_PERMISSIONS = { configure: '.*', write: '.*', read: '.*' } as const;

/**
 * The exchanges RabbitMQ creates in every vhost. A vhost whose creation request was cut may lack some of them
 * for good: a second PUT of an existing vhost adds none (see ProvisionBroker).
 */
export const DEFAULT_EXCHANGES: readonly string[] = [
  '',
  'amq.direct',
  'amq.fanout',
  'amq.headers',
  'amq.match',
  'amq.rabbitmq.trace',
  'amq.topic',
];

export function tenantTopology(tenantId: string): TenantTopology {
  const exchange = tenantExchangeName(tenantId);
  return {
    vhost: vhostName(tenantId),
    exchanges: [{ name: exchange, type: 'topic', durable: true, auto_delete: false }],
    queues: TENANT_QUEUES.map((queue) => ({
      name: tenantQueueName(tenantId, queue.kind),
      durable: true,
      auto_delete: false,
      arguments: { ...queue.arguments },
    })),
    bindings: TENANT_QUEUES.map((queue) => ({
      source: exchange,
      destination: tenantQueueName(tenantId, queue.kind),
      destination_type: 'queue',
      routing_key: queue.routingKey,
    })),
  };
}

/** A routing key that lands in the given queue (its binding with the `*` word filled in). */
export function probeRoutingKey(bindingKey: string): string {
  return bindingKey.replace('*', 'provisioning-probe');
}

/** Spec 5.3 keys of the tenant's RabbitMQ secret. */
export interface BrokerCredentials {
  RABBITMQ_HOST: string;
  RABBITMQ_PORT: string;
  RABBITMQ_USER: string;
  RABBITMQ_PASSWORD: string;
  RABBITMQ_VHOST: string;
  RABBITMQ_EXCHANGE: string;
  [key: string]: string;
}

/** The tier's vhost limits, as RabbitMQ names them. */
export function vhostLimitsOf(tier: Tier): { 'max-connections': number; 'max-queues': number } {
  const { maxConnections, maxQueues } = tenantLimits(tier).broker;
  return { 'max-connections': maxConnections, 'max-queues': maxQueues };
}
