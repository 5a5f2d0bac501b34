import { adminInitialSecretPath, type CommandMessage, type StepOutputs } from '@app/contracts';
import { HANDLER_DEPS } from '@app/platform';
import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { withWebsites } from '../adapters/websites-client';
import type { NotificationHandlerDeps } from './deps';
import { secretCall } from './notification-step';

/**
 * DeleteWebsiteRecord: the purge's last resource step and the website's compensation. The welcome e-mail's
 * temporary password goes with the record; absent is success for both, so a redelivery or an early rollback
 * passes.
 */
@Controller()
export class DeleteWebsiteRecordHandler {
  constructor(@Inject(HANDLER_DEPS) private readonly deps: NotificationHandlerDeps) {}

  @MessagePattern('DeleteWebsiteRecord')
  async handle(@Payload() command: CommandMessage<'DeleteWebsiteRecord'>): Promise<StepOutputs> {
    const { secrets, websites } = this.deps;
    const { tenant } = command.data;
    const path = adminInitialSecretPath(tenant.tenantId);
    await secretCall('delete', path, () => secrets.delete(path));
    return withWebsites('WEBSITES.DELETE_FAILED', async () => {
      const websiteId = command.data.params.websiteId ?? (await websites.findByTenant(tenant.tenantId));
      if (websiteId === null) return { websiteId: null, deleted: false };
      await websites.delete(websiteId);
      return { websiteId, deleted: true };
    });
  }
}
