import { randomBytes } from 'node:crypto';
import {
  brokerSecretPath,
  brokerUserName,
  ContractError,
  tenantLimits,
  type CommandMessage,
  type Tier,
} from '@app/contracts';
import type { AmqpProbeInput, AmqpProbeResult } from '@app/messaging';
import { RabbitManagementError, type RabbitManagementClient } from '@app/rabbitmq-admin';
import { permanent, retryable, type CommandContext, type CommandHandlers } from '@app/platform';
import { SecretStoreError, type SecretStore } from '@app/secrets';
import { classifyManagementFailure, type BrokerOperation } from './domain/errors';
import {
  DEFAULT_EXCHANGES,
  FULL_PERMISSIONS,
  probeRoutingKey,
  tenantTopology,
  type BrokerCredentials,
  type TenantTopology,
} from './domain/topology';

/** The AMQP access check (from `@app/messaging`: services never use amqplib directly). */
export type AmqpProbe = (input: AmqpProbeInput) => Promise<AmqpProbeResult>;

/** The management API calls this service makes (`@app/messaging`'s client, retrying idempotent calls). */
export type BrokerManagement = Pick<
  RabbitManagementClient,
  | 'createVhost'
  | 'getVhost'
  | 'startVhost'
  | 'deleteVhost'
  | 'putUser'
  | 'getUser'
  | 'deleteUser'
  | 'setPermissions'
  | 'listUserPermissions'
  | 'declareExchange'
  | 'getExchange'
  | 'listExchanges'
  | 'declareQueue'
  | 'findQueue'
  | 'listQueues'
  | 'createBinding'
  | 'listBindings'
  | 'setVhostLimit'
  | 'getVhostLimits'
>;

export interface BrokerHandlerDeps {
  management: BrokerManagement;
  /** The management API user `management` authenticates as: granted its rights in each tenant vhost. */
  adminUser: string;
  secrets: SecretStore;
  probe: AmqpProbe;
  /** Where this service reaches AMQP to verify (amqp://host:port). */
  amqpUrl: string;
  /** Host/port written into the tenant's secret (spec 5.3). */
  secretHost: string;
  secretPort: number;
  foreignVhost: string;
  generatePassword?: () => string;
}

interface TenantBroker {
  tenantId: string;
  topology: TenantTopology;
  user: string;
  secretPath: string;
}

function brokerFor(command: CommandMessage): TenantBroker {
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

async function call<T>(operation: BrokerOperation, target: string, action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    if (error instanceof RabbitManagementError) throw classifyManagementFailure(error, operation, target);
    throw error;
  }
}

async function secretCall<T>(action: string, path: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (
      error instanceof SecretStoreError &&
      ['SECRETS.DECRYPTION_FAILED', 'SECRETS.INVALID_PATH', 'SECRETS.PATH_MISMATCH'].includes(error.code)
    ) {
      throw permanent(error.code, error.message);
    }
    throw retryable('BROKER.SECRET_STORE_UNAVAILABLE', `${action} ${path}: secret store unavailable`);
  }
}

/** Exchange names for messages: the default exchange's name is empty. */
function exchangeList(names: readonly string[]): string {
  return names.map((name) => JSON.stringify(name)).join(', ');
}

/** The tier's vhost limits, as RabbitMQ names them. */
function vhostLimitsOf(tier: Tier): { 'max-connections': number; 'max-queues': number } {
  const { maxConnections, maxQueues } = tenantLimits(tier).broker;
  return { 'max-connections': maxConnections, 'max-queues': maxQueues };
}

export function generateBrokerPassword(): string {
  return randomBytes(24).toString('base64url');
}

export function createHandlers(deps: BrokerHandlerDeps): CommandHandlers {
  const { management, secrets } = deps;
  const newPassword = deps.generatePassword ?? generateBrokerPassword;

  async function probe(
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
  function throwIfNodeDown(vhost: string, clusterState: Record<string, string>): void {
    const down = Object.keys(clusterState).filter((node) => clusterState[node] === 'nodedown');
    if (down.length > 0)
      throw retryable('BROKER.VHOST_NODE_DOWN', `vhost ${vhost}: node(s) ${down.join(', ')} down`);
  }

  async function startWhereStopped(vhost: string): Promise<void> {
    const found = await call('inspect', vhost, () => management.getVhost(vhost));
    const clusterState = found?.clusterState ?? {};
    throwIfNodeDown(vhost, clusterState);
    for (const [node, state] of Object.entries(clusterState)) {
      if (state !== 'running')
        await call('vhost', `${vhost} on ${node}`, () => management.startVhost(vhost, node));
    }
  }

  async function missingDefaultExchanges(vhost: string): Promise<string[]> {
    const exchanges = await call('inspect', vhost, () => management.listExchanges(vhost));
    return DEFAULT_EXCHANGES.filter((name) => !exchanges.some((x) => x.name === name));
  }

  /** PUTs each limit: safe to repeat, and a lower one refuses only new connections or queues beyond it. */
  async function applyVhostLimits(vhost: string, tier: Tier): Promise<Record<string, number>> {
    const limits = vhostLimitsOf(tier);
    for (const [name, value] of Object.entries(limits) as [keyof typeof limits, number][]) {
      await call('limits', `${name} of ${vhost}`, () => management.setVhostLimit(vhost, name, value));
    }
    return limits;
  }

  async function createVhost(vhost: string): Promise<void> {
    await call('vhost', vhost, () => management.createVhost(vhost));
    // RabbitMQ grants the creator of a vhost its permissions in the same HTTP request, after creating the
    // vhost; a request cut between the two (this service killed mid-call) leaves a vhost the admin cannot
    // enter, and a second PUT of an existing vhost grants nothing: every request inside it would answer
    // 401 for ever. Granting explicitly makes a redelivered command converge.
    await call('permissions', `${deps.adminUser}@${vhost}`, () =>
      management.setPermissions(vhost, deps.adminUser, FULL_PERMISSIONS),
    );
    // The same cut request may also leave the vhost stopped on a node (every declaration then answers 400
    // vhost_supervisor_not_running, for ever), which a second PUT does not repair either: starting it does.
    await startWhereStopped(vhost);
  }

  return {
    ProvisionBroker: async (command, context: CommandContext) => {
      const broker = brokerFor(command);
      const { vhost } = broker.topology;
      const exchange = broker.topology.exchanges[0].name;
      await createVhost(vhost);
      // A cut creation may also leave some default exchanges missing, which neither a PUT nor a start
      // restores: only recreating the vhost does. Safe while it holds no queue (nothing of the tenant's to
      // lose); with queues, deleting it would lose messages, so an operator decides.
      const missing = await missingDefaultExchanges(vhost);
      if (missing.length > 0) {
        const queues = await call('inspect', vhost, () => management.listQueues(vhost));
        if (queues.length > 0) {
          throw permanent(
            'BROKER.VHOST_DAMAGED',
            `vhost ${vhost} lacks default exchange(s) ${exchangeList(missing)} but holds ${queues.length} ` +
              'queue(s): recreating it would lose them; repair it by hand',
          );
        }
        context.logger.warn({ vhost, missing }, 'recreating vhost missing default exchanges');
        await call('delete', vhost, () => management.deleteVhost(vhost));
        await createVhost(vhost);
        const still = await missingDefaultExchanges(vhost);
        if (still.length > 0) {
          throw retryable(
            'BROKER.VHOST_NOT_READY',
            `vhost ${vhost} still lacks default exchange(s) ${exchangeList(still)} after being recreated`,
          );
        }
      }
      // Before the topology: its queues count against max-queues, and the tenant never sees an unlimited vhost.
      const limits = await applyVhostLimits(vhost, command.data.tenant.tier);
      const candidate: BrokerCredentials = {
        RABBITMQ_HOST: deps.secretHost,
        RABBITMQ_PORT: String(deps.secretPort),
        RABBITMQ_USER: broker.user,
        RABBITMQ_PASSWORD: newPassword(),
        RABBITMQ_VHOST: vhost,
        RABBITMQ_EXCHANGE: exchange,
      };
      // Secret first, then the user with the stored password: a redelivery never rotates a handed-out
      // password, and a user left without a stored secret by a crash is reset to the one now stored.
      const stored = await secretCall('store', broker.secretPath, () =>
        secrets.putIfAbsent(broker.secretPath, candidate),
      );
      if (stored.RABBITMQ_USER !== broker.user || !stored.RABBITMQ_PASSWORD) {
        throw permanent('BROKER.SECRET_MISMATCH', `secret at ${broker.secretPath} belongs to another user`);
      }
      if (
        stored.RABBITMQ_PASSWORD === candidate.RABBITMQ_PASSWORD &&
        (await call('inspect', broker.user, () => management.getUser(broker.user)))
      ) {
        context.logger.warn(
          { user: broker.user, secretPath: broker.secretPath },
          'resetting password of orphaned broker user',
        );
      }
      await call('user', broker.user, () => management.putUser(broker.user, stored.RABBITMQ_PASSWORD));
      await call('permissions', `${broker.user}@${vhost}`, () =>
        management.setPermissions(vhost, broker.user, FULL_PERMISSIONS),
      );
      for (const spec of broker.topology.exchanges)
        await call('exchange', spec.name, () =>
          management.declareExchange(vhost, {
            name: spec.name,
            type: spec.type,
            durable: spec.durable,
            autoDelete: spec.auto_delete,
          }),
        );
      await Promise.all(
        broker.topology.queues.map((spec) =>
          call('queue', spec.name, () =>
            management.declareQueue(vhost, {
              name: spec.name,
              durable: spec.durable,
              autoDelete: spec.auto_delete,
              arguments: spec.arguments,
            }),
          ),
        ),
      );
      await Promise.all(
        broker.topology.bindings.map((spec) =>
          call('binding', `${spec.source}->${spec.destination}`, () =>
            management.createBinding(vhost, {
              source: spec.source,
              destination: spec.destination,
              destinationType: spec.destination_type,
              routingKey: spec.routing_key,
            }),
          ),
        ),
      );
      return {
        vhost,
        user: broker.user,
        exchange,
        queues: broker.topology.queues.map((q) => q.name),
        bindings: broker.topology.bindings.map((b) => `${b.destination}:${b.routing_key}`),
        secretPath: broker.secretPath,
        limits,
      };
    },

    UpdateBrokerLimits: async (command) => {
      const broker = brokerFor(command);
      const { vhost } = broker.topology;
      const { toTier } = command.data.params;
      const limits = await applyVhostLimits(vhost, toTier);
      return { vhost, tier: toTier, limits };
    },

    VerifyBroker: async (command) => {
      const broker = brokerFor(command);
      const { vhost } = broker.topology;
      const checks: { name: string; passed: boolean }[] = [];
      const check = (name: string, passed: boolean) => checks.push({ name, passed });

      const found = await call('inspect', vhost, () => management.getVhost(vhost));
      check('vhost:exists', found?.name === vhost);
      const clusterState = found?.clusterState ?? {};
      throwIfNodeDown(vhost, clusterState);
      const states = Object.values(clusterState);
      check('vhost:running', states.length > 0 && states.every((state) => state === 'running'));
      const exchanges = found ? await call('inspect', vhost, () => management.listExchanges(vhost)) : [];
      check(
        'vhost:default-exchanges',
        DEFAULT_EXCHANGES.every((name) => exchanges.some((x) => x.name === name)),
      );
      const limits = found ? await call('inspect', vhost, () => management.getVhostLimits(vhost)) : undefined;
      for (const [name, value] of Object.entries(vhostLimitsOf(command.data.tenant.tier))) {
        check(`vhost:limit:${name}`, limits?.[name as keyof typeof limits] === value);
      }
      const permissions = await call('inspect', broker.user, () =>
        management.listUserPermissions(broker.user),
      );
      check(
        'user:permissions-own-vhost-only',
        permissions.length === 1 &&
          permissions[0].vhost === vhost &&
          permissions[0].configure === FULL_PERMISSIONS.configure &&
          permissions[0].write === FULL_PERMISSIONS.write &&
          permissions[0].read === FULL_PERMISSIONS.read,
      );
      for (const spec of broker.topology.exchanges) {
        const exchange = await call('inspect', spec.name, () => management.getExchange(vhost, spec.name));
        check(
          `exchange:${spec.name}`,
          exchange?.type === spec.type && exchange.durable && !exchange.autoDelete,
        );
      }
      for (const spec of broker.topology.queues) {
        const queue = await call('inspect', spec.name, () => management.findQueue(vhost, spec.name));
        const args = queue?.arguments ?? {};
        check(
          `queue:${spec.name}`,
          queue?.durable === true &&
            !queue.autoDelete &&
            Object.keys(args).length === Object.keys(spec.arguments).length &&
            Object.entries(spec.arguments).every(([k, v]) => args[k] === v),
        );
      }
      for (const spec of broker.topology.bindings) {
        const bindings = await call('inspect', spec.destination, () =>
          management.listBindings(vhost, spec.source, spec.destination),
        );
        check(
          `binding:${spec.destination}:${spec.routing_key}`,
          bindings.some((b) => b.routingKey === spec.routing_key),
        );
      }
      const stored = (await secretCall('read', broker.secretPath, () => secrets.get(broker.secretPath))) as
        BrokerCredentials | undefined;
      check('secret:stored', stored !== undefined);
      if (stored) {
        const own = await probe(broker, stored, vhost);
        if (own.failure?.code === 'CONNECTION_FAILED' || own.failure?.code === 'TIMEOUT') {
          throw retryable(
            'BROKER.AMQP_UNAVAILABLE',
            `AMQP check could not reach the broker: ${own.failure.code}`,
          );
        }
        check('amqp:connect-publish-consume', own.ok);
        const foreign = await probe(broker, stored, deps.foreignVhost);
        check(
          'amqp:foreign-vhost-refused',
          !foreign.ok && foreign.failure?.step === 'connect' && foreign.failure.code === 'ACCESS_REFUSED',
        );
      }
      const failed = checks.filter((c) => !c.passed).map((c) => c.name);
      if (failed.length > 0)
        throw permanent('BROKER.VERIFICATION_FAILED', `failed checks: ${failed.join(', ')}`);
      return { vhost, checks: checks.map((c) => c.name), passed: checks.length };
    },

    RemoveBroker: async (command) => {
      const broker = brokerFor(command);
      const { vhost } = broker.topology;
      const vhostDeleted = await call('delete', vhost, () => management.deleteVhost(vhost));
      const userDeleted = await call('delete', broker.user, () => management.deleteUser(broker.user));
      await secretCall('delete', broker.secretPath, () => secrets.delete(broker.secretPath));
      return { vhost, user: broker.user, vhostDeleted, userDeleted, secretPath: broker.secretPath };
    },
  };
}
