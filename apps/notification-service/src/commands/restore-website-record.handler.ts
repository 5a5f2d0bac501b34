import type { CommandMessage, StepOutputs } from '@app/contracts';
import { HANDLER_DEPS } from '@app/platform';
import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import type { NotificationHandlerDeps } from './deps';
import { patchRecord } from './website-record';

/**
 * RestoreWebsiteRecord: a reactivation ends the grace period. No `activated_at`: the record keeps its first
 * activation instant.
 */
@Controller()
export class RestoreWebsiteRecordHandler {
  constructor(@Inject(HANDLER_DEPS) private readonly deps: NotificationHandlerDeps) {}

  @MessagePattern('RestoreWebsiteRecord')
  async handle(@Payload() command: CommandMessage<'RestoreWebsiteRecord'>): Promise<StepOutputs> {
    const patch = { status: 'active', deleted_at: null } as const;
    const { websiteId } = command.data.params;
    return patchRecord(this.deps, command.data.tenant, websiteId, patch, 'WEBSITES.RESTORE_FAILED');
  }
}
