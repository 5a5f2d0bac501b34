import { parseListQuery } from '../queries/query-params';
import { tenantDetail } from '../queries/tenant-views';
import { MemoryTenantReadModel } from '../read-model/memory.tenant-read-model';
import { foldTenantSummary } from '../read-model/tenant-summary.projection';
import { TenantStreamBuilder } from '../testing/tenant-stream-builder';

const AT = '2025-02-01T10:00:00.000Z';

const detected = (resource: string, kind: string, automatic: boolean) => ({
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

/** An active tenant whose check 1 found two drifts: the broker's repaired at once, the databases' open. */
function history(): TenantStreamBuilder {
  return new TenantStreamBuilder('abc-corporation-7f3a9c', '2025-01-15T10:00:00Z')
    .requested()
    .lifecycle('TenantActivated', { activatedAt: AT })
    .lifecycle('DriftCheckRequested', { check: 1, requestedBy: 'operator:alice', requestedAt: AT })
    .started('drift-1:verify-broker', 'VerifyBroker')
    .lifecycle('DriftDetected', detected('broker', 'broker-topology', true))
    .lifecycle('DriftDetected', detected('databases', 'database-grants', false))
    .lifecycle('DriftRepaired', {
      driftId: '1-broker',
      kind: 'broker-topology',
      verifiedBy: 'drift-1:reverify-1:broker',
      repairedAt: AT,
    })
    .lifecycle('DriftCheckCompleted', {
      check: 1,
      drifts: ['1-broker', '1-databases'],
      inconclusive: [],
      completedAt: AT,
    });
}

describe('drift in the tenant summary', () => {
  it('shows open and closed drifts and the last check, keeping drift work out of the steps', () => {
    const summary = foldTenantSummary(history().summaryEvents());
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
      history()
        .lifecycle('DriftRepairApproved', {
          driftId: '1-databases',
          reason: 'ticket',
          approvedBy: 'operator:bob',
          approvedAt: AT,
        })
        .summaryEvents(),
    );
    expect(summary?.drift?.open[0]).toMatchObject({ status: 'repairing', approvedBy: 'operator:bob' });
    const error = { code: 'DATABASE.GRANT_REFUSED', message: 'no', retryable: false };
    const failed = foldTenantSummary(
      history()
        .lifecycle('DriftRepairFailed', {
          driftId: '1-databases',
          kind: 'database-grants',
          error,
          failedAt: AT,
        })
        .summaryEvents(),
    );
    expect(failed?.drift?.open[0]).toMatchObject({ status: 'repair_failed', error });
  });

  it('lists tenants with open drift and counts open drifts by kind in the read model', async () => {
    const readModel = new MemoryTenantReadModel();
    const tenant = history();
    for (const event of tenant.recorded()) await readModel.apply(event);
    expect(await readModel.countOpenDrifts()).toEqual({ 'database-grants': 1 });
    const query = parseListQuery({ drift: 'open' });
    expect((await readModel.list(query)).items.map((item) => item.tenantId)).toEqual([tenant.tenantId]);
    expect(() => parseListQuery({ drift: 'closed' })).toThrow('invalid query');

    const quiet = new MemoryTenantReadModel();
    for (const event of tenant.recorded().slice(0, 2)) await quiet.apply(event);
    expect((await quiet.list(query)).total).toBe(0);
    expect(await quiet.countOpenDrifts()).toEqual({});
  });
});
