import type { ReconciliationEventData, ReconciliationFinding } from '@app/contracts';
import { foldReconciliation, type ReconciliationView } from '@app/tenancy';
import { consolePage } from './assets/page';
import { CONSOLE_CSS } from './assets/styles';
import {
  acceptPlan,
  proposalDecisions,
  reconciliationConsolePage,
  reconciliationConsoleRun,
} from './reconciliation-console-views';

const RUN = '0b7f8a52-3c1d-4e5f-8a9b-0c1d2e3f4a5b';
const AT = '2025-06-01T10:00:00.000Z';
const DECIDED = '2025-06-01T11:00:00.000Z';

const ORPHAN: ReconciliationFinding = {
  kind: 'orphan',
  subscriptionId: 'sub_gone',
  tenantId: 'gone-shop-a00001',
  tenantStatus: 'active',
  tenantTier: 'premium',
  billingTier: null,
  billingTenantId: null,
  detail: 'tenant gone-shop-a00001 holds sub_gone, which billing does not list',
};
const MISSING: ReconciliationFinding = {
  kind: 'missing',
  subscriptionId: 'sub_new',
  tenantId: null,
  tenantStatus: null,
  tenantTier: null,
  billingTier: 'standard',
  billingTenantId: null,
  detail: 'billing lists sub_new, which no live tenant holds',
};
const TIER: ReconciliationFinding = {
  kind: 'tier_mismatch',
  subscriptionId: 'sub_tier',
  tenantId: 'tier-shop-a00002',
  tenantStatus: 'active',
  tenantTier: 'standard',
  billingTier: 'business',
  billingTenantId: null,
  detail: 'tenant tier-shop-a00002 is standard, billing says business',
};

type Payload = {
  [K in keyof ReconciliationEventData]: { type: K; data: ReconciliationEventData[K] };
}[keyof ReconciliationEventData];

function run(id: string, recordedAt: string, source: string, ...after: Payload[]): ReconciliationView {
  const recorded: Payload = {
    type: 'ReconciliationRecorded',
    data: {
      reconciliationId: id,
      source,
      subscriptions: 12,
      tenantsCompared: 11,
      operator: 'olivia',
      recordedAt,
    },
  };
  const view = foldReconciliation([recorded, ...after].map((event, revision) => ({ ...event, revision })));
  if (!view) throw new Error('no reconciliation');
  return view;
}

const propose = (
  actionId: string,
  action: 'cancel-tenant' | 'change-tier' | 'follow-up',
  finding: ReconciliationFinding,
): Payload => ({
  type: 'ReconciliationActionProposed',
  data: { actionId, action, finding },
});

/** An orphan (cancel proposed), a missing tenant (dismissed by carol), a tier mismatch (accepted by carol). */
function decided(): ReconciliationView {
  return run(
    RUN,
    AT,
    'https://billing.internal/exports/active.json',
    propose('a-orphan', 'cancel-tenant', ORPHAN),
    propose('a-missing', 'follow-up', MISSING),
    propose('a-tier', 'change-tier', TIER),
    {
      type: 'ReconciliationActionDismissed',
      data: {
        actionId: 'a-missing',
        operator: 'carol',
        reason: 'created by hand in billing',
        decidedAt: DECIDED,
      },
    },
    {
      type: 'ReconciliationActionAccepted',
      data: {
        actionId: 'a-tier',
        operator: 'carol',
        reason: 'upgrade paid',
        decidedAt: DECIDED,
        tenantEvent: { tenantId: 'tier-shop-a00002', type: 'TierChangeRequested', eventId: 'e-1' },
      },
    },
  );
}

describe('reconciliation console views', () => {
  it('lays out a run: what it compared, what it found, and what is still open', () => {
    const view = reconciliationConsoleRun(decided());
    expect(view).toMatchObject({
      reconciliation_id: RUN,
      source_label: 'https://billing.internal/exports/active.json',
      operator: 'olivia',
      recorded_at: AT,
      counts: { orphan: 1, missing: 1, tier_mismatch: 1, tenant_mismatch: 0 },
      open: 1,
      badge: { level: 'warning', label: '1 open' },
      summary:
        '12 subscription(s) compared with 11 tenant(s): 1 orphan tenant(s), 1 missing tenant(s), 1 tier mismatch(es).',
    });
    expect(
      view.proposals.map((p) => [p.action_id, p.finding.label, p.state, p.badge.label, p.decisions]),
    ).toEqual([
      ['a-orphan', 'Orphan tenant', 'open', 'Open', ['accept', 'dismiss']],
      ['a-missing', 'Missing tenant', 'dismissed', 'Dismissed', []],
      ['a-tier', 'Tier mismatch', 'accepted', 'Accepted', []],
    ]);
  });

  it('says what accepting does, with the plan an operator sees before confirming', () => {
    const [orphan, missing, tier] = reconciliationConsoleRun(decided()).proposals;
    expect(orphan.action_label).toBe('Cancel gone-shop-a00001: grace period, final backup, then deletion');
    expect(orphan.plan).toEqual({ tenant_id: 'gone-shop-a00001', query: 'purge=true' });
    expect(missing.action_label).toMatch(/^Record the decision only/);
    expect(missing.plan).toBeNull();
    expect(tier.action_label).toBe('Change tier-shop-a00002 from standard to business');
    expect(tier.plan).toEqual({ tenant_id: 'tier-shop-a00002', query: 'tier=business' });
    // A finding whose tenant is unknown changes no tenant, whatever the action.
    const unknownTenant = decided().actions[0];
    expect(
      acceptPlan({ ...unknownTenant, finding: { ...unknownTenant.finding, tenantId: null } }),
    ).toBeNull();
  });

  it('keeps each decision with who made it, why, and the tenant event it appended', () => {
    const [, missing, tier] = reconciliationConsoleRun(decided()).proposals;
    expect(missing.decision).toEqual({
      operator: 'carol',
      reason: 'created by hand in billing',
      decided_at: DECIDED,
      tenant_event: null,
    });
    expect(tier.decision?.tenant_event).toEqual({
      tenant_id: 'tier-shop-a00002',
      type: 'TierChangeRequested',
      event_id: 'e-1',
    });
  });

  it('calls a run without findings in agreement, and one with every proposal decided all decided', () => {
    const quiet = reconciliationConsoleRun(run(RUN, AT, 'inline'));
    expect(quiet).toMatchObject({
      source_label: 'a list given with the request',
      open: 0,
      badge: { level: 'ok', label: 'In agreement' },
      summary: '12 subscription(s) compared with 11 tenant(s): billing and the tenants agree.',
      proposals: [],
    });
    const done = run(RUN, AT, 'inline', propose('a-orphan', 'cancel-tenant', ORPHAN), {
      type: 'ReconciliationActionDismissed',
      data: { actionId: 'a-orphan', operator: 'carol', reason: 'billing lags', decidedAt: DECIDED },
    });
    expect(reconciliationConsoleRun(done).badge).toEqual({ level: 'neutral', label: 'All decided' });
  });

  it('offers a decision only on an open proposal', () => {
    expect(proposalDecisions('open')).toEqual(['accept', 'dismiss']);
    expect(proposalDecisions('accepted')).toEqual([]);
    expect(proposalDecisions('dismissed')).toEqual([]);
  });

  it('shows the newest runs and counts what is open across all of them', () => {
    const older = run(
      '1b7f8a52-3c1d-4e5f-8a9b-0c1d2e3f4a5b',
      '2025-05-01T10:00:00.000Z',
      'inline',
      propose('b-missing', 'follow-up', MISSING),
    );
    const page = reconciliationConsolePage([decided(), older], 1);
    expect(page.items.map((item) => item.reconciliation_id)).toEqual([RUN]);
    expect(page.total_runs).toBe(2);
    expect(page.open_proposals).toBe(2);
    expect(reconciliationConsolePage([]).items).toEqual([]);
  });

  it('has its view, navigation link and styles in the page', () => {
    const page = consolePage('v1');
    expect(page).toContain('<a href="#/reconciliation" data-nav="reconciliation">Reconciliation</a>');
    expect(page).toContain(
      '<section id="reconciliation-view" class="view" hidden aria-labelledby="reconciliation-title">',
    );
    for (const id of ['rc-form', 'rc-source', 'rc-list', 'rc-error', 'rc-result', 'rc-summary', 'rc-runs']) {
      expect(page).toContain(`id="${id}"`);
    }
    // The tenant page's re-provisioning action and its earlier runs.
    for (const id of ['t-reprovision', 't-runs-section', 't-runs']) expect(page).toContain(`id="${id}"`);
    expect(CONSOLE_CSS).toContain('.rc-run td.decide button');
  });
});
