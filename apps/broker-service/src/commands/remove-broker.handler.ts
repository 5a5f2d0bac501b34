import type { CommandMessage, StepOutputs } from '@app/contracts';
import { HANDLER_DEPS } from '@app/platform';
import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import type { BrokerHandlerDeps } from './deps';
import { brokerFor, call, secretCall } from './tenant-broker';

/** RemoveBroker: the tenant's vhost (with its queues), its user and its secret; absent is success. */
@Controller()
export class RemoveBrokerHandler {
  constructor(@Inject(HANDLER_DEPS) private readonly deps: BrokerHandlerDeps) {}

  @MessagePattern('RemoveBroker')
  async handle(@Payload() command: CommandMessage<'RemoveBroker'>): Promise<StepOutputs> {
    const { management, secrets } = this.deps;
    const broker = brokerFor(command);
    const { vhost } = broker.topology;
    const vhostDeleted = await call('delete', vhost, () => management.deleteVhost(vhost));
    const userDeleted = await call('delete', broker.user, () => management.deleteUser(broker.user));
    await secretCall('delete', broker.secretPath, () => secrets.delete(broker.secretPath));
    return { vhost, user: broker.user, vhostDeleted, userDeleted, secretPath: broker.secretPath };
  }
}
