import type { CommandMessage, StepOutputs } from '@app/contracts';
import { HANDLER_DEPS } from '@app/platform';
import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { renderDeletionConfirmation } from '@app/plans';
import type { NotificationHandlerDeps } from './deps';
import { sendOnce } from './notices';

/** SendDeletionConfirmation: the purge is done, told once (its sent-log outlives the tenant's secrets). */
@Controller()
export class SendDeletionConfirmationHandler {
  constructor(@Inject(HANDLER_DEPS) private readonly deps: NotificationHandlerDeps) {}

  @MessagePattern('SendDeletionConfirmation')
  async handle(@Payload() command: CommandMessage<'SendDeletionConfirmation'>): Promise<StepOutputs> {
    const { tenant } = command.data;
    return sendOnce(
      this.deps,
      tenant,
      'deletion',
      async () => renderDeletionConfirmation(tenant, command.data.params.purgedAt),
      'NOTIFICATION.DELETION_SEND_FAILED',
    );
  }
}
