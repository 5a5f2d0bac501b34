import type { CommandMessage, StepOutputs } from '@app/contracts';
import { HANDLER_DEPS, type CommandContext } from '@app/platform';
import { Controller, Inject } from '@nestjs/common';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import { ingress, ingressFiles } from '@app/plans';
import type { K8sHandlerDeps } from './deps';
import { deliver, has, outputs, tenantImageTag, workloads } from './tenant-delivery';

/** ResumeWorkloads: the Deployments at the tier's replicas, and the ingress again where the tenant had one. */
@Controller()
export class ResumeWorkloadsHandler {
  constructor(@Inject(HANDLER_DEPS) private readonly deps: K8sHandlerDeps) {}

  @MessagePattern('ResumeWorkloads')
  async handle(
    @Payload() command: CommandMessage<'ResumeWorkloads'>,
    @Ctx() context: CommandContext,
  ): Promise<StepOutputs> {
    const { tenant } = command.data;
    const { options } = this.deps;
    // Suspension keeps the certificate: it tells whether the tenant had an ingress to restore.
    const cert = ingressFiles(tenant, options)[0];
    const imageTag = tenantImageTag(command.data.params);
    const files = await workloads(this.deps, tenant, false, imageTag);
    const hadIngress = await has(this.deps, tenant, cert.path, cert.objects[0]);
    if (hadIngress) files.push({ path: 'ingress.yaml', objects: [ingress(tenant, options)] });
    const result = await deliver(this.deps, {
      tenant,
      reason: command.type,
      correlationId: context.correlationId,
      put: files,
      imageTag,
    });
    return outputs(tenant, result, { ingress: hadIngress ? 'restored' : 'not-configured' });
  }
}
