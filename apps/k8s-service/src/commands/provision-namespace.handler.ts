import type { CommandMessage, StepOutputs } from '@app/contracts';
import { HANDLER_DEPS, type CommandContext } from '@app/platform';
import { Controller, Inject } from '@nestjs/common';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import { namespaceFiles } from '@app/plans';
import type { K8sHandlerDeps } from './deps';
import { deliver, outputs } from './tenant-delivery';

/** ProvisionNamespace (spec 2): the namespace with its quota, limits and network policies. */
@Controller()
export class ProvisionNamespaceHandler {
  constructor(@Inject(HANDLER_DEPS) private readonly deps: K8sHandlerDeps) {}

  @MessagePattern('ProvisionNamespace')
  async handle(
    @Payload() command: CommandMessage<'ProvisionNamespace'>,
    @Ctx() context: CommandContext,
  ): Promise<StepOutputs> {
    const { tenant } = command.data;
    // GitOps: registering the tenant now lets Argo CD create the namespace this step reports.
    const result = await deliver(this.deps, {
      tenant,
      reason: command.type,
      correlationId: context.correlationId,
      put: namespaceFiles(tenant, this.deps.options),
      application: 'register',
    });
    return outputs(tenant, result, {
      quota: 'tenant-quota',
      limitRange: 'tenant-limits',
      networkPolicy: 'tenant-isolation',
    });
  }
}
