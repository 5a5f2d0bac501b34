import type { CommandMessage, StepOutputs } from '@app/contracts';
import { HANDLER_DEPS } from '@app/platform';
import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { renderCancellationNotice } from '@app/plans';
import type { NotificationHandlerDeps } from './deps';
import { cycleNoticeKey, sendOnce } from './notices';

/** SendCancellationNotice: the cancellation and its deletion date, once per cancellation cycle. */
@Controller()
export class SendCancellationNoticeHandler {
  constructor(@Inject(HANDLER_DEPS) private readonly deps: NotificationHandlerDeps) {}

  @MessagePattern('SendCancellationNotice')
  async handle(@Payload() command: CommandMessage<'SendCancellationNotice'>): Promise<StepOutputs> {
    const { deletionDate } = command.data.params;
    const { tenant } = command.data;
    return sendOnce(
      this.deps,
      tenant,
      cycleNoticeKey('cancellation', deletionDate, command.data.step),
      async () => renderCancellationNotice(tenant, deletionDate),
      'NOTIFICATION.CANCELLATION_SEND_FAILED',
    );
  }
}
