import type { Message } from './envelope';
import { ContractError } from './errors';
import type { Tier } from './tiers';

/**
 * Billing reconciliation: a comparison of billing's active subscriptions with the tenants, recorded (when an
 * operator asks for proposals) in a stream of its own, `reconciliationStream(id)`: what was compared, one
 * proposed action per finding, and each operator decision on it. Outside the `tenant` category on purpose: the
 * orchestrator never reads it; an accepted action reaches a tenant through the tenant's own lifecycle events.
 */

export const RECONCILIATION_STREAM_CATEGORY = 'reconciliation';
export const RECONCILIATION_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function reconciliationStream(reconciliationId: string): string {
  if (!RECONCILIATION_ID_PATTERN.test(reconciliationId)) {
    throw new ContractError('NAMING.INVALID_RECONCILIATION_ID', 'reconciliation id must be a lowercase UUID');
  }
  return `${RECONCILIATION_STREAM_CATEGORY}-${reconciliationId}`;
}

/**
 * `orphan`: a tenant holding a subscription billing does not list; `missing`: a listed subscription no live
 * tenant holds; `tier_mismatch`: both exist with different tiers; `tenant_mismatch`: billing names another
 * tenant for the subscription than the one holding it.
 */
export const RECONCILIATION_FINDING_KINDS = [
  'orphan',
  'missing',
  'tier_mismatch',
  'tenant_mismatch',
] as const;
export type ReconciliationFindingKind = (typeof RECONCILIATION_FINDING_KINDS)[number];

/**
 * What accepting a finding's action does: `cancel-tenant` an operator cancellation (grace period, backup,
 * deletion), `change-tier` a tier change to billing's tier; `follow-up` records the decision only (the fix is
 * on billing's side or a fresh `subscription.created`).
 */
export type ReconciliationActionKind = 'cancel-tenant' | 'change-tier' | 'follow-up';

export interface ReconciliationFinding {
  kind: ReconciliationFindingKind;
  subscriptionId: string;
  /** The tenant concerned: the holder, or for `missing` the latest tenant ever created for it (if any). */
  tenantId: string | null;
  tenantStatus: string | null;
  tenantTier: Tier | null;
  billingTier: Tier | null;
  /** For `tenant_mismatch`: the tenant billing names. */
  billingTenantId: string | null;
  detail: string;
}

export interface ReconciliationEventData {
  ReconciliationRecorded: {
    reconciliationId: string;
    /** `inline` (body or file) or the URL the list was fetched from (its query string removed). */
    source: string;
    subscriptions: number;
    tenantsCompared: number;
    operator: string;
    recordedAt: string;
    /**
     * The read model's checkpoint the comparison read, and a digest of the request (sha256 of its normalised
     * list, or of its source URL): a retry with the run's Idempotency-Key answers this report again, and the same
     * key with another request is refused. Absent from reconciliations recorded before they were kept.
     */
    readModelCheckpoint?: string | null;
    requestFingerprint?: string;
  };
  ReconciliationActionProposed: {
    actionId: string;
    action: ReconciliationActionKind;
    finding: ReconciliationFinding;
  };
  ReconciliationActionAccepted: {
    actionId: string;
    operator: string;
    reason: string;
    decidedAt: string;
    /** The tenant event the action appended (none for `follow-up`). */
    tenantEvent: { tenantId: string; type: string; eventId: string } | null;
    /** Set when the decision carried an Idempotency-Key: the id derived from it, by which a retry finds it. */
    requestId?: string;
  };
  ReconciliationActionDismissed: {
    actionId: string;
    operator: string;
    reason: string;
    decidedAt: string;
    /** As for `ReconciliationActionAccepted`. */
    requestId?: string;
  };
}
export type ReconciliationEventType = keyof ReconciliationEventData;
export type ReconciliationEvent<T extends ReconciliationEventType = ReconciliationEventType> =
  T extends ReconciliationEventType ? Message<T, ReconciliationEventData[T]> : never;
