import type { LifecycleEventData } from '@app/contracts';
import {
  REFUSAL_CODES,
  admitOperatorPurge,
  admitOperatorRetry,
  admitSubscriptionResumed,
  admitSubscriptionSuspended,
  foldTenant,
  isRefusal,
  reportedStatus,
  workloadsChangeQueued,
  workloadsTarget,
  type Admission,
} from './index';

const AT = '2025-03-01T10:00:00Z';
const SUB = 'sub_abc123';

function event(type: string, data: unknown) {
  return { type, data, metadata: { occurredAt: AT } };
}

function started(step: string, commandType: string, commandId: string) {
  const data = { step, commandId, commandType, service: 'k8s', attempt: 1, params: {}, deadline: AT };
  return event('StepStarted', data);
}

const ACTIVE = [
  event('TenantRequested', {
    tenant: { tenantId: 'abc-corporation-7f3a9c', subscriptionId: SUB, tier: 'premium' },
    source: 'webhook',
  }),
  started('namespace', 'CreateNamespace', 'c0'),
  event('TenantActivated', { activatedAt: AT }),
];

function code(admission: Admission): string | undefined {
  return isRefusal(admission) ? admission.code : undefined;
}

describe('admission deciders', () => {
  const suspension = { subscriptionId: SUB, data: { reason: 'non-payment', requestedBy: 'billing' } };
  const resumption = { subscriptionId: SUB, data: { requestedBy: 'billing' } };

  it('admits a suspension of an active tenant; the state reports it asked, not applied', () => {
    const state = foldTenant(ACTIVE);
    expect(admitSubscriptionSuspended(state, suspension)).toEqual({
      events: [{ type: 'SuspensionRequested', data: suspension.data }],
    });
    const asked = foldTenant([...ACTIVE, event('SuspensionRequested', suspension.data)]);
    expect(asked.status).toBe('active');
    expect(workloadsTarget(asked)).toBe('suspended');
    expect(admitSubscriptionSuspended(asked, suspension)).toEqual({ events: [] });
    expect(admitSubscriptionResumed(state, resumption)).toEqual({ events: [] });
  });

  it('queues a resumption asked before the suspension is applied; the orchestrator applies both in order', () => {
    const asked = foldTenant([...ACTIVE, event('SuspensionRequested', suspension.data)]);
    expect(workloadsChangeQueued(asked)).toBe(true);
    expect(admitSubscriptionResumed(asked, resumption)).toEqual({
      events: [{ type: 'ResumptionRequested', data: resumption.data }],
    });
    const queued = [
      ...ACTIVE,
      event('SuspensionRequested', suspension.data),
      event('ResumptionRequested', {}),
    ];
    expect(reportedStatus(foldTenant(queued))).toBe('suspending');
    expect(workloadsTarget(foldTenant(queued))).toBe('active');
    const suspended = [
      ...queued,
      started('workloads-1:suspend', 'SuspendWorkloads', 'c1'),
      event('WorkloadsSuspended', { step: 'workloads-1:suspend', commandId: 'c1', outputs: {} }),
    ];
    const state = foldTenant(suspended);
    expect(state.status).toBe('suspended');
    expect(state.workloadsOperation).toEqual({ seq: 2, kind: 'resume' });
    expect(reportedStatus(state)).toBe('resuming');
    const resumed = foldTenant([
      ...suspended,
      started('workloads-2:resume', 'ResumeWorkloads', 'c2'),
      event('WorkloadsResumed', { step: 'workloads-2:resume', commandId: 'c2', outputs: {} }),
    ]);
    expect(reportedStatus(resumed)).toBe('active');
  });

  it('refuses another subscription and a tenant that does not exist', () => {
    expect(code(admitSubscriptionSuspended(foldTenant(ACTIVE), { ...suspension, subscriptionId: 'x' }))).toBe(
      REFUSAL_CODES.SUBSCRIPTION_MISMATCH,
    );
    expect(code(admitSubscriptionSuspended(foldTenant([]), suspension))).toBe(REFUSAL_CODES.TENANT_NOT_FOUND);
  });

  it('retries only a parked step', () => {
    const failed = [
      ...ACTIVE,
      started('tier-1:update-quota', 'UpdateQuota', 'c1'),
      event('QuotaUpdateRefused', {
        step: 'tier-1:update-quota',
        commandId: 'c1',
        error: { code: 'X', message: 'm', retryable: false },
        attempts: 1,
      }),
    ];
    const retry: LifecycleEventData['OperatorRetryRequested'] = {
      step: 'tier-1:update-quota',
      reason: 'r',
      operator: 'o',
    };
    expect(code(admitOperatorRetry(foldTenant(failed), retry))).toBe(REFUSAL_CODES.STEP_NOT_RETRYABLE);
    const parked = [
      ...failed,
      event('StepParked', {
        step: 'tier-1:update-quota',
        commandId: 'c1',
        reason: { code: 'X', message: 'm', retryable: false },
      }),
    ];
    expect(admitOperatorRetry(foldTenant(parked), retry)).toEqual({
      events: [{ type: 'OperatorRetryRequested', data: retry }],
    });
    // Asked once, not started yet: asked again it would change nothing, so it is refused like a second purge.
    const again = admitOperatorRetry(foldTenant([...parked, event('OperatorRetryRequested', retry)]), retry);
    expect(code(again)).toBe(REFUSAL_CODES.STEP_NOT_RETRYABLE);
    expect(isRefusal(again) && again.message).toContain(
      'a retry of step tier-1:update-quota is already requested',
    );
    expect(code(admitOperatorRetry(foldTenant(parked), { ...retry, step: 'backup' }))).toBe(
      REFUSAL_CODES.STEP_NOT_RETRYABLE,
    );
  });

  it('applies a parked suspension retried by an operator once it succeeds; refuses one superseded', () => {
    const reason = { code: 'K8S', message: 'm', retryable: false };
    const parked = [
      ...ACTIVE,
      event('SuspensionRequested', suspension.data),
      started('workloads-1:suspend', 'SuspendWorkloads', 'c1'),
      event('WorkloadsSuspensionFailed', {
        step: 'workloads-1:suspend',
        commandId: 'c1',
        error: reason,
        attempts: 1,
      }),
      event('StepParked', { step: 'workloads-1:suspend', commandId: 'c1', reason }),
    ];
    expect(reportedStatus(foldTenant(parked))).toBe('active');
    const retry = { step: 'workloads-1:suspend', reason: 'r', operator: 'o' };
    expect(admitOperatorRetry(foldTenant(parked), retry)).toEqual({
      events: [{ type: 'OperatorRetryRequested', data: retry }],
    });
    const retried = [...parked, event('OperatorRetryRequested', retry)];
    expect(reportedStatus(foldTenant(retried))).toBe('suspending');
    const done = [
      ...retried,
      started('workloads-1:suspend', 'SuspendWorkloads', 'c2'),
      event('WorkloadsSuspended', { step: 'workloads-1:suspend', commandId: 'c2', outputs: {} }),
    ];
    expect(reportedStatus(foldTenant(done))).toBe('suspended');
    // Billing asked again meanwhile: the new suspension is the one to run, not the parked one.
    const superseded = foldTenant([...parked, event('SuspensionRequested', suspension.data)]);
    const refused = admitOperatorRetry(superseded, retry);
    expect(isRefusal(refused) && refused.message).toContain('superseded by a later suspension or resumption');
  });

  it('admits one early purge per grace period', () => {
    const purge = { reason: 'r', operator: 'o', requestedAt: AT };
    expect(code(admitOperatorPurge(foldTenant(ACTIVE), purge))).toBe(REFUSAL_CODES.NOT_IN_GRACE_PERIOD);
    const cancelled = [
      ...ACTIVE,
      event('CancellationRequested', {
        subscriptionId: SUB,
        reason: 'r',
        requestedAt: AT,
        deletionDate: '2025-04-01T10:00:00Z',
        requestedBy: 'billing',
      }),
    ];
    expect(code(admitOperatorPurge(foldTenant(cancelled), purge))).toBeUndefined();
    const requested = [...cancelled, event('OperatorPurgeRequested', purge)];
    expect(code(admitOperatorPurge(foldTenant(requested), purge))).toBe(
      REFUSAL_CODES.PURGE_ALREADY_REQUESTED,
    );
  });
});
