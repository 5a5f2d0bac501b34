import type { TenantProfile, Tier } from '@app/contracts';
import { suffixedTenant } from '@app/plans';

/** A fresh, unique tenant for tests that create resources: its admin e-mail too, which Grafana keeps unique. */
export function testTenant(suffixHex: string, tier: Tier = 'standard'): TenantProfile {
  return { ...suffixedTenant(suffixHex, tier), adminEmail: `admin-${suffixHex}@test.example` };
}
