import type { CommandMessage, StepOutputs } from '@app/contracts';
import { HANDLER_DEPS, type CommandContext } from '@app/platform';
import { Controller, Inject } from '@nestjs/common';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import { ingressFiles } from '@app/plans';
import type { K8sHandlerDeps } from './deps';
import { deliver, outputs } from './tenant-delivery';

/** RemoveIngress: the tenant's certificate and ingress; absent is success. */
@Controller()
export class RemoveIngressHandler {
  constructor(@Inject(HANDLER_DEPS) private readonly deps: K8sHandlerDeps) {}

  @MessagePattern('RemoveIngress')
  async handle(
    @Payload() command: CommandMessage<'RemoveIngress'>,
    @Ctx() context: CommandContext,
  ): Promise<StepOutputs> {
    const { tenant } = command.data;
    const result = await deliver(this.deps, {
      tenant,
      reason: command.type,
      correlationId: context.correlationId,
      remove: ingressFiles(tenant, this.deps.options),
    });
    return outputs(tenant, result);
  }
}
