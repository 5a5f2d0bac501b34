import { namespaceName, type CommandMessage, type StepOutputs } from '@app/contracts';
import { HANDLER_DEPS, type CommandContext } from '@app/platform';
import { Controller, Inject } from '@nestjs/common';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import { monitoringFiles } from '@app/plans';
import type { MonitoringHandlerDeps } from './deps';
import { guard } from './monitoring-step';

/** RemoveMonitoring: the tenant's monitoring objects, by its delivery; absent is success. */
@Controller()
export class RemoveMonitoringHandler {
  constructor(@Inject(HANDLER_DEPS) private readonly deps: MonitoringHandlerDeps) {}

  @MessagePattern('RemoveMonitoring')
  handle(
    @Payload() command: CommandMessage<'RemoveMonitoring'>,
    @Ctx() context: CommandContext,
  ): Promise<StepOutputs> {
    return guard<'RemoveMonitoring'>((c, correlationId) => this.remove(c, correlationId))(command, context);
  }

  private async remove(
    command: CommandMessage<'RemoveMonitoring'>,
    correlationId: string,
  ): Promise<StepOutputs> {
    const { delivery, managedBy } = this.deps;
    const { tenant } = command.data;
    const result = await delivery.remove(tenant, monitoringFiles(tenant, managedBy), {
      reason: 'RemoveMonitoring',
      correlationId,
    });
    return { namespace: namespaceName(tenant.tenantId), mode: delivery.mode, changed: result.changed };
  }
}
