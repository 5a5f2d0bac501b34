import type { CommandMessage, StepOutputs } from '@app/contracts';
import type { AmqpProbeResult } from '@app/messaging';
import { HANDLER_DEPS, permanent, retryable } from '@app/platform';
import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { DEFAULT_EXCHANGES, FULL_PERMISSIONS, vhostLimitsOf, type BrokerCredentials } from '@app/plans';
import type { BrokerHandlerDeps } from './deps';
import { brokerFor, call, probe, secretCall, throwIfNodeDown, type TenantBroker } from './tenant-broker';

type Check = (name: string, passed: boolean) => void;

/**
 * VerifyBroker: the vhost runs with its default exchanges and its tier's limits, the user may only enter its
 * own vhost, the topology is as declared, and the stored credentials connect, publish and consume there but
 * are refused in a foreign vhost. A broker that cannot be reached is retried, a failed check is permanent.
 */
@Controller()
export class VerifyBrokerHandler {
  constructor(@Inject(HANDLER_DEPS) private readonly deps: BrokerHandlerDeps) {}

  @MessagePattern('VerifyBroker')
  async handle(@Payload() command: CommandMessage<'VerifyBroker'>): Promise<StepOutputs> {
    const broker = brokerFor(command);
    const { vhost } = broker.topology;
    const checks: { name: string; passed: boolean }[] = [];
    const check: Check = (name, passed) => checks.push({ name, passed });
    await this.checkVhost(command, vhost, check);
    await this.checkTopology(broker, check);
    await this.checkAccess(broker, check);
    const failed = checks.filter((c) => !c.passed).map((c) => c.name);
    if (failed.length > 0)
      throw permanent('BROKER.VERIFICATION_FAILED', `failed checks: ${failed.join(', ')}`);
    return { vhost, checks: checks.map((c) => c.name), passed: checks.length };
  }

  private async checkVhost(
    command: CommandMessage<'VerifyBroker'>,
    vhost: string,
    check: Check,
  ): Promise<void> {
    const { management } = this.deps;
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
  }

  private async checkTopology(broker: TenantBroker, check: Check): Promise<void> {
    const { management } = this.deps;
    const { vhost } = broker.topology;
    const permissions = await call('inspect', broker.user, () => management.listUserPermissions(broker.user));
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
  }

  private async checkAccess(broker: TenantBroker, check: Check): Promise<void> {
    const stored = (await secretCall('read', broker.secretPath, () =>
      this.deps.secrets.get(broker.secretPath),
    )) as BrokerCredentials | undefined;
    check('secret:stored', stored !== undefined);
    if (!stored) return;
    const own = await probe(this.deps, broker, stored, broker.topology.vhost);
    throwIfUnreachable(own);
    check('amqp:connect-publish-consume', own.ok);
    // The broker can drop between the two probes (a node restart): a foreign probe that could not connect at all
    // says nothing about isolation, and must not fail the tenant for good.
    const foreign = await probe(this.deps, broker, stored, this.deps.foreignVhost);
    throwIfUnreachable(foreign);
    check(
      'amqp:foreign-vhost-refused',
      !foreign.ok && foreign.failure?.step === 'connect' && foreign.failure.code === 'ACCESS_REFUSED',
    );
  }
}

/** A probe that never reached the broker is retried, not judged (the step's retry runs it again). */
function throwIfUnreachable(result: AmqpProbeResult): void {
  if (result.failure?.code === 'CONNECTION_FAILED' || result.failure?.code === 'TIMEOUT') {
    throw retryable(
      'BROKER.AMQP_UNAVAILABLE',
      `AMQP check could not reach the broker: ${result.failure.code}`,
    );
  }
}
