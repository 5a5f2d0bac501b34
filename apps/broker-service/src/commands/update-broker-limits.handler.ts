import type { CommandMessage, StepOutputs } from '@app/contracts';
import { HANDLER_DEPS } from '@app/platform';
import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import type { BrokerHandlerDeps } from './deps';
import { applyVhostLimits, brokerFor } from './tenant-broker';

/** UpdateBrokerLimits: the vhost's limits of the tier the tenant moves to. */
@Controller()
export class UpdateBrokerLimitsHandler {
  constructor(@Inject(HANDLER_DEPS) private readonly deps: BrokerHandlerDeps) {}

  @MessagePattern('UpdateBrokerLimits')
  async handle(@Payload() command: CommandMessage<'UpdateBrokerLimits'>): Promise<StepOutputs> {
    const { vhost } = brokerFor(command).topology;
    const { toTier } = command.data.params;
    const limits = await applyVhostLimits(this.deps, vhost, toTier);
    return { vhost, tier: toTier, limits };
  }
}
