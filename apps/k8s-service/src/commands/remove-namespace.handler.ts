import {
  argoApplicationName,
  namespaceName,
  type CommandMessage,
  type StepOutputs,
  type TenantProfile,
} from '@app/contracts';
import { HANDLER_DEPS, retryable, type CommandContext } from '@app/platform';
import { Controller, Inject } from '@nestjs/common';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import { purgeLeftovers } from '../domain/readiness';
import type { ClusterReader, K8sHandlerDeps } from './deps';
import { isGitOps, outputs, pause, removeTenant } from './tenant-delivery';

/**
 * RemoveNamespace: everything of the tenant. Direct: the driver waits until the namespace is gone. GitOps: the
 * commit only asks Argo CD to prune, so the deletion is observed when a cluster is reachable, trusted otherwise.
 */
@Controller()
export class RemoveNamespaceHandler {
  constructor(@Inject(HANDLER_DEPS) private readonly deps: K8sHandlerDeps) {}

  @MessagePattern('RemoveNamespace')
  async handle(
    @Payload() command: CommandMessage<'RemoveNamespace'>,
    @Ctx() context: CommandContext,
  ): Promise<StepOutputs> {
    const { tenant } = command.data;
    const result = await removeTenant(this.deps, tenant, {
      reason: command.type,
      correlationId: context.correlationId,
    });
    const gitops = isGitOps(this.deps);
    const argoApplication = gitops ? argoApplicationName(tenant.tenantId) : null;
    if (!gitops) return outputs(tenant, result, { argoApplication, deletion: 'observed' });
    if (!this.deps.cluster) {
      return outputs(tenant, result, {
        argoApplication,
        deletion: 'trusted',
        note: 'no cluster reachable: the tenant left Git; Argo CD pruning its application and namespace was not observed',
      });
    }
    await this.waitPruned(tenant, this.deps.cluster);
    return outputs(tenant, result, { argoApplication, deletion: 'observed' });
  }

  /** Until the Argo CD Application and the namespace are both gone, or the deadline. */
  private async waitPruned(tenant: TenantProfile, cluster: ClusterReader): Promise<void> {
    const { timeoutMs, intervalMs } = this.deps.purge ?? { timeoutMs: 120000, intervalMs: 1000 };
    const deadline = Date.now() + timeoutMs;
    const application = {
      name: argoApplicationName(tenant.tenantId),
      namespace: this.deps.options.argoNamespace,
    };
    const namespace = { name: namespaceName(tenant.tenantId) };
    for (;;) {
      const [app, ns] = await Promise.all([
        cluster.read('argoproj.io/v1alpha1', 'Application', application.name, application.namespace),
        cluster.read('v1', 'Namespace', namespace.name),
      ]);
      const left = purgeLeftovers({ ...application, object: app }, { ...namespace, object: ns });
      if (left.length === 0) return;
      if (Date.now() >= deadline) {
        throw retryable(
          'K8S.NAMESPACE_TERMINATION_TIMEOUT',
          `after ${timeoutMs} ms: ${left.join('; ')}; left to Argo CD and the namespace controller, no finalizer stripped`,
        );
      }
      await pause(this.deps, intervalMs);
    }
  }
}
