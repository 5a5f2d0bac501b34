import type { CommandMessage, StepOutputs } from '@app/contracts';
import { HANDLER_DEPS } from '@app/platform';
import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { permanent } from '@app/platform';
import type { NotificationHandlerDeps } from './deps';
import { isoInstant } from './notification-step';
import { patchRecord } from './website-record';

/** ActivateWebsiteRecord (spec 11.1): the record becomes `active` with the tenant's activation instant. */
@Controller()
export class ActivateWebsiteRecordHandler {
  constructor(@Inject(HANDLER_DEPS) private readonly deps: NotificationHandlerDeps) {}

  @MessagePattern('ActivateWebsiteRecord')
  async handle(@Payload() command: CommandMessage<'ActivateWebsiteRecord'>): Promise<StepOutputs> {
    const { websiteId, activatedAt } = command.data.params;
    const { tenant } = command.data;
    const patch = { status: 'active', activated_at: isoInstant(activatedAt, 'activatedAt') } as const;
    const outputs = await patchRecord(this.deps, tenant, websiteId, patch, 'WEBSITES.ACTIVATE_FAILED');
    // Unlike a soft delete or restore, no purge can have removed the record of a tenant being activated:
    // an active tenant without its record is an incident for an operator, not an answer.
    if (outputs.found === false) {
      throw permanent('WEBSITES.RECORD_MISSING', `no website record to activate for ${tenant.tenantId}`);
    }
    return outputs;
  }
}
