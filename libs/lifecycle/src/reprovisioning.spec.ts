import { COMMAND_CATALOG, type CommandType, type LifecycleEventData } from '@app/contracts';
import {
  REFUSAL_CODES,
  admitReprovisioning,
  evolve,
  foldTenant,
  isRefusal,
  provisioningRun,
  reprovisionBlock,
  type Admission,
  type TenantState,
} from './index';

const AT = '2025-03-01T10:00:00Z';
const SUB = 'sub_abc123';
const BROKEN = { code: 'DATABASE.QUOTA', message: 'quota exceeded', retryable: false };
const REQUEST = { reason: 'quota raised', requestedBy: 'operator:alice', requestedAt: AT };

type RawEvent = { type: string; data: unknown; metadata: { occurredAt: string } };

function event(type: string, data: unknown): RawEvent {
  return { type, data, metadata: { occurredAt: AT } };
}

function started(step: string, commandType: CommandType, commandId: string): RawEvent {
  const service = COMMAND_CATALOG[commandType].service;
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

function succeeded(step: string, commandType: CommandType, commandId: string): RawEvent {
  return event(COMMAND_CATALOG[commandType].succeeded, { step, commandId, outputs: {} });
}

function failed(step: string, commandType: CommandType, commandId: string): RawEvent {
  return event(COMMAND_CATALOG[commandType].failed, { step, commandId, error: BROKEN, attempts: 3 });
}

const REQUESTED = event('TenantRequested', {
  tenant: { tenantId: 'abc-corporation-7f3a9c', subscriptionId: SUB, tier: 'premium' },
  source: 'webhook',
});

/** Run 1: namespace provisioned, databases failed for good, rollback started; the compensations not yet run. */
const ROLLING_BACK = [
  REQUESTED,
  started('namespace', 'ProvisionNamespace', 'n1'),
  started('databases', 'ProvisionDatabases', 'd1'),
  succeeded('namespace', 'ProvisionNamespace', 'n1'),
  failed('databases', 'ProvisionDatabases', 'd1'),
  event('RollbackStarted', { failedStep: 'databases', reason: BROKEN }),
  started('compensate:namespace', 'RemoveNamespace', 'cn1'),
  started('compensate:databases', 'RemoveDatabases', 'cd1'),
];

const COMPENSATED = [
  ...ROLLING_BACK,
  succeeded('compensate:namespace', 'RemoveNamespace', 'cn1'),
  succeeded('compensate:databases', 'RemoveDatabases', 'cd1'),
];

const FAILED = [
  ...COMPENSATED,
  event('TenantProvisioningFailed', {
    failedStep: 'databases',
    reason: BROKEN,
    compensatedSteps: ['namespace', 'databases'],
  }),
];

function reprovisioned(run: number, requestedBy = 'billing'): RawEvent {
  const data: LifecycleEventData['ReprovisioningRequested'] = { ...REQUEST, requestedBy, run };
  return event('ReprovisioningRequested', data);
}

function code(admission: Admission): string | undefined {
  return isRefusal(admission) ? admission.code : undefined;
}

function fold(events: readonly RawEvent[]): TenantState {
  return foldTenant(events);
}

/** The fold leaves the state as it is: it only counts the event. */
function expectIgnored(state: TenantState, ignored: RawEvent): void {
  expect(evolve(state, ignored as never)).toEqual({ ...state, revision: state.revision + 1 });
}

describe('re-provisioning a tenant whose provisioning failed', () => {
  it('admits a failed tenant whose rollback is complete, as run 2', () => {
    const state = fold(FAILED);
    expect(provisioningRun(state)).toBe(1);
    expect(reprovisionBlock(state)).toBeUndefined();
    expect(admitReprovisioning(state, REQUEST)).toEqual({
      events: [{ type: 'ReprovisioningRequested', data: { ...REQUEST, run: 2 } }],
    });
  });

  it('starts run 2 from requested with no step, the failed run kept in the state', () => {
    const state = fold([...FAILED, reprovisioned(2)]);
    expect(state.status).toBe('requested');
    expect(provisioningRun(state)).toBe(2);
    expect(state.steps).toEqual({});
    expect(state.rollback).toBeUndefined();
    expect(state.failedAt).toBeUndefined();
    expect(state.compensatedSteps).toBeUndefined();
    expect(state.tenant?.tenantId).toBe('abc-corporation-7f3a9c');
    expect(state.failedRuns).toEqual([
      {
        run: 1,
        failedStep: 'databases',
        reason: BROKEN,
        failedAt: AT,
        compensatedSteps: ['namespace', 'databases'],
      },
    ]);
    // The new run's first step moves it to provisioning, as on the first run.
    expect(evolve(state, started('namespace', 'ProvisionNamespace', 'n2') as never).status).toBe(
      'provisioning',
    );
  });

  it('ignores a repeated request and one naming another run than the next', () => {
    const failed = fold(FAILED);
    expectIgnored(failed, reprovisioned(3));
    expectIgnored(failed, reprovisioned(1));
    const again = fold([...FAILED, reprovisioned(2)]);
    expectIgnored(again, reprovisioned(2));
    expect(code(admitReprovisioning(again, REQUEST))).toBe(REFUSAL_CODES.PROVISIONING_IN_PROGRESS);
  });

  it('numbers a third run after the second failed too, keeping both failures', () => {
    const second = [
      started('namespace', 'ProvisionNamespace', 'n2'),
      failed('namespace', 'ProvisionNamespace', 'n2'),
      event('RollbackStarted', { failedStep: 'namespace', reason: BROKEN }),
      started('compensate:namespace', 'RemoveNamespace', 'cn2'),
      succeeded('compensate:namespace', 'RemoveNamespace', 'cn2'),
      event('TenantProvisioningFailed', {
        failedStep: 'namespace',
        reason: BROKEN,
        compensatedSteps: ['namespace'],
      }),
    ];
    const state = fold([...FAILED, reprovisioned(2), ...second]);
    expect(state.status).toBe('failed');
    expect(admitReprovisioning(state, REQUEST)).toEqual({
      events: [{ type: 'ReprovisioningRequested', data: { ...REQUEST, run: 3 } }],
    });
    const third = fold([...FAILED, reprovisioned(2), ...second, reprovisioned(3)]);
    expect(third.failedRuns?.map((run) => [run.run, run.failedStep])).toEqual([
      [1, 'databases'],
      [2, 'namespace'],
    ]);
  });

  it.each([
    ['requested', [REQUESTED], REFUSAL_CODES.PROVISIONING_IN_PROGRESS],
    ['provisioning', ROLLING_BACK.slice(0, 3), REFUSAL_CODES.PROVISIONING_IN_PROGRESS],
    ['rolling back', ROLLING_BACK, REFUSAL_CODES.ROLLBACK_NOT_COMPLETE],
    ['compensated, not yet failed', COMPENSATED, REFUSAL_CODES.ROLLBACK_NOT_COMPLETE],
  ])('refuses a tenant %s', (_name, events, refusal) => {
    const state = fold(events);
    expect(code(admitReprovisioning(state, REQUEST))).toBe(refusal);
    expectIgnored(state, reprovisioned(2));
  });

  it('refuses a failed tenant while a compensation is parked, naming it and what to do', () => {
    const parked = [
      ...ROLLING_BACK,
      succeeded('compensate:namespace', 'RemoveNamespace', 'cn1'),
      failed('compensate:databases', 'RemoveDatabases', 'cd1'),
      event('CompensationParked', { step: 'compensate:databases', commandId: 'cd1', reason: BROKEN }),
      event('TenantProvisioningFailed', {
        failedStep: 'databases',
        reason: BROKEN,
        compensatedSteps: ['namespace'],
      }),
    ];
    const state = fold(parked);
    expect(state.status).toBe('failed');
    const admission = admitReprovisioning(state, REQUEST);
    expect(code(admission)).toBe(REFUSAL_CODES.ROLLBACK_NOT_COMPLETE);
    expect(isRefusal(admission) && admission.message).toContain(
      'retry the parked compensation first (compensate:databases)',
    );
    expectIgnored(state, reprovisioned(2));
  });

  it('refuses a failed tenant with a command still in flight, or whose compensation must run again after it', () => {
    // Storage was still in flight when the rollback undid it; its success arrives after the run failed.
    const inFlight = [
      ...ROLLING_BACK.slice(0, 3),
      started('storage', 'ProvisionStorage', 's1'),
      ...ROLLING_BACK.slice(3),
      started('compensate:storage', 'RemoveStorage', 'cs1'),
      succeeded('compensate:namespace', 'RemoveNamespace', 'cn1'),
      succeeded('compensate:databases', 'RemoveDatabases', 'cd1'),
      succeeded('compensate:storage', 'RemoveStorage', 'cs1'),
      event('TenantProvisioningFailed', {
        failedStep: 'databases',
        reason: BROKEN,
        compensatedSteps: ['namespace', 'databases', 'storage'],
      }),
    ];
    const failedState = fold(inFlight);
    expect(failedState.status).toBe('failed');
    // Until its deadline times it out, the command in flight may still create what the rollback removed.
    const waiting = admitReprovisioning(failedState, REQUEST);
    expect(code(waiting)).toBe(REFUSAL_CODES.ROLLBACK_NOT_COMPLETE);
    expect(isRefusal(waiting) && waiting.message).toContain('(storage running): it finishes by itself');
    const state = fold([...inFlight, succeeded('storage', 'ProvisionStorage', 's1')]);
    expect(state.steps['compensate:storage']?.stale).toBe(true);
    const admission = admitReprovisioning(state, REQUEST);
    expect(code(admission)).toBe(REFUSAL_CODES.ROLLBACK_NOT_COMPLETE);
    expect(isRefusal(admission) && admission.message).toContain('compensate:storage to run again');
  });

  it('refuses an active tenant and a cancelled one with their own codes', () => {
    const active = fold([REQUESTED, started('namespace', 'ProvisionNamespace', 'n1')]);
    const activated = evolve(active, event('TenantActivated', { activatedAt: AT }) as never);
    expect(code(admitReprovisioning(activated, REQUEST))).toBe(REFUSAL_CODES.TENANT_ACTIVE);
    const cancellation = {
      subscriptionId: SUB,
      reason: 'changed mind',
      requestedAt: AT,
      deletionDate: AT,
      requestedBy: 'billing',
    };
    const cancelled = fold([
      ...ROLLING_BACK.slice(0, 3),
      event('CancellationRequested', cancellation),
      event('RollbackStarted', { failedStep: 'cancellation', reason: BROKEN }),
      event('ProvisioningCancelled', {
        subscriptionId: SUB,
        reason: 'changed mind',
        compensatedSteps: [],
        cancelledAt: AT,
      }),
    ]);
    expect(cancelled.status).toBe('cancelled');
    expect(code(admitReprovisioning(cancelled, REQUEST))).toBe(REFUSAL_CODES.TENANT_CANCELLED);
    expect(code(admitReprovisioning(fold([]), REQUEST))).toBe(REFUSAL_CODES.TENANT_NOT_FOUND);
  });
});
