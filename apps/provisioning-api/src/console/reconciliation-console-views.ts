import type { ReconciliationActionKind, ReconciliationFindingKind } from '@app/contracts';
import {
  countFindings,
  type FindingCounts,
  type ReconciliationActionState,
  type ReconciliationActionView,
  type ReconciliationView,
} from '@app/tenancy';
import { findingView } from '../reconciliation/reconciliation.views';
import type { ConsoleBadge } from './rollout-console-views';

/**
 * The console's reconciliation page, computed on the server from the recorded reconciliations: the labels, the
 * colour levels, what accepting a proposal would do and which decisions are still open are decided here (and
 * unit-tested), so the page only renders text.
 */

/** An operator's decision on a proposal, posted to `POST /api/v1/reconciliations/:id/actions/:action/<decision>`. */
export type ProposalDecision = 'accept' | 'dismiss';

/** The newest runs the page shows; older ones stay in their streams (and `tenantctl reconcile`). */
export const RECONCILIATION_PAGE_RUNS = 20;

export interface ReconciliationConsoleProposal {
  reconciliation_id: string;
  action_id: string;
  kind: ReconciliationFindingKind;
  /** The finding as operators name it, with its level (an orphan costs money, a missing tenant a customer). */
  finding: ConsoleBadge;
  subscription_id: string;
  tenant_id: string | null;
  tenant_status: string | null;
  tenant_tier: string | null;
  billing_tier: string | null;
  billing_tenant_id: string | null;
  detail: string;
  action: ReconciliationActionKind;
  /** What accepting the proposal does, in a sentence. */
  action_label: string;
  /**
   * The what-if plan of accepting (`GET /api/v1/tenants/:tenant_id/plan?<query>`), shown before an operator
   * confirms; null when accepting changes no tenant.
   */
  plan: { tenant_id: string; query: string } | null;
  state: ReconciliationActionState;
  badge: ConsoleBadge;
  decision: {
    operator: string;
    reason: string;
    decided_at: string;
    tenant_event: { tenant_id: string; type: string; event_id: string } | null;
  } | null;
  /** The decisions an operator may take now (the use case refuses the others). */
  decisions: ProposalDecision[];
}

export interface ReconciliationConsoleRun {
  reconciliation_id: string;
  /** `inline` (a pasted list or a file) or the URL of billing's export, its query string removed. */
  source: string;
  source_label: string;
  operator: string;
  recorded_at: string;
  subscriptions: number;
  tenants_compared: number;
  counts: FindingCounts;
  open: number;
  badge: ConsoleBadge;
  /** What the run found, in a sentence. */
  summary: string;
  proposals: ReconciliationConsoleProposal[];
}

export interface ReconciliationConsolePage {
  items: ReconciliationConsoleRun[];
  /** Every recorded run, of which `items` are the newest. */
  total_runs: number;
  /** Open proposals across every run, shown or not. */
  open_proposals: number;
}

const FINDING: Record<ReconciliationFindingKind, ConsoleBadge & { plural: string }> = {
  orphan: { level: 'critical', label: 'Orphan tenant', plural: 'orphan tenant(s)' },
  missing: { level: 'warning', label: 'Missing tenant', plural: 'missing tenant(s)' },
  tier_mismatch: { level: 'warning', label: 'Tier mismatch', plural: 'tier mismatch(es)' },
  tenant_mismatch: { level: 'warning', label: 'Tenant mismatch', plural: 'tenant mismatch(es)' },
};

/** The decisions `DecideReconciliationAction` takes: an open proposal is accepted or dismissed, once. */
export function proposalDecisions(state: ReconciliationActionState): ProposalDecision[] {
  switch (state) {
    case 'open':
      return ['accept', 'dismiss'];
    case 'accepted':
    case 'dismissed':
      return [];
    default: {
      const unreachable: never = state;
      return unreachable;
    }
  }
}

/** What accepting carries out (`carryOut` in the tenancy library), as the dialog and the table say it. */
export function actionLabel(proposal: ReconciliationActionView): string {
  const { finding } = proposal;
  const tenant = finding.tenantId ?? 'the tenant';
  switch (proposal.action) {
    case 'cancel-tenant':
      return `Cancel ${tenant}: grace period, final backup, then deletion`;
    case 'change-tier':
      return `Change ${tenant} from ${finding.tenantTier ?? 'its tier'} to ${finding.billingTier ?? 'billing’s tier'}`;
    case 'follow-up':
      return 'Record the decision only: the fix is on billing’s side or a new subscription.created';
    default: {
      const unreachable: never = proposal.action;
      return unreachable;
    }
  }
}

/** The plan of what accepting would change: a cancellation's end (the purge), or billing's tier. */
export function acceptPlan(proposal: ReconciliationActionView): ReconciliationConsoleProposal['plan'] {
  const { tenantId, billingTier } = proposal.finding;
  if (!tenantId) return null;
  switch (proposal.action) {
    case 'cancel-tenant':
      return { tenant_id: tenantId, query: 'purge=true' };
    case 'change-tier':
      return billingTier ? { tenant_id: tenantId, query: `tier=${encodeURIComponent(billingTier)}` } : null;
    case 'follow-up':
      return null;
    default: {
      const unreachable: never = proposal.action;
      return unreachable;
    }
  }
}

function stateBadge(proposal: ReconciliationActionView): ConsoleBadge {
  switch (proposal.state) {
    case 'open':
      return { level: 'progress', label: 'Open' };
    case 'accepted':
      return { level: 'ok', label: 'Accepted' };
    case 'dismissed':
      return { level: 'neutral', label: 'Dismissed' };
    default: {
      const unreachable: never = proposal.state;
      return unreachable;
    }
  }
}

export function reconciliationConsoleProposal(
  proposal: ReconciliationActionView,
): ReconciliationConsoleProposal {
  const { finding, decision } = proposal;
  const { plural: _plural, ...findingBadge } = FINDING[finding.kind];
  return {
    reconciliation_id: proposal.reconciliationId,
    action_id: proposal.actionId,
    ...findingView(finding),
    finding: findingBadge,
    action: proposal.action,
    action_label: actionLabel(proposal),
    plan: acceptPlan(proposal),
    state: proposal.state,
    badge: stateBadge(proposal),
    decision: decision && {
      operator: decision.operator,
      reason: decision.reason,
      decided_at: decision.decidedAt,
      tenant_event: decision.tenantEvent && {
        tenant_id: decision.tenantEvent.tenantId,
        type: decision.tenantEvent.type,
        event_id: decision.tenantEvent.eventId,
      },
    },
    decisions: proposalDecisions(proposal.state),
  };
}

function runSummary(view: ReconciliationView, counts: FindingCounts): string {
  const compared = `${view.subscriptions} subscription(s) compared with ${view.tenantsCompared} tenant(s)`;
  const found = (Object.keys(FINDING) as ReconciliationFindingKind[])
    .filter((kind) => counts[kind] > 0)
    .map((kind) => `${counts[kind]} ${FINDING[kind].plural}`);
  return `${compared}: ${found.length > 0 ? found.join(', ') : 'billing and the tenants agree'}.`;
}

function runBadge(open: number, findings: number): ConsoleBadge {
  if (findings === 0) return { level: 'ok', label: 'In agreement' };
  if (open === 0) return { level: 'neutral', label: 'All decided' };
  return { level: 'warning', label: `${open} open` };
}

export function reconciliationConsoleRun(view: ReconciliationView): ReconciliationConsoleRun {
  const counts = countFindings(view.actions.map((action) => action.finding));
  const open = view.actions.filter((action) => action.state === 'open').length;
  return {
    reconciliation_id: view.reconciliationId,
    source: view.source,
    source_label: view.source === 'inline' ? 'a list given with the request' : view.source,
    operator: view.operator,
    recorded_at: view.recordedAt,
    subscriptions: view.subscriptions,
    tenants_compared: view.tenantsCompared,
    counts,
    open,
    badge: runBadge(open, view.actions.length),
    summary: runSummary(view, counts),
    proposals: view.actions.map(reconciliationConsoleProposal),
  };
}

/** The newest runs (the query sorts them), and what is open across all of them. */
export function reconciliationConsolePage(
  views: readonly ReconciliationView[],
  limit = RECONCILIATION_PAGE_RUNS,
): ReconciliationConsolePage {
  return {
    items: views.slice(0, limit).map(reconciliationConsoleRun),
    total_runs: views.length,
    open_proposals: views.reduce(
      (sum, view) => sum + view.actions.filter((action) => action.state === 'open').length,
      0,
    ),
  };
}
