import { namespaceName, type CommandMessage, type StepOutputs } from '@app/contracts';
import { HANDLER_DEPS, type CommandContext } from '@app/platform';
import { Controller, Inject } from '@nestjs/common';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import { monitoringFiles } from '@app/plans';
import type { MonitoringHandlerDeps } from './deps';
import { guard } from './monitoring-step';

/** ProvisionMonitoring: the tenant's ServiceMonitor, PrometheusRule and dashboard ConfigMap, by its delivery. */
@Controller()
export class ProvisionMonitoringHandler {
  constructor(@Inject(HANDLER_DEPS) private readonly deps: MonitoringHandlerDeps) {}

  @MessagePattern('ProvisionMonitoring')
  handle(
    @Payload() command: CommandMessage<'ProvisionMonitoring'>,
    @Ctx() context: CommandContext,
  ): Promise<StepOutputs> {
    return guard<'ProvisionMonitoring'>((c, correlationId) => this.provision(c, correlationId))(
      command,
      context,
    );
  }

  private async provision(
    command: CommandMessage<'ProvisionMonitoring'>,
    correlationId: string,
  ): Promise<StepOutputs> {
    const { delivery, managedBy } = this.deps;
    const { tenant } = command.data;
    const result = await delivery.apply(tenant, monitoringFiles(tenant, managedBy), {
      reason: 'ProvisionMonitoring',
      correlationId,
    });
    return {
      namespace: namespaceName(tenant.tenantId),
      mode: delivery.mode,
      changed: result.changed,
      ...(result.revision ? { revision: result.revision } : {}),
      serviceMonitor: 'tenant-monitoring',
      prometheusRule: 'tenant-alerts',
      dashboardConfigMap: 'tenant-dashboard',
    };
  }
}
