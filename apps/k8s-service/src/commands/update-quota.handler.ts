import {
  namespaceName,
  type CommandMessage,
  type StepOutputs,
  type TenantProfile,
  type Tier,
} from '@app/contracts';
import { HANDLER_DEPS, permanent, type CommandContext } from '@app/platform';
import { Controller, Inject } from '@nestjs/common';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import { downgradeRefusals, isDowngrade, quotaDiff, namespaceFiles } from '@app/plans';
import type { K8sHandlerDeps } from './deps';
import { deliver, has, outputs, tenantImageTag, workloads } from './tenant-delivery';

/**
 * UpdateQuota: the namespace's quota and limits of the new tier, and the workloads' sizing once deployed. A
 * downgrade is refused when the usage the cluster reports does not fit the new quota.
 */
@Controller()
export class UpdateQuotaHandler {
  constructor(@Inject(HANDLER_DEPS) private readonly deps: K8sHandlerDeps) {}

  @MessagePattern('UpdateQuota')
  async handle(
    @Payload() command: CommandMessage<'UpdateQuota'>,
    @Ctx() context: CommandContext,
  ): Promise<StepOutputs> {
    const { params } = command.data;
    const tenant: TenantProfile = { ...command.data.tenant, tier: params.toTier };
    const changes = quotaDiff(params.fromTier, params.toTier);
    const usageChecked = isDowngrade(changes) && (await this.checkUsageFits(tenant, params.toTier));
    const files = [...namespaceFiles(tenant, this.deps.options)];
    const deployed = await has(this.deps, tenant, 'external-secrets.yaml', {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'api-gateway', namespace: namespaceName(tenant.tenantId) },
    });
    // Once the workloads step has run, their sizing follows the tier too.
    const imageTag = tenantImageTag(params);
    if (deployed) files.push(...(await workloads(this.deps, tenant, false, imageTag)));
    const result = await deliver(this.deps, {
      tenant,
      reason: command.type,
      correlationId: context.correlationId,
      put: files,
      application: 'register',
      imageTag,
    });
    return outputs(tenant, result, {
      fromTier: params.fromTier,
      toTier: params.toTier,
      usageChecked,
      changes: changes
        .filter((c) => c.direction !== 'same')
        .map((c) => ({ resource: c.resource, from: c.from, to: c.to })),
    });
  }

  /**
   * Refuses the downgrade when the namespace's reported usage exceeds the new quota. Returns whether the usage
   * was read (false without a cluster, or before the quota exists).
   */
  private async checkUsageFits(tenant: TenantProfile, toTier: Tier): Promise<boolean> {
    const { cluster } = this.deps;
    if (!cluster) return false;
    const quota = await cluster.read('v1', 'ResourceQuota', 'tenant-quota', namespaceName(tenant.tenantId));
    const used = ((quota?.status ?? {}) as { used?: Record<string, string> }).used ?? {};
    const refusals = downgradeRefusals(toTier, used);
    if (refusals.length > 0) {
      throw permanent(
        'K8S.DOWNGRADE_DOES_NOT_FIT',
        `current usage does not fit the ${toTier} tier: ${refusals.join('; ')}`,
      );
    }
    return quota !== undefined;
  }
}
