import fc from 'fast-check';
import type { LifecycleEventData } from '@app/contracts';
import {
  admitOperatorRetry,
  admitSubscriptionCancelled,
  admitSubscriptionReactivated,
  admitSubscriptionResumed,
  admitSubscriptionSuspended,
  isRefusal,
  reportedStatus,
  type Admission,
} from '@app/lifecycle';
import { PERMANENT, PROFILE, TEST_CONFIG, TRANSIENT, TenantSim } from './testing';

/*
 * Random interleavings of billing events (suspend, resume, cancel, reactivate), operator retries and step
 * outcomes (success, retryable or permanent failure of any running step). Requests go through the same
 * admission deciders as the API, then the orchestrator decides to its fixed point. After every move the
 * reported status must match what the k8s service last applied to the workloads: `active` and `suspending`
 * while they run, `suspended` and `resuming` while they are scaled to zero.
 */

type Move =
  | { kind: 'suspend' | 'resume' | 'cancel' | 'reactivate' | 'retry' }
  | { kind: 'succeed' | 'fail-transient' | 'fail-permanent'; pick: number };

const MOVE: fc.Arbitrary<Move> = fc.oneof(
  fc.constantFrom<Move>(
    { kind: 'suspend' },
    { kind: 'resume' },
    { kind: 'cancel' },
    { kind: 'reactivate' },
    { kind: 'retry' },
  ),
  fc.record({
    kind: fc.constantFrom('succeed' as const, 'fail-transient' as const, 'fail-permanent' as const),
    pick: fc.nat(),
  }),
);

const SUB = PROFILE.subscriptionId;
const WORKLOADS_RUN: ReadonlySet<string> = new Set(['active', 'suspending']);
const WORKLOADS_DOWN: ReadonlySet<string> = new Set(['suspended', 'resuming']);

function activeTenant(): TenantSim {
  const sim = new TenantSim({ ...TEST_CONFIG, gracePeriodDays: 0 });
  sim.request();
  return sim.activate([]);
}

/** What the API does with a request: append the admitted events (one at a time, as separate appends). */
function admit(sim: TenantSim, admission: Admission): void {
  if (isRefusal(admission)) return;
  for (const event of admission.events) sim.emit(event.type, event.data as never);
}

function play(sim: TenantSim, move: Move, clock: { n: number }): void {
  const at = new Date(sim.now.getTime() + ++clock.n * 1000).toISOString();
  switch (move.kind) {
    case 'suspend':
      return admit(
        sim,
        admitSubscriptionSuspended(sim.state, {
          subscriptionId: SUB,
          data: { reason: 'non-payment', requestedBy: 'billing' },
        }),
      );
    case 'resume':
      return admit(
        sim,
        admitSubscriptionResumed(sim.state, { subscriptionId: SUB, data: { requestedBy: 'billing' } }),
      );
    case 'cancel': {
      const cancellation: LifecycleEventData['CancellationRequested'] = {
        subscriptionId: SUB,
        reason: 'cancelled',
        requestedAt: at,
        // Far away: the purge never starts within a run.
        deletionDate: '2099-01-01T00:00:00.000Z',
        requestedBy: 'billing',
      };
      return admit(sim, admitSubscriptionCancelled(sim.state, { cancellation, newerThanLastChange: true }));
    }
    case 'reactivate':
      return admit(
        sim,
        admitSubscriptionReactivated(sim.state, {
          data: { subscriptionId: SUB, reactivatedAt: at, requestedAt: at, requestedBy: 'billing' },
          checkSubscription: true,
        }),
      );
    case 'retry': {
      const parked = Object.values(sim.state.steps).find((run) => run.status === 'parked');
      if (!parked) return;
      return admit(sim, admitOperatorRetry(sim.state, { step: parked.step, reason: 'r', operator: 'op' }));
    }
    default: {
      const running = sim.runningSteps().sort();
      if (running.length === 0) return;
      const step = running[move.pick % running.length];
      if (move.kind === 'succeed') sim.succeed(step);
      else sim.fail(step, move.kind === 'fail-transient' ? TRANSIENT : PERMANENT);
    }
  }
}

/** The workloads as the k8s service last applied them: running unless its last success scaled them down. */
function appliedWorkloads(sim: TenantSim): 'running' | 'down' {
  let applied: 'running' | 'down' = 'running';
  for (const event of sim.events) {
    if (event.type === 'WorkloadsSuspended') applied = 'down';
    if (event.type === 'WorkloadsResumed') applied = 'running';
  }
  return applied;
}

describe('reported state against the applied workloads (property)', () => {
  it('always reports what the resource services last applied', () => {
    fc.assert(
      fc.property(fc.array(MOVE, { minLength: 1, maxLength: 40 }), (moves) => {
        const sim = activeTenant();
        const clock = { n: 0 };
        for (const move of moves) {
          play(sim, move, clock);
          const reported = reportedStatus(sim.state);
          const applied = appliedWorkloads(sim);
          if (WORKLOADS_RUN.has(reported) && applied !== 'running') {
            throw new Error(`reported ${reported} while the workloads are down`);
          }
          if (WORKLOADS_DOWN.has(reported) && applied !== 'down') {
            throw new Error(`reported ${reported} while the workloads run`);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
