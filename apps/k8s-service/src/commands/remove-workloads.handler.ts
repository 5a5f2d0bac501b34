import type { CommandMessage, StepOutputs } from '@app/contracts';
import { HANDLER_DEPS, type CommandContext } from '@app/platform';
import { Controller, Inject } from '@nestjs/common';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import { workloadFiles } from '@app/plans';
import type { K8sHandlerDeps } from './deps';
import { deliver, directExtrasForRemoval, outputs } from './tenant-delivery';

/** RemoveWorkloads: the tenant's Deployments, Services, credentials and migration Job; absent is success. */
@Controller()
export class RemoveWorkloadsHandler {
  constructor(@Inject(HANDLER_DEPS) private readonly deps: K8sHandlerDeps) {}

  @MessagePattern('RemoveWorkloads')
  async handle(
    @Payload() command: CommandMessage<'RemoveWorkloads'>,
    @Ctx() context: CommandContext,
  ): Promise<StepOutputs> {
    const { tenant } = command.data;
    const result = await deliver(this.deps, {
      tenant,
      reason: command.type,
      correlationId: context.correlationId,
      remove: [...directExtrasForRemoval(this.deps, tenant), ...workloadFiles(tenant, this.deps.options)],
    });
    return outputs(tenant, result);
  }
}
