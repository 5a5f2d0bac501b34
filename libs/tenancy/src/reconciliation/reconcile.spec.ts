import type { Tier } from '@app/contracts';
import type { TenantStatus } from '../read-model/tenant-summary.projection';
import { countFindings, proposedAction, reconcile, type ComparedTenant } from './reconcile';
import { foldReconciliation } from './reconciliation-stream';
import { parseSubscriptionCsv, parseSubscriptionList, SubscriptionListError } from './subscription-list';

const tenant = (
  tenantId: string,
  subscriptionId: string,
  tier: Tier,
  status: TenantStatus,
  updatedAt = '2025-01-01',
) => ({ tenantId, subscriptionId, tier, status, updatedAt }) satisfies ComparedTenant;

function listError(run: () => unknown): SubscriptionListError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(SubscriptionListError);
    return error as SubscriptionListError;
  }
  throw new Error('expected the list to be refused');
}

describe('reconcile', () => {
  const tenants = [
    tenant('alpha-aaaaaa', 'sub_a', 'premium', 'active'),
    tenant('beta-bbbbbb', 'sub_b', 'standard', 'active'),
    tenant('gamma-cccccc', 'sub_c', 'business', 'suspended'),
    tenant('delta-dddddd', 'sub_d', 'premium', 'failed', '2025-01-02'),
    tenant('delta-eeeeee', 'sub_d', 'premium', 'cancelled', '2025-01-01'),
    tenant('omega-ffffff', 'sub_f', 'standard', 'deprovisioning'),
    tenant('new-111111', 'sub_n', 'standard', 'provisioning'),
  ];

  it('finds orphans, missing subscriptions and tier and tenant mismatches, in a stable order', () => {
    const findings = reconcile(
      [
        { subscriptionId: 'sub_a', tier: 'premium' },
        { subscriptionId: 'sub_b', tier: 'business', tenantId: 'beta-bbbbbb' },
        { subscriptionId: 'sub_n', tier: 'standard', tenantId: 'other-222222' },
        { subscriptionId: 'sub_d', tier: 'premium' },
        { subscriptionId: 'sub_x', tier: 'standard' },
      ],
      tenants,
    );
    expect(findings.map((f) => [f.kind, f.subscriptionId, f.tenantId])).toEqual([
      ['orphan', 'sub_c', 'gamma-cccccc'],
      ['missing', 'sub_d', 'delta-dddddd'],
      ['missing', 'sub_x', null],
      ['tier_mismatch', 'sub_b', 'beta-bbbbbb'],
      ['tenant_mismatch', 'sub_n', 'new-111111'],
    ]);
    expect(findings[1]).toMatchObject({ tenantStatus: 'failed', billingTier: 'premium' });
    expect(findings[1].detail).toContain('delta-dddddd is failed');
    expect(findings[2].detail).toContain('no tenant was ever created');
    expect(findings[3]).toMatchObject({ tenantTier: 'standard', billingTier: 'business' });
    expect(findings[4]).toMatchObject({ billingTenantId: 'other-222222' });
    expect(countFindings(findings)).toEqual({ orphan: 1, missing: 2, tier_mismatch: 1, tenant_mismatch: 1 });
  });

  it('finds nothing when billing and the tenants agree; a tenant in its grace period is no orphan', () => {
    const agreeing = [
      { subscriptionId: 'sub_a', tier: 'premium' as const },
      { subscriptionId: 'sub_b', tier: 'standard' as const },
      { subscriptionId: 'sub_c', tier: 'business' as const },
      { subscriptionId: 'sub_n', tier: 'standard' as const, tenantId: 'new-111111' },
    ];
    expect(reconcile(agreeing, tenants)).toEqual([]);
  });

  it('proposes a cancellation only for a cancellable orphan and a tier change only for an active tenant', () => {
    const [orphan] = reconcile([], [tenant('alpha-aaaaaa', 'sub_a', 'premium', 'active')]);
    expect(proposedAction(orphan)).toBe('cancel-tenant');
    const [provisioning] = reconcile([], [tenant('alpha-aaaaaa', 'sub_a', 'premium', 'provisioning')]);
    expect(proposedAction(provisioning)).toBe('follow-up');
    const [tier] = reconcile(
      [{ subscriptionId: 'sub_a', tier: 'business' }],
      [tenant('alpha-aaaaaa', 'sub_a', 'premium', 'active')],
    );
    expect(proposedAction(tier)).toBe('change-tier');
    const [suspendedTier] = reconcile(
      [{ subscriptionId: 'sub_a', tier: 'business' }],
      [tenant('alpha-aaaaaa', 'sub_a', 'premium', 'suspended')],
    );
    expect(proposedAction(suspendedTier)).toBe('follow-up');
    const [missing] = reconcile([{ subscriptionId: 'sub_z', tier: 'business' }], []);
    expect(proposedAction(missing)).toBe('follow-up');
  });
});

describe('parseSubscriptionList', () => {
  it('accepts an array or { subscriptions }, with an optional tenant id', () => {
    const records = [{ subscription_id: 'sub_1', tier: 'premium', tenant_id: 'abc-corporation-7f3a9c' }];
    const expected = [{ subscriptionId: 'sub_1', tier: 'premium', tenantId: 'abc-corporation-7f3a9c' }];
    expect(parseSubscriptionList(records)).toEqual(expected);
    expect(parseSubscriptionList({ subscriptions: records })).toEqual(expected);
  });

  it('names every bad record and field at once', () => {
    const error = listError(() =>
      parseSubscriptionList([
        { subscription_id: 'sub_1', tier: 'premium' },
        { subscription_id: 'sub 2;DROP', tier: 'gold' },
        { subscription_id: 'sub_1', tier: 'standard' },
        { subscription_id: 'sub_4', tier: 'standard', tenant_id: 'Not_A_Tenant', status: 'active' },
        'sub_5',
      ]),
    );
    expect(error.violations.map((v) => v.field)).toEqual([
      'subscriptions[1].subscription_id',
      'subscriptions[1].tier',
      'subscriptions[2].subscription_id',
      'subscriptions[3].status',
      'subscriptions[3].tenant_id',
      'subscriptions[4]',
    ]);
    const messages = error.violations.flatMap((v) => v.messages);
    expect(messages[0]).toBe(
      'subscription #2: subscription_id must be 1-64 of letters, digits, _ and - (got "sub 2;DROP")',
    );
    expect(messages[1]).toContain('tier must be one of standard, premium, business (got "gold")');
    expect(messages[2]).toBe('subscription #3: subscription sub_1 is listed twice (also subscription #1)');
    expect(messages[3]).toContain('unknown field "status"');
  });

  it('refuses a body that is no list, and caps the violations it reports', () => {
    expect(listError(() => parseSubscriptionList({ items: [] })).violations[0].field).toBe('subscriptions');
    const many = Array.from({ length: 80 }, () => ({ subscription_id: '', tier: 'premium' }));
    const capped = listError(() => parseSubscriptionList(many)).violations;
    expect(capped).toHaveLength(51);
    expect(capped[50].messages).toEqual(['and 30 more violations']);
  });
});

describe('parseSubscriptionCsv', () => {
  it('reads a header and rows (quotes, CRLF, BOM, blank lines, empty optional cells)', () => {
    const csv =
      '\uFEFFtier,"subscription_id",tenant_id\r\npremium,sub_1,abc-corporation-7f3a9c\r\n\r\nstandard,"sub_2",\r\n';
    expect(parseSubscriptionCsv(csv)).toEqual([
      { subscriptionId: 'sub_1', tier: 'premium', tenantId: 'abc-corporation-7f3a9c' },
      { subscriptionId: 'sub_2', tier: 'standard' },
    ]);
  });

  it('names the line of each bad row and the header problems', () => {
    const rows = listError(() =>
      parseSubscriptionCsv('subscription_id,tier\nsub_1,premium\nsub_2\nsub_3,platinum\n'),
    );
    expect(rows.violations.flatMap((v) => v.messages)).toEqual([
      'line 3: 1 fields, expected 2',
      'line 4: tier must be one of standard, premium, business (got "platinum")',
    ]);
    const header = listError(() => parseSubscriptionCsv('id,tier,plan\n'));
    expect(header.violations.flatMap((v) => v.messages)).toEqual([
      'line 1: missing column subscription_id (expected subscription_id, tier, tenant_id)',
      'line 1: unknown column "id" (expected subscription_id, tier, tenant_id)',
      'line 1: unknown column "plan" (expected subscription_id, tier, tenant_id)',
    ]);
  });
});

describe('foldReconciliation', () => {
  it('keeps the first decision of each action', () => {
    const finding = reconcile([], [tenant('alpha-aaaaaa', 'sub_a', 'premium', 'active')])[0];
    const view = foldReconciliation([
      {
        type: 'ReconciliationRecorded',
        revision: 0,
        data: {
          reconciliationId: 'r1',
          source: 'inline',
          subscriptions: 0,
          tenantsCompared: 1,
          operator: 'alice',
          recordedAt: '2025-02-01T00:00:00.000Z',
        },
      },
      {
        type: 'ReconciliationActionProposed',
        revision: 1,
        data: { actionId: 'a1', action: 'cancel-tenant', finding },
      },
      {
        type: 'ReconciliationActionDismissed',
        revision: 2,
        data: {
          actionId: 'a1',
          operator: 'bob',
          reason: 'billing lags',
          decidedAt: '2025-02-01T01:00:00.000Z',
        },
      },
      {
        type: 'ReconciliationActionAccepted',
        revision: 3,
        data: {
          actionId: 'a1',
          operator: 'eve',
          reason: 'r',
          decidedAt: '2025-02-01T02:00:00.000Z',
          tenantEvent: null,
        },
      },
    ]);
    expect(view?.revision).toBe(3);
    expect(view?.actions).toEqual([
      expect.objectContaining({
        actionId: 'a1',
        state: 'dismissed',
        decision: {
          operator: 'bob',
          reason: 'billing lags',
          decidedAt: '2025-02-01T01:00:00.000Z',
          tenantEvent: null,
        },
      }),
    ]);
  });
});
