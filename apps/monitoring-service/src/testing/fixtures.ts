import { TIER_CATALOG, type TenantProfile, type Tier } from '@app/contracts';

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
    createdAt: '2025-01-15T10:00:00Z',
  };
}
export function testTenant(suffixHex: string, tier: Tier = 'standard'): TenantProfile {
  return {
    ...abcCorporation(tier),
    tenantId: `test-co-${suffixHex}`,
    companyName: 'Test Co',
    adminEmail: `admin-${suffixHex}@test.example`,
    domain: `test-co-${suffixHex}.collectverything.com`,
  };
}
