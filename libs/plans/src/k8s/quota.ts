import { type ResourceQuotaHard, TIER_CATALOG, type Tier, parseQuantity } from '@app/contracts';

export type QuotaKey = keyof ResourceQuotaHard;

export interface QuotaChange {
  resource: QuotaKey;
  from: string;
  to: string;
  direction: 'up' | 'down' | 'same';
}

/** Old vs new hard limits, one entry per resource, in the catalog's order. */
export function quotaDiff(fromTier: Tier, toTier: Tier): QuotaChange[] {
  const from = TIER_CATALOG[fromTier].quota;
  const to = TIER_CATALOG[toTier].quota;
  return (Object.keys(from) as QuotaKey[]).map((resource) => {
    const a = parseQuantity(from[resource]);
    const b = parseQuantity(to[resource]);
    return {
      resource,
      from: from[resource],
      to: to[resource],
      direction: b > a ? 'up' : b < a ? 'down' : 'same',
    };
  });
}

export function isDowngrade(changes: QuotaChange[]): boolean {
  return changes.some((change) => change.direction === 'down');
}

/**
 * Reasons a tenant's current usage does not fit the new tier's quota (empty when it fits). `usage` is the
 * ResourceQuota's `status.used`; resources it does not report are taken as unused. Lowering a quota below
 * usage is accepted by Kubernetes but blocks every new pod, so a downgrade is refused instead.
 */
export function downgradeRefusals(toTier: Tier, usage: Partial<Record<string, string>>): string[] {
  const hard = TIER_CATALOG[toTier].quota;
  const reasons: string[] = [];
  for (const resource of Object.keys(hard) as QuotaKey[]) {
    const used = usage[resource];
    if (used === undefined) continue;
    if (parseQuantity(used) > parseQuantity(hard[resource])) {
      reasons.push(`${resource}: ${used} in use exceeds the ${toTier} quota of ${hard[resource]}`);
    }
  }
  return reasons;
}
