import type { CommandMessage, StepOutputs } from '@app/contracts';
import { HANDLER_DEPS, type CommandContext } from '@app/platform';
import { Controller, Inject } from '@nestjs/common';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import { ingressFiles } from '@app/plans';
import type { K8sHandlerDeps } from './deps';
import { deliver, outputs, tenantImageTag, workloads } from './tenant-delivery';

/** SuspendWorkloads: every Deployment at zero replicas and the ingress removed; the objects and the certificate stay. */
@Controller()
export class SuspendWorkloadsHandler {
  constructor(@Inject(HANDLER_DEPS) private readonly deps: K8sHandlerDeps) {}

  @MessagePattern('SuspendWorkloads')
  async handle(
    @Payload() command: CommandMessage<'SuspendWorkloads'>,
    @Ctx() context: CommandContext,
  ): Promise<StepOutputs> {
    const { tenant } = command.data;
    const imageTag = tenantImageTag(command.data.params);
    const result = await deliver(this.deps, {
      tenant,
      reason: command.type,
      correlationId: context.correlationId,
      put: await workloads(this.deps, tenant, true, imageTag),
      imageTag,
      remove: ingressFiles(tenant, this.deps.options).filter((file) => file.path === 'ingress.yaml'),
    });
    return outputs(tenant, result, { replicas: 0, ingress: 'removed' });
  }
}
