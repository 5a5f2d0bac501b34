import { tenantStream, type LifecycleEventData, type TenantProfile } from '@app/contracts';
import type { RecordedEvent } from '@app/event-store';
import { parseListQuery } from '../queries/query-params';
import { tenantDetail } from '../queries/tenant-views';
import { MemoryTenantReadModel } from '../read-model/memory.tenant-read-model';
import { foldTenantSummary, type SummaryEvent } from '../read-model/tenant-summary.projection';

const tenant: TenantProfile = {
  tenantId: 'abc-corporation-7f3a9c',
  companyName: 'ABC Corporation',
  adminEmail: 'admin@abc-corp.com',
  billingEmail: 'billing@abc-corp.com',
  tier: 'premium',
  region: 'us-east',
  domain: 'abc-corporation.collectverything.com',
  subscriptionId: 'sub_abc123',
  plan: { price: 124.99, currency: 'EUR', billingPeriod: 'monthly' },
  createdAt: '2025-01-15T10:00:00.000Z',
};
const AT = '2025-02-01T10:00:00.000Z';

function ev<T extends keyof LifecycleEventData>(type: T, data: LifecycleEventData[T]) {
  return { type, data };
}

const detected = (resource: string, kind: string, automatic: boolean) =>
  ev('DriftDetected', {
    driftId: `1-${resource}`,
    check: 1,
    resource,
    step: `drift-1:verify-${resource}`,
    code: 'X.VERIFICATION_FAILED',
    message: 'failed checks: x',
    checks: ['x'],
    kind,
    kinds: [kind],
    automatic,
    detectedAt: AT,
  });

const HISTORY = [
  ev('TenantRequested', { tenant, source: 'bus' }),
  ev('TenantActivated', { activatedAt: AT }),
  ev('DriftCheckRequested', { check: 1, requestedBy: 'operator:alice', requestedAt: AT }),
  ev('StepStarted', {
    step: 'drift-1:verify-broker',
    commandId: 'c-1',
    commandType: 'VerifyBroker',
    service: 'broker',
    attempt: 1,
    deadline: AT,
    params: {},
  }),
  detected('broker', 'broker-topology', true),
  detected('databases', 'database-grants', false),
  ev('DriftRepaired', {
    driftId: '1-broker',
    kind: 'broker-topology',
    verifiedBy: 'drift-1:reverify-1:broker',
    repairedAt: AT,
  }),
  ev('DriftCheckCompleted', {
    check: 1,
    drifts: ['1-broker', '1-databases'],
    inconclusive: [],
    completedAt: AT,
  }),
];

function summaryEvents(events: readonly { type: string; data: unknown }[]): SummaryEvent[] {
  return events.map((event, revision) => ({ ...event, revision, occurredAt: AT }));
}

function recorded(events: readonly { type: string; data: unknown }[]): RecordedEvent[] {
  return events.map((event, revision) => ({
    id: `00000000-0000-4000-8000-${String(revision).padStart(12, '0')}`,
    type: event.type,
    data: event.data,
    metadata: { schemaVersion: 1, occurredAt: AT },
    streamName: tenantStream(tenant.tenantId),
    revision,
    position: String(revision).padStart(12, '0'),
    recordedAt: new Date(AT),
  }));
}

describe('drift in the tenant summary', () => {
  it('shows open and closed drifts and the last check, keeping drift work out of the steps', () => {
    const summary = foldTenantSummary(summaryEvents(HISTORY));
    expect(summary?.status).toBe('active');
    expect(summary?.steps).toEqual({});
    expect(summary?.currentStep).toBeNull();
    const view = tenantDetail(summary!).drift;
    expect(view.open).toEqual([
      expect.objectContaining({
        drift_id: '1-databases',
        kind: 'database-grants',
        status: 'awaiting_approval',
        automatic: false,
      }),
    ]);
    expect(view.recent).toEqual([
      expect.objectContaining({ drift_id: '1-broker', status: 'repaired', repaired_at: AT }),
    ]);
    expect(view.last_check).toMatchObject({
      check: 1,
      status: 'completed',
      drifts: ['1-broker', '1-databases'],
    });
    expect([view.detected, view.repaired]).toEqual([2, 1]);
  });

  it('marks an approved drift repairing and a failed repair as such', () => {
    const summary = foldTenantSummary(
      summaryEvents([
        ...HISTORY,
        ev('DriftRepairApproved', {
          driftId: '1-databases',
          reason: 'ticket',
          approvedBy: 'operator:bob',
          approvedAt: AT,
        }),
      ]),
    );
    expect(summary?.drift?.open[0]).toMatchObject({ status: 'repairing', approvedBy: 'operator:bob' });
    const error = { code: 'DATABASE.GRANT_REFUSED', message: 'no', retryable: false };
    const failed = foldTenantSummary(
      summaryEvents([
        ...HISTORY,
        ev('DriftRepairFailed', { driftId: '1-databases', kind: 'database-grants', error, failedAt: AT }),
      ]),
    );
    expect(failed?.drift?.open[0]).toMatchObject({ status: 'repair_failed', error });
  });

  it('lists tenants with open drift and counts open drifts by kind in the read model', async () => {
    const readModel = new MemoryTenantReadModel();
    for (const event of recorded(HISTORY)) await readModel.apply(event);
    expect(await readModel.countOpenDrifts()).toEqual({ 'database-grants': 1 });
    const query = parseListQuery({ drift: 'open' });
    expect((await readModel.list(query)).items.map((item) => item.tenantId)).toEqual([tenant.tenantId]);
    expect(() => parseListQuery({ drift: 'closed' })).toThrow('invalid query');

    const quiet = new MemoryTenantReadModel();
    for (const event of recorded(HISTORY.slice(0, 2))) await quiet.apply(event);
    expect((await quiet.list(query)).total).toBe(0);
    expect(await quiet.countOpenDrifts()).toEqual({});
  });
});
