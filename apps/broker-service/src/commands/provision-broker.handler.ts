import type { CommandMessage, StepOutputs } from '@app/contracts';
import { HANDLER_DEPS, permanent, retryable, type CommandContext } from '@app/platform';
import { Controller, Inject } from '@nestjs/common';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import { FULL_PERMISSIONS, type BrokerCredentials } from '@app/plans';
import type { BrokerHandlerDeps } from './deps';
import {
  applyVhostLimits,
  brokerFor,
  call,
  createVhost,
  exchangeList,
  generateBrokerPassword,
  missingDefaultExchanges,
  secretCall,
  type TenantBroker,
} from './tenant-broker';

/** ProvisionBroker (spec 5.3): the tenant's vhost, limits, user, secret and topology, converging on redelivery. */
@Controller()
export class ProvisionBrokerHandler {
  constructor(@Inject(HANDLER_DEPS) private readonly deps: BrokerHandlerDeps) {}

  @MessagePattern('ProvisionBroker')
  async handle(
    @Payload() command: CommandMessage<'ProvisionBroker'>,
    @Ctx() context: CommandContext,
  ): Promise<StepOutputs> {
    const { management } = this.deps;
    const broker = brokerFor(command);
    const { vhost } = broker.topology;
    const exchange = broker.topology.exchanges[0].name;
    await this.ensureVhost(vhost, context);
    // Before the topology: its queues count against max-queues, and the tenant never sees an unlimited vhost.
    const limits = await applyVhostLimits(this.deps, vhost, command.data.tenant.tier);
    const password = await this.ensureUser(broker, vhost, exchange, context);
    await call('user', broker.user, () => management.putUser(broker.user, password));
    await call('permissions', `${broker.user}@${vhost}`, () =>
      management.setPermissions(vhost, broker.user, FULL_PERMISSIONS),
    );
    await this.declareTopology(broker);
    return {
      vhost,
      user: broker.user,
      exchange,
      queues: broker.topology.queues.map((q) => q.name),
      bindings: broker.topology.bindings.map((b) => `${b.destination}:${b.routing_key}`),
      secretPath: broker.secretPath,
      limits,
    };
  }

  /**
   * Creates the vhost. A cut creation may also leave some default exchanges missing, which neither a PUT nor a
   * start restores: only recreating the vhost does. Safe while it holds no queue (nothing of the tenant's to
   * lose); with queues, deleting it would lose messages, so an operator decides.
   */
  private async ensureVhost(vhost: string, context: CommandContext): Promise<void> {
    const { management } = this.deps;
    await createVhost(this.deps, vhost);
    const missing = await missingDefaultExchanges(this.deps, vhost);
    if (missing.length === 0) return;
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
    await createVhost(this.deps, vhost);
    const still = await missingDefaultExchanges(this.deps, vhost);
    if (still.length > 0) {
      throw retryable(
        'BROKER.VHOST_NOT_READY',
        `vhost ${vhost} still lacks default exchange(s) ${exchangeList(still)} after being recreated`,
      );
    }
  }

  /**
   * Secret first, then the user with the stored password: a redelivery never rotates a handed-out password,
   * and a user left without a stored secret by a crash is reset to the one now stored. Returns that password.
   */
  private async ensureUser(
    broker: TenantBroker,
    vhost: string,
    exchange: string,
    context: CommandContext,
  ): Promise<string> {
    const newPassword = this.deps.generatePassword ?? generateBrokerPassword;
    const candidate: BrokerCredentials = {
      RABBITMQ_HOST: this.deps.secretHost,
      RABBITMQ_PORT: String(this.deps.secretPort),
      RABBITMQ_USER: broker.user,
      RABBITMQ_PASSWORD: newPassword(),
      RABBITMQ_VHOST: vhost,
      RABBITMQ_EXCHANGE: exchange,
    };
    const stored = await secretCall('store', broker.secretPath, () =>
      this.deps.secrets.putIfAbsent(broker.secretPath, candidate),
    );
    if (stored.RABBITMQ_USER !== broker.user || !stored.RABBITMQ_PASSWORD) {
      throw permanent('BROKER.SECRET_MISMATCH', `secret at ${broker.secretPath} belongs to another user`);
    }
    if (
      stored.RABBITMQ_PASSWORD === candidate.RABBITMQ_PASSWORD &&
      (await call('inspect', broker.user, () => this.deps.management.getUser(broker.user)))
    ) {
      context.logger.warn(
        { user: broker.user, secretPath: broker.secretPath },
        'resetting password of orphaned broker user',
      );
    }
    return stored.RABBITMQ_PASSWORD;
  }

  private async declareTopology(broker: TenantBroker): Promise<void> {
    const { management } = this.deps;
    const { vhost } = broker.topology;
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
  }
}
