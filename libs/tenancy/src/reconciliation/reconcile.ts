import {
  deterministicId,
  RECONCILIATION_FINDING_KINDS,
  type ReconciliationActionKind,
  type ReconciliationFinding,
  type ReconciliationFindingKind,
  type Tier,
} from '@app/contracts';
import type { TenantStatus } from '../read-model/tenant-summary.projection';
import type { BillingSubscription } from './subscription-list';

/** The part of a tenant summary the comparison reads. */
export interface ComparedTenant {
  tenantId: string;
  subscriptionId: string;
  tier: Tier;
  status: TenantStatus;
  updatedAt: string;
}

/**
 * Tenants that hold a subscription: being provisioned, or operating (suspended ones too: billing suspends a
 * subscription, it does not end it). A failed, cancelled, deprovisioning or purged tenant holds none.
 */
export const SUBSCRIPTION_HOLDING_STATUSES: ReadonlySet<TenantStatus> = new Set<TenantStatus>([
  'requested',
  'provisioning',
  'active',
  'suspended',
  'suspending',
  'resuming',
]);

export type FindingCounts = Record<ReconciliationFindingKind, number>;

const KIND_ORDER = new Map(RECONCILIATION_FINDING_KINDS.map((kind, index) => [kind, index]));

function finding(
  kind: ReconciliationFindingKind,
  fields: Partial<ReconciliationFinding> & { subscriptionId: string; detail: string },
): ReconciliationFinding {
  return {
    kind,
    tenantId: null,
    tenantStatus: null,
    tenantTier: null,
    billingTier: null,
    billingTenantId: null,
    ...fields,
  };
}

function holderFields(tenant: ComparedTenant) {
  return { tenantId: tenant.tenantId, tenantStatus: tenant.status, tenantTier: tenant.tier };
}

/** The subscription's findings against the tenants that hold it (none: `missing`). */
function compareOne(
  subscription: BillingSubscription,
  holders: ComparedTenant[],
  former: ComparedTenant | undefined,
): ReconciliationFinding[] {
  const { subscriptionId, tier: billingTier } = subscription;
  if (holders.length === 0) {
    const detail = former
      ? `billing lists subscription ${subscriptionId}; its tenant ${former.tenantId} is ${former.status}`
      : `billing lists subscription ${subscriptionId}; no tenant was ever created for it`;
    return [
      finding('missing', {
        subscriptionId,
        billingTier,
        ...(former ? holderFields(former) : {}),
        detail,
      }),
    ];
  }
  return holders.flatMap((tenant) => {
    const found: ReconciliationFinding[] = [];
    if (subscription.tenantId !== undefined && subscription.tenantId !== tenant.tenantId) {
      found.push(
        finding('tenant_mismatch', {
          subscriptionId,
          billingTier,
          billingTenantId: subscription.tenantId,
          ...holderFields(tenant),
          detail: `billing names tenant ${subscription.tenantId} for subscription ${subscriptionId}, held by ${tenant.tenantId}`,
        }),
      );
    }
    if (tenant.tier !== billingTier) {
      found.push(
        finding('tier_mismatch', {
          subscriptionId,
          billingTier,
          ...holderFields(tenant),
          detail: `tenant ${tenant.tenantId} is ${tenant.tier}, billing says ${billingTier}`,
        }),
      );
    }
    return found;
  });
}

/**
 * Billing's active subscriptions against the tenants (pure): tenants holding a subscription billing does not
 * list, listed subscriptions no tenant holds, and tier (or tenant) disagreements, in a stable order.
 */
export function reconcile(
  subscriptions: readonly BillingSubscription[],
  tenants: readonly ComparedTenant[],
): ReconciliationFinding[] {
  const holders = new Map<string, ComparedTenant[]>();
  const former = new Map<string, ComparedTenant>();
  for (const tenant of tenants) {
    if (SUBSCRIPTION_HOLDING_STATUSES.has(tenant.status)) {
      holders.set(tenant.subscriptionId, [...(holders.get(tenant.subscriptionId) ?? []), tenant]);
    } else {
      const known = former.get(tenant.subscriptionId);
      if (!known || known.updatedAt < tenant.updatedAt) former.set(tenant.subscriptionId, tenant);
    }
  }
  const listed = new Set(subscriptions.map((s) => s.subscriptionId));
  const findings = subscriptions.flatMap((subscription) =>
    compareOne(
      subscription,
      holders.get(subscription.subscriptionId) ?? [],
      former.get(subscription.subscriptionId),
    ),
  );
  for (const [subscriptionId, tenantsHolding] of holders) {
    if (listed.has(subscriptionId)) continue;
    for (const tenant of tenantsHolding) {
      findings.push(
        finding('orphan', {
          subscriptionId,
          ...holderFields(tenant),
          detail: `tenant ${tenant.tenantId} (${tenant.status}) holds subscription ${subscriptionId}, which billing does not list`,
        }),
      );
    }
  }
  return findings.sort(
    (a, b) =>
      KIND_ORDER.get(a.kind)! - KIND_ORDER.get(b.kind)! ||
      a.subscriptionId.localeCompare(b.subscriptionId) ||
      (a.tenantId ?? '').localeCompare(b.tenantId ?? ''),
  );
}

export function countFindings(findings: readonly ReconciliationFinding[]): FindingCounts {
  const counts = Object.fromEntries(RECONCILIATION_FINDING_KINDS.map((kind) => [kind, 0])) as FindingCounts;
  for (const { kind } of findings) counts[kind] += 1;
  return counts;
}

/**
 * The action an operator may confirm for a finding: a cancellation of an orphan that can be cancelled, billing's
 * tier for an active tenant, otherwise a recorded follow-up (the fix lies with billing or a fresh
 * `subscription.created`, which this system cannot make up).
 */
export function proposedAction(finding: ReconciliationFinding): ReconciliationActionKind {
  if (
    finding.kind === 'orphan' &&
    (finding.tenantStatus === 'active' || finding.tenantStatus === 'suspended')
  ) {
    return 'cancel-tenant';
  }
  if (finding.kind === 'tier_mismatch' && finding.tenantStatus === 'active') return 'change-tier';
  return 'follow-up';
}

/** Stable per reconciliation and finding, so a proposal is never recorded twice. */
export function actionIdOf(reconciliationId: string, finding: ReconciliationFinding): string {
  return deterministicId(
    'reconciliation-action',
    reconciliationId,
    finding.kind,
    finding.subscriptionId,
    finding.tenantId ?? '',
  );
}
