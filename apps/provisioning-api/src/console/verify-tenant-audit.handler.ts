import { verifyTenant, type TenantVerification } from '@app/audit';
import { tenantStream } from '@app/contracts';
import { EVENT_STORE, readStreamOrEmpty, type EventStore } from '@app/event-store';
import { assertTenantIdParam, tenantNotFound } from '@app/tenancy';
import { Inject } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { VerifyTenantAudit } from './console.queries';

@QueryHandler(VerifyTenantAudit)
export class VerifyTenantAuditHandler implements IQueryHandler<VerifyTenantAudit> {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  async execute({ tenantId }: VerifyTenantAudit): Promise<TenantVerification> {
    assertTenantIdParam(tenantId);
    const verification = await verifyTenant(this.store, tenantId);
    // Nothing covered and nothing to cover: an unknown tenant, or one whose chain has not started yet.
    if (verification.uncoveredEvents === 0 && verification.coveredUpTo < 0) {
      const [first] = await readStreamOrEmpty(this.store, tenantStream(tenantId), { limit: 1 });
      if (!first) throw tenantNotFound(tenantId);
    }
    return verification;
  }
}
