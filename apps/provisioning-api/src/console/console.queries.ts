import type { TenantVerification } from '@app/audit';
import type { TenantSummary } from '@app/tenancy';
import { Query } from '@nestjs/cqrs';

/* The console's own reads, beside the tenant queries it shares with the API (list, detail, history). */

export interface AttentionPage {
  items: TenantSummary[];
  /** Tenants looked at: fewer than `total` once the scan limit is reached. */
  scanned: number;
  total: number;
}

/** Tenants with parked steps, and failed or rolling-back tenants, newest change first. */
export class ListTenantsNeedingAttention extends Query<AttentionPage> {}

/** The hash-chain verification of a tenant's stream: ok, coverage, first mismatch. */
export class VerifyTenantAudit extends Query<TenantVerification> {
  constructor(readonly tenantId: string) {
    super();
  }
}
