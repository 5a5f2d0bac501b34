import { argoApplicationName, type CommandMessage, type StepOutputs } from '@app/contracts';
import { HANDLER_DEPS, type CommandContext } from '@app/platform';
import { Controller, Inject } from '@nestjs/common';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import type { K8sHandlerDeps } from './deps';
import { deliver, isGitOps, outputs, tenantImageTag, workloads } from './tenant-delivery';

/** DeployWorkloads (spec 3.2, 6): the tenant's Deployments, Services, credentials and migration Job. */
@Controller()
export class DeployWorkloadsHandler {
  constructor(@Inject(HANDLER_DEPS) private readonly deps: K8sHandlerDeps) {}

  @MessagePattern('DeployWorkloads')
  async handle(
    @Payload() command: CommandMessage<'DeployWorkloads'>,
    @Ctx() context: CommandContext,
  ): Promise<StepOutputs> {
    const { tenant } = command.data;
    // An image tag change deploys the tenant's own tag; provisioning deploys the service's.
    const imageTag = tenantImageTag(command.data.params);
    const result = await deliver(this.deps, {
      tenant,
      reason: command.type,
      correlationId: context.correlationId,
      put: await workloads(this.deps, tenant, false, imageTag),
      imageTag,
      application: 'register',
    });
    return outputs(tenant, result, {
      deployments: 13,
      argoApplication: isGitOps(this.deps) ? argoApplicationName(tenant.tenantId) : null,
      migrationJob: `tenant-migration-${tenant.tenantId}`,
      imageTag: imageTag ?? this.deps.options.imageTag,
    });
  }
}
