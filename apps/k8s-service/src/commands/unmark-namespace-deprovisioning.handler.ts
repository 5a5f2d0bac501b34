import type { CommandMessage, StepOutputs } from '@app/contracts';
import { HANDLER_DEPS, type CommandContext } from '@app/platform';
import { Controller, Inject } from '@nestjs/common';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import { markedNamespace } from '@app/plans';
import type { K8sHandlerDeps } from './deps';
import { deliver, outputs } from './tenant-delivery';

/** UnmarkNamespaceDeprovisioning: the namespace as provisioned, its deprovisioning marks gone. */
@Controller()
export class UnmarkNamespaceDeprovisioningHandler {
  constructor(@Inject(HANDLER_DEPS) private readonly deps: K8sHandlerDeps) {}

  @MessagePattern('UnmarkNamespaceDeprovisioning')
  async handle(
    @Payload() command: CommandMessage<'UnmarkNamespaceDeprovisioning'>,
    @Ctx() context: CommandContext,
  ): Promise<StepOutputs> {
    const { tenant } = command.data;
    const result = await deliver(this.deps, {
      tenant,
      reason: command.type,
      correlationId: context.correlationId,
      put: [{ path: 'namespace.yaml', objects: [markedNamespace(tenant, this.deps.options, undefined)] }],
    });
    return outputs(tenant, result);
  }
}
