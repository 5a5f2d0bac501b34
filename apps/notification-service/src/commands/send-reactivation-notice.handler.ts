import type { CommandMessage, StepOutputs } from '@app/contracts';
import { HANDLER_DEPS } from '@app/platform';
import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { renderReactivationNotice } from '@app/plans';
import type { NotificationHandlerDeps } from './deps';
import { cycleNoticeKey, sendOnce } from './notices';

/** SendReactivationNotice: the reactivation and its instant, once per reactivation cycle. */
@Controller()
export class SendReactivationNoticeHandler {
  constructor(@Inject(HANDLER_DEPS) private readonly deps: NotificationHandlerDeps) {}

  @MessagePattern('SendReactivationNotice')
  async handle(@Payload() command: CommandMessage<'SendReactivationNotice'>): Promise<StepOutputs> {
    const { reactivatedAt } = command.data.params;
    const { tenant } = command.data;
    return sendOnce(
      this.deps,
      tenant,
      cycleNoticeKey('reactivation', reactivatedAt, command.data.step),
      async () => renderReactivationNotice(tenant, reactivatedAt),
      'NOTIFICATION.REACTIVATION_SEND_FAILED',
    );
  }
}
