import type { CommandMessage, StepOutputs } from '@app/contracts';
import { HANDLER_DEPS, type CommandContext } from '@app/platform';
import { Controller, Inject } from '@nestjs/common';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import { ingressFiles } from '@app/plans';
import type { K8sHandlerDeps } from './deps';
import { deliver, outputs } from './tenant-delivery';

/** ConfigureIngress (spec 7): the tenant's certificate and ingress for its domain and `www.` host. */
@Controller()
export class ConfigureIngressHandler {
  constructor(@Inject(HANDLER_DEPS) private readonly deps: K8sHandlerDeps) {}

  @MessagePattern('ConfigureIngress')
  async handle(
    @Payload() command: CommandMessage<'ConfigureIngress'>,
    @Ctx() context: CommandContext,
  ): Promise<StepOutputs> {
    const { tenant } = command.data;
    const result = await deliver(this.deps, {
      tenant,
      reason: command.type,
      correlationId: context.correlationId,
      put: ingressFiles(tenant, this.deps.options),
    });
    return outputs(tenant, result, {
      ingress: 'tenant-ingress',
      certificate: 'tenant-tls',
      hosts: [tenant.domain, `www.${tenant.domain}`],
    });
  }
}
