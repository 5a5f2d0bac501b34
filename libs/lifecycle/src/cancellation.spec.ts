import { COMMAND_CATALOG, type CommandType, type LifecycleEventData } from '@app/contracts';
import {
  REFUSAL_CODES,
  admitReprovisioning,
  admitSubscriptionCancelled,
  evolve,
  foldTenant,
  isRefusal,
  takesCancellation,
  type Admission,
  type TenantState,
} from './index';

/*
 * Billing's cancellation at every point of a tenant's life: admitted exactly when the fold takes it, so every
 * cancellation recorded takes effect; a tenant never activated (provisioning, rolling back, failed) ends cancelled.
 */

const AT = '2025-03-01T10:00:00Z';
const SUB = 'sub_abc123';
const BROKEN = { code: 'DATABASE.QUOTA', message: 'quota exceeded', retryable: false };

type RawEvent = { type: string; data: unknown; metadata: { occurredAt: string } };

function event(type: string, data: unknown): RawEvent {
  return { type, data, metadata: { occurredAt: AT } };
}

function started(step: string, commandType: CommandType, commandId: string): RawEvent {
  const { service } = COMMAND_CATALOG[commandType];
  return event('StepStarted', {
    step,
    commandId,
    commandType,
    service,
    attempt: 1,
    params: {},
    deadline: AT,
  });
}

function result(step: string, commandType: CommandType, commandId: string, ok: boolean): RawEvent {
  const spec = COMMAND_CATALOG[commandType];
  return ok
    ? event(spec.succeeded, { step, commandId, outputs: {} })
    : event(spec.failed, { step, commandId, error: BROKEN, attempts: 3 });
}

const PROVISIONING = [
  event('TenantRequested', {
    tenant: { tenantId: 'abc-corporation-7f3a9c', subscriptionId: SUB, tier: 'premium' },
    source: 'webhook',
  }),
  started('namespace', 'ProvisionNamespace', 'n1'),
  result('namespace', 'ProvisionNamespace', 'n1', true),
];

/** The databases failed for good: the rollback runs (the namespace's undo not answered yet). */
const ROLLING_BACK = [
  ...PROVISIONING,
  started('databases', 'ProvisionDatabases', 'd1'),
  result('databases', 'ProvisionDatabases', 'd1', false),
  event('RollbackStarted', { failedStep: 'databases', reason: BROKEN }),
  started('compensate:namespace', 'RemoveNamespace', 'cn1'),
];

const FAILED = [
  ...ROLLING_BACK,
  result('compensate:namespace', 'RemoveNamespace', 'cn1', true),
  event('TenantProvisioningFailed', {
    failedStep: 'databases',
    reason: BROKEN,
    compensatedSteps: ['namespace'],
  }),
];

const CANCELLATION: LifecycleEventData['CancellationRequested'] = {
  subscriptionId: SUB,
  reason: 'changed mind',
  requestedAt: AT,
  deletionDate: '2025-03-31T10:00:00Z',
  requestedBy: 'billing',
};
const CANCELLED = event('CancellationRequested', CANCELLATION);
const PROVISIONING_CANCELLED = event('ProvisioningCancelled', {
  subscriptionId: SUB,
  reason: 'changed mind',
  compensatedSteps: ['namespace'],
  cancelledAt: AT,
});

function admit(state: TenantState, newerThanLastChange = true): Admission {
  return admitSubscriptionCancelled(state, { cancellation: CANCELLATION, newerThanLastChange });
}

const ADMITTED = { events: [{ type: 'CancellationRequested', data: CANCELLATION }] };

describe('billing cancellation of a tenant never activated', () => {
  it('takes the cancellation of a failed tenant, which then ends cancelled', () => {
    const failed = foldTenant(FAILED);
    expect(admit(failed)).toEqual(ADMITTED);
    const asked = evolve(failed, CANCELLED as never);
    // Recorded as a cancellation before activation; the orchestrator's next decision ends the tenant.
    expect(asked).toMatchObject({ status: 'failed', cancellation: { duringProvisioning: true } });
    const cancelled = evolve(asked, PROVISIONING_CANCELLED as never);
    expect(cancelled).toMatchObject({
      status: 'cancelled',
      cancelledAt: AT,
      compensatedSteps: ['namespace'],
    });
    // Without the cancellation a failed tenant stays failed.
    expect(evolve(failed, PROVISIONING_CANCELLED as never).status).toBe('failed');
  });

  it('takes a cancellation during the rollback; the rollback then ends cancelled', () => {
    const rollingBack = foldTenant(ROLLING_BACK);
    expect(admit(rollingBack)).toEqual(ADMITTED);
    const asked = foldTenant([...ROLLING_BACK, CANCELLED]);
    expect(asked).toMatchObject({ status: 'rolling_back', cancellation: { duringProvisioning: true } });
    const done = foldTenant([
      ...ROLLING_BACK,
      CANCELLED,
      result('compensate:namespace', 'RemoveNamespace', 'cn1', true),
      PROVISIONING_CANCELLED,
    ]);
    expect(done.status).toBe('cancelled');
  });

  it.each([
    ['provisioning', PROVISIONING],
    ['rolling back', ROLLING_BACK],
    ['failed', FAILED],
  ])(
    'admits nothing for a second cancellation of a tenant %s (the fold would ignore it)',
    (_name, events) => {
      const once = foldTenant([...events, CANCELLED]);
      expect(takesCancellation(once)).toBe(false);
      expect(admit(once)).toEqual({ events: [] });
      expect(admit(once, false)).toEqual({ events: [] });
      expect(evolve(once, CANCELLED as never)).toEqual({ ...once, revision: once.revision + 1 });
    },
  );

  it('admits nothing once cancelled, and never provisions a cancelled tenant again', () => {
    const cancelled = foldTenant([...FAILED, CANCELLED, PROVISIONING_CANCELLED]);
    expect(admit(cancelled)).toEqual({ events: [] });
    // A failed tenant cancelled is not provisioned again, even before the orchestrator ends it as cancelled.
    for (const state of [foldTenant([...FAILED, CANCELLED]), cancelled]) {
      const refused = admitReprovisioning(state, { reason: 'r', requestedBy: 'billing', requestedAt: AT });
      expect(isRefusal(refused) && refused.code).toBe(REFUSAL_CODES.TENANT_CANCELLED);
    }
  });
});
