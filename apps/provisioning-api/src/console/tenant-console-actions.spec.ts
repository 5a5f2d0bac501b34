import type { FailureReason } from '@app/contracts';
import { foldTenant, initialState } from '@app/lifecycle';
import { foldTenantSummary, TenantStreamBuilder, type TenantSummary } from '@app/tenancy';
import { consoleTenantFrame, tenantConsoleActions } from './tenant-console-actions';

const TENANT = 'rollback-shop-a1b2c3';
const BROKEN: FailureReason = {
  code: 'WEBSITE.REFUSED',
  message: 'website API answered 500',
  retryable: false,
};
const AT = '2025-06-01T10:00:00.000Z';

/** Run 1: namespace provisioned, website failed for good, the rollback started (its compensation running). */
function rollingBack(): TenantStreamBuilder {
  return new TenantStreamBuilder(TENANT, AT)
    .requested()
    .ran('namespace', 'ProvisionNamespace')
    .started('website', 'CreateWebsiteRecord')
    .failed('website', BROKEN)
    .lifecycle('RollbackStarted', { failedStep: 'website', reason: BROKEN })
    .started('compensate:namespace', 'RemoveNamespace');
}

function failedAndCompensated(): TenantStreamBuilder {
  return rollingBack()
    .succeeded('compensate:namespace')
    .lifecycle('TenantProvisioningFailed', {
      failedStep: 'website',
      reason: BROKEN,
      compensatedSteps: ['namespace'],
    });
}

const stateOf = (builder: TenantStreamBuilder) =>
  foldTenant(builder.events.map((event) => ({ ...event, metadata: event.metadata ?? {} })));

function summaryOf(builder: TenantStreamBuilder): TenantSummary {
  const summary = foldTenantSummary(
    builder.events.map((event, revision) => ({
      type: event.type,
      data: event.data,
      occurredAt: event.metadata?.occurredAt ?? AT,
      revision,
    })),
  );
  if (!summary) throw new Error('no summary');
  return summary;
}

describe('tenantConsoleActions', () => {
  it('offers re-provisioning, as run 2, once the failed run is rolled back completely', () => {
    expect(tenantConsoleActions(stateOf(failedAndCompensated()))).toEqual({
      available: ['reprovision'],
      next_run: 2,
      reprovision_blocked: null,
    });
  });

  it('says why not while the rollback runs, and which parked compensation to retry first', () => {
    const running = tenantConsoleActions(stateOf(rollingBack()));
    expect(running.available).toEqual([]);
    expect(running.reprovision_blocked).toBe(
      `tenant ${TENANT} is rolling back run 1: it can be provisioned again once the rollback completed`,
    );

    const parked = rollingBack()
      .failed('compensate:namespace', BROKEN)
      .parked('compensate:namespace', BROKEN, true)
      .lifecycle('TenantProvisioningFailed', { failedStep: 'website', reason: BROKEN, compensatedSteps: [] });
    const state = stateOf(parked);
    expect(state.status).toBe('failed');
    const actions = tenantConsoleActions(state);
    expect(actions.available).toEqual([]);
    expect(actions.reprovision_blocked).toMatch(
      /the rollback of run 1 is not complete \(compensate:namespace parked\): retry the parked compensation first \(compensate:namespace\)$/,
    );
  });

  it('offers no re-provisioning, and explains none, for a tenant that never failed or is in its next run', () => {
    const active = new TenantStreamBuilder('active-shop-a1b2c3', AT).activeTenant();
    expect(tenantConsoleActions(stateOf(active))).toEqual({
      available: ['cancel'],
      next_run: 2,
      reprovision_blocked: null,
    });
    const again = failedAndCompensated().lifecycle('ReprovisioningRequested', {
      run: 2,
      reason: 'website API fixed',
      requestedBy: 'operator:olivia',
      requestedAt: AT,
    });
    expect(tenantConsoleActions(stateOf(again))).toEqual({
      available: [],
      next_run: 3,
      reprovision_blocked: null,
    });
    expect(tenantConsoleActions(initialState()).available).toEqual([]);
  });

  it('offers cancel and purge exactly when the operator use cases would admit them', () => {
    const active = () => new TenantStreamBuilder('grace-shop-a1b2c3', AT).activeTenant();
    const available = (builder: TenantStreamBuilder) => tenantConsoleActions(stateOf(builder)).available;
    // A suspension under way or done, a resumption under way: still a tenant the lifecycle lets be cancelled.
    const suspending = active().lifecycle('SuspensionRequested', {
      reason: 'unpaid',
      requestedBy: 'billing',
    });
    expect(available(suspending)).toEqual(['cancel']);
    const suspended = suspending
      .started('workloads-1:suspend', 'SuspendWorkloads')
      .succeeded('workloads-1:suspend');
    expect(stateOf(suspended).status).toBe('suspended');
    expect(available(suspended)).toEqual(['cancel']);
    expect(available(suspended.lifecycle('ResumptionRequested', { requestedBy: 'billing' }))).toEqual([
      'cancel',
    ]);
    // In its grace period: purge, once; not a second time while the first request waits.
    const cancelled = active().lifecycle('CancellationRequested', {
      subscriptionId: 'sub_grace',
      reason: 'contract ended',
      requestedAt: AT,
      deletionDate: '2025-07-01T10:00:00.000Z',
      requestedBy: 'billing',
    });
    expect(stateOf(cancelled).status).toBe('deprovisioning');
    expect(available(cancelled)).toEqual(['purge']);
    const purgeRequested = cancelled.lifecycle('OperatorPurgeRequested', {
      reason: 'erasure request',
      operator: 'olivia',
      requestedAt: AT,
    });
    expect(available(purgeRequested)).toEqual([]);
  });
});

describe('consoleTenantFrame', () => {
  it('sends the tenant page its view with the actions decided on the same stream', () => {
    const failed = failedAndCompensated();
    const frame = consoleTenantFrame(summaryOf(failed), stateOf(failed), 'https://grafana.example.test');
    expect(frame.tenant).toMatchObject({ tenant_id: TENANT, state: 'failed', run: 1, failed_runs: [] });
    expect(frame.tenant.failure_reason).toMatchObject({ step: 'website', code: 'WEBSITE.REFUSED' });
    expect(frame.actions.available).toEqual(['reprovision']);

    const again = failed.lifecycle('ReprovisioningRequested', {
      run: 2,
      reason: 'website API fixed',
      requestedBy: 'operator:olivia',
      requestedAt: AT,
    });
    const next = consoleTenantFrame(summaryOf(again), stateOf(again), 'https://grafana.example.test');
    expect(next.tenant).toMatchObject({ state: 'requested', run: 2, failure_reason: null });
    expect(next.tenant.failed_runs).toEqual([
      expect.objectContaining({
        run: 1,
        failure_reason: expect.objectContaining({ step: 'website', code: 'WEBSITE.REFUSED' }),
        reprovisioned_by: 'operator:olivia',
        reason: 'website API fixed',
      }),
    ]);
    expect(next.actions.available).toEqual([]);
  });
});
