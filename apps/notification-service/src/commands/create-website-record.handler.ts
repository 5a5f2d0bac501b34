import type { CommandMessage, StepOutputs } from '@app/contracts';
import { HANDLER_DEPS } from '@app/platform';
import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { withWebsites } from '../adapters/websites-client';
import type { NotificationHandlerDeps } from './deps';

/** CreateWebsiteRecord (spec 9.1): the tenant's record, `provisioning` until activation; found, not made twice. */
@Controller()
export class CreateWebsiteRecordHandler {
  constructor(@Inject(HANDLER_DEPS) private readonly deps: NotificationHandlerDeps) {}

  @MessagePattern('CreateWebsiteRecord')
  async handle(@Payload() command: CommandMessage<'CreateWebsiteRecord'>): Promise<StepOutputs> {
    const { websites } = this.deps;
    const { tenant } = command.data;
    return withWebsites('WEBSITES.CREATE_FAILED', async () => {
      const existing = await websites.findByTenant(tenant.tenantId);
      if (existing !== null) return { websiteId: existing, created: false };
      const websiteId = await websites.create({
        name: `${tenant.companyName} Store`,
        domain: tenant.domain,
        tenant_id: tenant.tenantId,
        subscription_id: tenant.subscriptionId,
        tier: tenant.tier,
        status: 'provisioning',
      });
      return { websiteId, created: true };
    });
  }
}
