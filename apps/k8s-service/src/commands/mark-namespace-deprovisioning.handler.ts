import type { CommandMessage, StepOutputs } from '@app/contracts';
import { HANDLER_DEPS, type CommandContext } from '@app/platform';
import { Controller, Inject } from '@nestjs/common';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import { deprovisioningMetadata, markedNamespace } from '@app/plans';
import type { K8sHandlerDeps } from './deps';
import { deliver, outputs } from './tenant-delivery';

/** MarkNamespaceDeprovisioning: the namespace's deprovisioning annotations and the label the purge selects on. */
@Controller()
export class MarkNamespaceDeprovisioningHandler {
  constructor(@Inject(HANDLER_DEPS) private readonly deps: K8sHandlerDeps) {}

  @MessagePattern('MarkNamespaceDeprovisioning')
  async handle(
    @Payload() command: CommandMessage<'MarkNamespaceDeprovisioning'>,
    @Ctx() context: CommandContext,
  ): Promise<StepOutputs> {
    const { tenant, params } = command.data;
    const result = await deliver(this.deps, {
      tenant,
      reason: command.type,
      correlationId: context.correlationId,
      put: [{ path: 'namespace.yaml', objects: [markedNamespace(tenant, this.deps.options, params)] }],
    });
    return outputs(tenant, result, { annotations: deprovisioningMetadata(params).annotations });
  }
}
