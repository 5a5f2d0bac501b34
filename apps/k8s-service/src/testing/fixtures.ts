import { TIER_CATALOG, type TenantProfile, type Tier } from '@app/contracts';

/** The spec's example tenant (phase 1.1), at any tier. */
export function abcCorporation(tier: Tier = 'premium'): TenantProfile {
  return {
    tenantId: 'abc-corporation-7f3a9c',
    companyName: 'ABC Corporation',
    adminEmail: 'admin@abc-corp.com',
    billingEmail: 'billing@abc-corp.com',
    tier,
    region: 'us-east',
    domain: 'abc-corporation.collectverything.com',
    subscriptionId: 'sub_abc123',
    plan: { price: TIER_CATALOG[tier].plan.monthlyPriceEur, currency: 'EUR', billingPeriod: 'monthly' },
    companySize: '50-200',
    industry: 'retail',
    createdAt: '2025-01-15T10:00:00Z',
  };
}

/** A fresh, unique tenant for tests that create resources. */
export function testTenant(suffixHex: string, tier: Tier = 'standard'): TenantProfile {
  const tenantId = `test-co-${suffixHex}`;
  return {
    ...abcCorporation(tier),
    tenantId,
    companyName: 'Test Co',
    domain: `test-co-${suffixHex}.collectverything.com`,
    subscriptionId: `sub_${suffixHex}`,
  };
}
