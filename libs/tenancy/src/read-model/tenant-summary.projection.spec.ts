import { deterministicId, type TenantProfile } from '@app/contracts';
import { foldTenantSummary, type SummaryEvent } from './tenant-summary.projection';

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

let revision = 0;
function ev(type: string, data: unknown, occurredAt: string): SummaryEvent {
  return { type, data, occurredAt, revision: revision++ };
}
const started = (step: string, commandId: string, at: string, attempt = 1) =>
  ev(
    'StepStarted',
    {
      step,
      commandId,
      commandType: 'ProvisionDatabases',
      service: 'database',
      attempt,
      deadline: at,
      params: {},
    },
    at,
  );

beforeEach(() => {
  revision = 0;
});

describe('tenant summary projection', () => {
  it('starts with TenantRequested and ignores anything before it', () => {
    expect(
      foldTenantSummary([ev('TenantActivated', { activatedAt: 'x' }, '2025-01-15T10:00:00Z')]),
    ).toBeNull();
    const summary = foldTenantSummary([
      ev('TenantRequested', { tenant, source: 'webhook' }, '2025-01-15T10:00:01Z'),
    ]);
    expect(summary).toMatchObject({
      tenantId: tenant.tenantId,
      status: 'requested',
      tier: 'premium',
      domain: tenant.domain,
      createdAt: '2025-01-15T10:00:01Z',
      currentStep: null,
      revision: 1,
    });
  });

  it('tracks steps by name with start, finish, duration, attempt and error, and the current step', () => {
    const c1 = deterministicId('c1');
    const c2 = deterministicId('c2');
    const c3 = deterministicId('c3');
    const summary = foldTenantSummary([
      ev('TenantRequested', { tenant, source: 'webhook' }, '2025-01-15T10:00:00.000Z'),
      started('databases', c1, '2025-01-15T10:00:01.000Z'),
      started('namespace', c2, '2025-01-15T10:00:02.000Z'),
      ev(
        'DatabasesProvisioningFailed',
        {
          commandId: c1,
          step: 'databases',
          attempts: 3,
          error: { code: 'DATABASE.GRANT_REFUSED', message: 'no', retryable: true },
        },
        '2025-01-15T10:00:04.000Z',
      ),
      started('databases', c3, '2025-01-15T10:00:05.000Z', 2),
      // A late success of the first attempt counts, as in the orchestrator's fold: the databases exist.
      ev(
        'DatabasesProvisioned',
        { commandId: c1, step: 'databases', outputs: {} },
        '2025-01-15T10:00:06.000Z',
      ),
      ev(
        'NamespaceProvisioned',
        { commandId: c2, step: 'namespace', outputs: {} },
        '2025-01-15T10:00:07.500Z',
      ),
    ]);
    expect(summary?.status).toBe('provisioning');
    expect(summary?.steps['namespace']).toMatchObject({
      status: 'succeeded',
      durationMs: 5500,
      attempt: 1,
      error: null,
    });
    expect(summary?.steps['databases']).toMatchObject({
      status: 'succeeded',
      attempt: 2,
      commandId: c3,
      finishedAt: '2025-01-15T10:00:06.000Z',
      error: null,
    });
    expect(summary?.currentStep).toBe('databases');
    expect(summary?.revision).toBe(6);
    expect(summary?.updatedAt).toBe('2025-01-15T10:00:07.500Z');
  });

  it('records a failed step’s error, then rollback and failure with the reason', () => {
    const c1 = deterministicId('c1');
    const reason = { code: 'STORAGE.QUOTA', message: 'quota exceeded', retryable: false };
    const events = [
      ev('TenantRequested', { tenant, source: 'bus' }, '2025-01-15T10:00:00Z'),
      started('storage', c1, '2025-01-15T10:00:01Z'),
      ev(
        'StorageProvisioningFailed',
        { commandId: c1, step: 'storage', attempts: 5, error: reason },
        '2025-01-15T10:00:03Z',
      ),
      ev('RollbackStarted', { failedStep: 'storage', reason }, '2025-01-15T10:00:04Z'),
    ];
    const rolling = foldTenantSummary(events);
    expect(rolling?.status).toBe('rolling_back');
    expect(rolling?.steps['storage']).toMatchObject({ status: 'failed', error: reason });
    const failed = foldTenantSummary([
      ...events,
      ev(
        'TenantProvisioningFailed',
        { failedStep: 'storage', reason, compensatedSteps: [] },
        '2025-01-15T10:00:05Z',
      ),
    ]);
    expect(failed).toMatchObject({ status: 'failed', failureReason: { ...reason, step: 'storage' } });
  });

  it('ends a provisioning cancelled by its subscription as cancelled, without a failure reason', () => {
    const reason = {
      code: 'ORCHESTRATOR.CANCELLED_DURING_PROVISIONING',
      message: 'subscription sub_abc123 cancelled before activation: changed mind',
      retryable: false,
    };
    const events = [
      ev('TenantRequested', { tenant, source: 'bus' }, '2025-01-15T10:00:00Z'),
      started('databases', deterministicId('c1'), '2025-01-15T10:00:01Z'),
      ev(
        'CancellationRequested',
        {
          subscriptionId: 'sub_abc123',
          reason: 'changed mind',
          requestedAt: '2025-01-15T10:00:02Z',
          deletionDate: '2025-02-14T10:00:02Z',
          requestedBy: 'billing',
        },
        '2025-01-15T10:00:02Z',
      ),
      ev('RollbackStarted', { failedStep: 'cancellation', reason }, '2025-01-15T10:00:03Z'),
    ];
    expect(foldTenantSummary(events)?.status).toBe('rolling_back');
    const cancelled = foldTenantSummary([
      ...events,
      ev(
        'ProvisioningCancelled',
        {
          subscriptionId: 'sub_abc123',
          reason: 'changed mind',
          compensatedSteps: ['databases'],
          cancelledAt: '2025-01-15T10:00:09Z',
        },
        '2025-01-15T10:00:09Z',
      ),
    ]);
    expect(cancelled).toMatchObject({ status: 'cancelled', failureReason: null, activatedAt: null });
  });

  it('keeps the status of a tenant cancelled before activation until its rollback ends, as the orchestrator does', () => {
    const c1 = deterministicId('c1');
    const reason = { code: 'STORAGE.QUOTA', message: 'quota exceeded', retryable: false };
    const cancellation = ev(
      'CancellationRequested',
      {
        subscriptionId: 'sub_abc123',
        reason: 'changed mind',
        requestedAt: '2025-01-15T10:00:09Z',
        deletionDate: '2025-02-14T10:00:09Z',
        requestedBy: 'billing',
      },
      '2025-01-15T10:00:09Z',
    );
    const provisioning = [
      ev('TenantRequested', { tenant, source: 'bus' }, '2025-01-15T10:00:00Z'),
      started('storage', c1, '2025-01-15T10:00:01Z'),
    ];
    expect(foldTenantSummary([...provisioning, cancellation])?.status).toBe('provisioning');
    const failed = [
      ...provisioning,
      ev(
        'StorageProvisioningFailed',
        { commandId: c1, step: 'storage', attempts: 5, error: reason },
        '2025-01-15T10:00:03Z',
      ),
      ev('RollbackStarted', { failedStep: 'storage', reason }, '2025-01-15T10:00:04Z'),
      ev(
        'TenantProvisioningFailed',
        { failedStep: 'storage', reason, compensatedSteps: [] },
        '2025-01-15T10:00:05Z',
      ),
    ];
    // Billing cancels the failed tenant: failed until the orchestrator ends it, then cancelled.
    expect(foldTenantSummary([...failed, cancellation])?.status).toBe('failed');
    const ended = ev(
      'ProvisioningCancelled',
      { subscriptionId: 'sub_abc123', reason: 'changed mind', compensatedSteps: [], cancelledAt: 'x' },
      '2025-01-15T10:00:10Z',
    );
    expect(foldTenantSummary([...failed, cancellation, ended])?.status).toBe('cancelled');
  });

  it('walks activation, cancellation, reactivation, cancellation, purge', () => {
    const base = [
      ev('TenantRequested', { tenant, source: 'webhook' }, '2025-01-15T10:00:00Z'),
      ev('TenantActivated', { activatedAt: '2025-01-15T10:05:00Z' }, '2025-01-15T10:05:00Z'),
    ];
    expect(foldTenantSummary(base)).toMatchObject({ status: 'active', activatedAt: '2025-01-15T10:05:00Z' });
    const cancel = (sub: string) =>
      ev(
        'CancellationRequested',
        {
          subscriptionId: sub,
          reason: 'downgrade',
          requestedAt: 'r',
          deletionDate: 'd',
          requestedBy: 'billing',
        },
        '2025-06-15T10:00:00Z',
      );
    const withCancel = [...base, cancel('sub_abc123')];
    expect(foldTenantSummary(withCancel)).toMatchObject({
      status: 'deprovisioning',
      deprovisioning: { deletionDate: 'd', reason: 'downgrade', purgeStartedAt: null },
    });
    const reactivated = [
      ...withCancel,
      ev(
        'TenantReactivated',
        { subscriptionId: 'sub_new', reactivatedAt: 'x', requestedBy: 'billing' },
        '2025-06-20T00:00:00Z',
      ),
    ];
    expect(foldTenantSummary(reactivated)).toMatchObject({
      status: 'active',
      subscriptionId: 'sub_new',
      deprovisioning: null,
    });
    const purged = [
      ...reactivated,
      cancel('sub_new'),
      ev('PurgeStarted', { backupId: 'b', startedAt: '2025-07-20T00:00:00Z' }, '2025-07-20T00:00:00Z'),
    ];
    expect(foldTenantSummary(purged)?.deprovisioning?.purgeStartedAt).toBe('2025-07-20T00:00:00Z');
    expect(
      foldTenantSummary([...purged, ev('TenantPurged', { purgedAt: 'p' }, '2025-07-20T01:00:00Z')]),
    ).toMatchObject({
      status: 'purged',
      purgedAt: 'p',
    });
  });

  it('suspends and resumes only an active tenant, applies tier changes, skips unknown event types', () => {
    const summary = foldTenantSummary([
      ev('TenantRequested', { tenant, source: 'webhook' }, '2025-01-15T10:00:00Z'),
      ev('SuspensionRequested', { reason: 'unpaid', requestedBy: 'billing' }, '2025-01-15T10:00:01Z'),
    ]);
    expect(summary?.status).toBe('requested');
    revision = 0;
    const events = [
      ev('TenantRequested', { tenant, source: 'webhook' }, '2025-01-15T10:00:00Z'),
      ev('TenantActivated', { activatedAt: 'a' }, '2025-01-15T10:00:01Z'),
      ev('SuspensionRequested', { reason: 'unpaid', requestedBy: 'billing' }, '2025-01-15T10:00:02Z'),
      ev('TierChanged', { fromTier: 'premium', toTier: 'business' }, '2025-01-15T10:00:03Z'),
      ev('SomethingFromTheFuture', {}, '2025-01-15T10:00:04Z'),
    ];
    // Asked, not applied: the workloads still run until the k8s service reports them down.
    expect(foldTenantSummary(events)).toMatchObject({ status: 'suspending', tier: 'business', revision: 4 });
  });

  const workloadsStep = (key: string, commandId: string, at: string) =>
    ev(
      'StepStarted',
      {
        step: key,
        commandId,
        commandType: key.endsWith('suspend') ? 'SuspendWorkloads' : 'ResumeWorkloads',
        service: 'k8s',
        attempt: 1,
        deadline: at,
        params: {},
      },
      at,
    );
  const workloadsDone = (key: string, commandId: string, at: string) =>
    ev(
      key.endsWith('suspend') ? 'WorkloadsSuspended' : 'WorkloadsResumed',
      { step: key, commandId, outputs: {} },
      at,
    );
  const active = () => [
    ev('TenantRequested', { tenant, source: 'webhook' }, '2025-01-15T10:00:00Z'),
    ev('TenantActivated', { activatedAt: 'a' }, '2025-01-15T10:00:01Z'),
  ];
  const suspension = () => ev('SuspensionRequested', { reason: 'unpaid', requestedBy: 'billing' }, 't');
  const resumption = () => ev('ResumptionRequested', { requestedBy: 'billing' }, 't');

  it('reports suspending until the workloads are down, resuming until they are up', () => {
    const suspending = [...active(), suspension(), workloadsStep('workloads-1:suspend', 'c1', 't')];
    expect(foldTenantSummary(suspending)?.status).toBe('suspending');
    const suspended = [...suspending, workloadsDone('workloads-1:suspend', 'c1', 't')];
    expect(foldTenantSummary(suspended)?.status).toBe('suspended');
    const resuming = [...suspended, resumption(), workloadsStep('workloads-2:resume', 'c2', 't')];
    expect(foldTenantSummary(resuming)?.status).toBe('resuming');
    expect(foldTenantSummary([...resuming, workloadsDone('workloads-2:resume', 'c2', 't')])?.status).toBe(
      'active',
    );
    // A suspension that failed for good leaves the workloads running.
    const parked = ev(
      'StepParked',
      {
        step: 'workloads-1:suspend',
        commandId: 'c1',
        reason: { code: 'K8S', message: 'm', retryable: true },
      },
      't',
    );
    expect(foldTenantSummary([...suspending, parked])?.status).toBe('active');
  });

  it('counts a late success of an attempt that timed out: the workloads are down', () => {
    const retried = [
      ...active(),
      suspension(),
      workloadsStep('workloads-1:suspend', 'c1', 't'),
      ev('StepTimedOut', { step: 'workloads-1:suspend', commandId: 'c1', deadline: 't' }, 't'),
      workloadsStep('workloads-1:suspend', 'c2', 't'),
    ];
    expect(foldTenantSummary(retried)?.status).toBe('suspending');
    const done = [...retried, workloadsDone('workloads-1:suspend', 'c1', 't')];
    expect(foldTenantSummary(done)?.status).toBe('suspended');
    // The retry's own failure afterwards changes nothing.
    const failure = ev(
      'WorkloadsSuspensionFailed',
      {
        step: 'workloads-1:suspend',
        commandId: 'c2',
        error: { code: 'K8S', message: 'm', retryable: true },
        attempts: 1,
      },
      't',
    );
    expect(foldTenantSummary([...done, failure])?.steps['workloads-1:suspend']?.status).toBe('succeeded');
  });

  it('reports a parked suspension retried by an operator as suspending again, until it is applied', () => {
    const reason = { code: 'K8S', message: 'm', retryable: false };
    const parked = [
      ...active(),
      suspension(),
      workloadsStep('workloads-1:suspend', 'c1', 't'),
      ev('StepParked', { step: 'workloads-1:suspend', commandId: 'c1', reason }, 't'),
    ];
    expect(foldTenantSummary(parked)?.status).toBe('active');
    const retry = ev(
      'OperatorRetryRequested',
      { step: 'workloads-1:suspend', reason: 'r', operator: 'o' },
      't',
    );
    expect(foldTenantSummary([...parked, retry])?.status).toBe('suspending');
    const applied = [
      ...parked,
      retry,
      workloadsStep('workloads-1:suspend', 'c2', 't'),
      workloadsDone('workloads-1:suspend', 'c2', 't'),
    ];
    expect(foldTenantSummary(applied)?.status).toBe('suspended');
  });

  it('applies a resumption queued behind a pending suspension after it, in order', () => {
    const queued = [...active(), suspension(), resumption()];
    expect(foldTenantSummary(queued)?.status).toBe('suspending');
    const suspended = [
      ...queued,
      workloadsStep('workloads-1:suspend', 'c1', 't'),
      workloadsDone('workloads-1:suspend', 'c1', 't'),
    ];
    expect(foldTenantSummary(suspended)?.status).toBe('resuming');
    const resumed = [
      ...suspended,
      workloadsStep('workloads-2:resume', 'c2', 't'),
      workloadsDone('workloads-2:resume', 'c2', 't'),
    ];
    expect(foldTenantSummary(resumed)?.status).toBe('active');
  });

  it('brings a suspended tenant cancelled then reactivated back suspended', () => {
    const cancelled = [
      ...active(),
      suspension(),
      workloadsStep('workloads-1:suspend', 'c1', 't'),
      workloadsDone('workloads-1:suspend', 'c1', 't'),
      ev(
        'CancellationRequested',
        {
          subscriptionId: 'sub_abc123',
          reason: 'r',
          requestedAt: 'r',
          deletionDate: 'd',
          requestedBy: 'billing',
        },
        't',
      ),
    ];
    expect(foldTenantSummary(cancelled)?.status).toBe('deprovisioning');
    const reactivated = [
      ...cancelled,
      ev(
        'TenantReactivated',
        { subscriptionId: 'sub_abc123', reactivatedAt: 'x', requestedBy: 'billing' },
        't',
      ),
    ];
    expect(foldTenantSummary(reactivated)?.status).toBe('suspended');
  });

  it('marks timed-out and parked steps', () => {
    const c1 = deterministicId('c1');
    const c2 = deterministicId('c2');
    const summary = foldTenantSummary([
      ev('TenantRequested', { tenant, source: 'webhook' }, '2025-01-15T10:00:00Z'),
      started('ingress', c1, '2025-01-15T10:00:01Z'),
      started('welcome-email', c2, '2025-01-15T10:00:02Z'),
      ev(
        'StepTimedOut',
        { step: 'ingress', commandId: c1, deadline: '2025-01-15T10:02:01Z' },
        '2025-01-15T10:02:01Z',
      ),
      ev(
        'StepParked',
        {
          step: 'welcome-email',
          commandId: c2,
          reason: { code: 'SMTP.DOWN', message: 'm', retryable: true },
        },
        '2025-01-15T10:03:00Z',
      ),
    ]);
    expect(summary?.steps['ingress']).toMatchObject({
      status: 'timed_out',
      error: { code: 'STEP.TIMED_OUT' },
    });
    expect(summary?.steps['welcome-email']).toMatchObject({ status: 'parked', error: { code: 'SMTP.DOWN' } });
  });
});
