import type { LifecycleEventData } from '@app/contracts';
import { TenantStreamBuilder } from '../testing/tenant-stream-builder';
import { foldTenantSummary, type SummaryEvent, type TenantSummary } from './tenant-summary.projection';

const QUOTA = { code: 'DATABASE.QUOTA', message: 'quota exceeded', retryable: false };

function reprovisioning(run: number): LifecycleEventData['ReprovisioningRequested'] {
  return { run, reason: 'quota raised', requestedBy: 'operator:alice', requestedAt: '2025-01-15T12:00:00Z' };
}

/** Run 1: namespace done, databases failed for good, both rolled back. */
function failedRun(): TenantStreamBuilder {
  return new TenantStreamBuilder('abc-corporation-7f3a9c', '2025-01-15T10:00:00Z')
    .requested()
    .started('namespace', 'ProvisionNamespace')
    .started('databases', 'ProvisionDatabases')
    .succeeded('namespace')
    .failed('databases', QUOTA)
    .lifecycle('RollbackStarted', { failedStep: 'databases', reason: QUOTA })
    .ran('compensate:namespace', 'RemoveNamespace')
    .ran('compensate:databases', 'RemoveDatabases')
    .lifecycle('TenantProvisioningFailed', {
      failedStep: 'databases',
      reason: QUOTA,
      compensatedSteps: ['namespace', 'databases'],
    });
}

function summaryOf(builder: TenantStreamBuilder): TenantSummary {
  const events: SummaryEvent[] = builder.events.map((event, revision) => ({
    type: event.type,
    data: event.data,
    revision,
    occurredAt: builder.occurredAt(revision),
  }));
  const summary = foldTenantSummary(events);
  if (!summary) throw new Error('no summary');
  return summary;
}

describe('tenant summary of a re-provisioned tenant', () => {
  it('starts the new run from requested with no step, the failed run listed with its steps and failure', () => {
    const builder = failedRun();
    const failed = summaryOf(builder);
    expect(failed.status).toBe('failed');
    expect(failed.run).toBeUndefined();

    builder.lifecycle('ReprovisioningRequested', reprovisioning(2), 'operator:alice');
    const summary = summaryOf(builder);
    expect(summary).toMatchObject({
      status: 'requested',
      run: 2,
      steps: {},
      currentStep: null,
      failureReason: null,
      tenantId: 'abc-corporation-7f3a9c',
      domain: failed.domain,
    });
    expect(summary.failedRuns).toEqual([
      {
        run: 1,
        failureReason: { ...QUOTA, step: 'databases' },
        steps: failed.steps,
        reprovisionedAt: builder.occurredAt(builder.events.length - 1),
        reprovisionedBy: 'operator:alice',
        reason: 'quota raised',
      },
    ]);
    expect(Object.keys(summary.failedRuns?.[0]?.steps ?? {}).sort()).toEqual([
      'compensate:databases',
      'compensate:namespace',
      'databases',
      'namespace',
    ]);
  });

  it('follows the new run to active, the failure of the first run kept', () => {
    const builder = failedRun().lifecycle('ReprovisioningRequested', reprovisioning(2));
    builder.started('namespace', 'ProvisionNamespace');
    expect(summaryOf(builder).status).toBe('provisioning');
    builder.succeeded('namespace').lifecycle('TenantActivated', { activatedAt: '2025-01-15T13:00:00Z' });
    const summary = summaryOf(builder);
    expect(summary.status).toBe('active');
    expect(Object.keys(summary.steps)).toEqual(['namespace']);
    expect(summary.failedRuns?.map((run) => run.failureReason?.step)).toEqual(['databases']);
  });

  it('ignores a request that does not name the next run, or comes before the run failed', () => {
    const repeated = failedRun()
      .lifecycle('ReprovisioningRequested', reprovisioning(2))
      .lifecycle('ReprovisioningRequested', reprovisioning(2));
    expect(summaryOf(repeated).failedRuns).toHaveLength(1);
    expect(summaryOf(failedRun().lifecycle('ReprovisioningRequested', reprovisioning(3))).status).toBe(
      'failed',
    );
    const early = new TenantStreamBuilder('abc-corporation-7f3a9c', '2025-01-15T10:00:00Z')
      .requested()
      .started('namespace', 'ProvisionNamespace')
      .lifecycle('ReprovisioningRequested', reprovisioning(2));
    expect(summaryOf(early)).toMatchObject({ status: 'provisioning', currentStep: 'namespace' });
    expect(summaryOf(early).failedRuns).toBeUndefined();
  });
});
