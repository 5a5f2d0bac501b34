import { randomBytes } from 'node:crypto';
import {
  brokerSecretPath,
  brokerUserName,
  ContractError,
  type CommandMessage,
  type Tier,
} from '@app/contracts';
import type { AmqpProbeResult } from '@app/messaging';
import { RabbitManagementError } from '@app/rabbitmq-admin';
import { permanent, retryable } from '@app/platform';
import { withSecretStore } from '@app/secrets';
import { classifyManagementFailure, type BrokerOperation } from '../domain/errors';
import {
  DEFAULT_EXCHANGES,
  FULL_PERMISSIONS,
  probeRoutingKey,
  tenantTopology,
  vhostLimitsOf,
  type BrokerCredentials,
  type TenantTopology,
} from '@app/plans';
import type { BrokerHandlerDeps } from './deps';

/** What the broker-service's handlers share: the tenant's names and the management and secret calls. */
export interface TenantBroker {
  tenantId: string;
  topology: TenantTopology;
  user: string;
  secretPath: string;
}

export function brokerFor(command: CommandMessage): TenantBroker {
  const tenantId = command.data.tenant.tenantId;
  try {
    return {
      tenantId,
      topology: tenantTopology(tenantId),
      user: brokerUserName(tenantId),
      secretPath: brokerSecretPath(tenantId),
    };
  } catch (error) {
    if (error instanceof ContractError) throw permanent('BROKER.INVALID_TENANT_ID', error.message);
    throw error;
  }
}

/** One management API call, its failure classified once for every handler (`classifyManagementFailure`). */
export async function call<T>(
  operation: BrokerOperation,
  target: string,
  action: () => Promise<T>,
): Promise<T> {
  try {
    return await action();
  } catch (error) {
    if (error instanceof RabbitManagementError) throw classifyManagementFailure(error, operation, target);
    throw error;
  }
}

/** One secret-store call, classified by `@app/secrets` for every service alike. */
export function secretCall<T>(action: string, path: string, run: () => Promise<T>): Promise<T> {
  return withSecretStore('BROKER', action, path, run);
}

/** Exchange names for messages: the default exchange's name is empty. */
export function exchangeList(names: readonly string[]): string {
  return names.map((name) => JSON.stringify(name)).join(', ');
}

export function generateBrokerPassword(): string {
  return randomBytes(24).toString('base64url');
}

/** Connects as the tenant's user to `vhost`, publishes and consumes once on its topology. */
export function probe(
  deps: BrokerHandlerDeps,
  broker: TenantBroker,
  credentials: BrokerCredentials,
  vhost: string,
): Promise<AmqpProbeResult> {
  const binding = broker.topology.bindings[0];
  return deps.probe({
    url: deps.amqpUrl,
    vhost,
    user: credentials.RABBITMQ_USER,
    password: credentials.RABBITMQ_PASSWORD,
    exchange: binding.source,
    routingKey: probeRoutingKey(binding.routing_key),
    queue: binding.destination,
  });
}

/** Fails retryably while a node is down: it starts its vhosts itself when it boots. */
export function throwIfNodeDown(vhost: string, clusterState: Record<string, string>): void {
  const down = Object.keys(clusterState).filter((node) => clusterState[node] === 'nodedown');
  if (down.length > 0)
    throw retryable('BROKER.VHOST_NODE_DOWN', `vhost ${vhost}: node(s) ${down.join(', ')} down`);
}

async function startWhereStopped(deps: BrokerHandlerDeps, vhost: string): Promise<void> {
  const found = await call('inspect', vhost, () => deps.management.getVhost(vhost));
  const clusterState = found?.clusterState ?? {};
  throwIfNodeDown(vhost, clusterState);
  for (const [node, state] of Object.entries(clusterState)) {
    if (state !== 'running')
      await call('vhost', `${vhost} on ${node}`, () => deps.management.startVhost(vhost, node));
  }
}

export async function missingDefaultExchanges(deps: BrokerHandlerDeps, vhost: string): Promise<string[]> {
  const exchanges = await call('inspect', vhost, () => deps.management.listExchanges(vhost));
  return DEFAULT_EXCHANGES.filter((name) => !exchanges.some((x) => x.name === name));
}

/** PUTs each limit: safe to repeat, and a lower one refuses only new connections or queues beyond it. */
export async function applyVhostLimits(
  deps: BrokerHandlerDeps,
  vhost: string,
  tier: Tier,
): Promise<Record<string, number>> {
  const limits = vhostLimitsOf(tier);
  for (const [name, value] of Object.entries(limits) as [keyof typeof limits, number][]) {
    await call('limits', `${name} of ${vhost}`, () => deps.management.setVhostLimit(vhost, name, value));
  }
  return limits;
}

export async function createVhost(deps: BrokerHandlerDeps, vhost: string): Promise<void> {
  await call('vhost', vhost, () => deps.management.createVhost(vhost));
  // RabbitMQ grants the creator of a vhost its permissions in the same HTTP request, after creating the
  // vhost; a request cut between the two (this service killed mid-call) leaves a vhost the admin cannot
  // enter, and a second PUT of an existing vhost grants nothing: every request inside it would answer
  // 401 for ever. Granting explicitly makes a redelivered command converge.
  await call('permissions', `${deps.adminUser}@${vhost}`, () =>
    deps.management.setPermissions(vhost, deps.adminUser, FULL_PERMISSIONS),
  );
  // The same cut request may also leave the vhost stopped on a node (every declaration then answers 400
  // vhost_supervisor_not_running, for ever), which a second PUT does not repair either: starting it does.
  await startWhereStopped(deps, vhost);
}
