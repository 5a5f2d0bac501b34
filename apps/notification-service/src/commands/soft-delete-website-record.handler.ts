import type { CommandMessage, StepOutputs } from '@app/contracts';
import { HANDLER_DEPS } from '@app/platform';
import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import type { NotificationHandlerDeps } from './deps';
import { isoInstant } from './notification-step';
import { patchRecord } from './website-record';

/** SoftDeleteWebsiteRecord: the grace period's `deprovisioning` with its instant; a record gone is not found. */
@Controller()
export class SoftDeleteWebsiteRecordHandler {
  constructor(@Inject(HANDLER_DEPS) private readonly deps: NotificationHandlerDeps) {}

  @MessagePattern('SoftDeleteWebsiteRecord')
  async handle(@Payload() command: CommandMessage<'SoftDeleteWebsiteRecord'>): Promise<StepOutputs> {
    const { websiteId, deletedAt } = command.data.params;
    const patch = { status: 'deprovisioning', deleted_at: isoInstant(deletedAt, 'deletedAt') } as const;
    return patchRecord(this.deps, command.data.tenant, websiteId, patch, 'WEBSITES.SOFT_DELETE_FAILED');
  }
}
