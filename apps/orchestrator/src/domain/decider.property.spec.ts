import fc from 'fast-check';
import { commandForResult, TIERS, type StepOutputs, type TenantEvent } from '@app/contracts';
import {
  COMPENSABLE_STEPS,
  GATING_STEPS,
  PURGE_STEPS,
  admitOperatorCancel,
  admitOperatorPurge,
  admitOperatorRetry,
  admitReprovisioning,
  admitSubscriptionCancelled,
  admitSubscriptionReactivated,
  admitSubscriptionResumed,
  admitSubscriptionSuspended,
  admitSubscriptionUpdated,
  compensationKey,
  evolve,
  initialState,
  isRefusal,
  provisioningRun,
  purgeKey,
  reportedStatus,
  retryableSteps,
  type Admission,
  type TenantState,
} from '@app/lifecycle';
import { evolveTenantSummary, type TenantSummary } from '@app/tenancy';
import type { DecidedEvent } from './decide';
import { commandId } from './decision';
import { isCompensated } from './provisioning';
import { nextDeadline, pendingCommands } from './queries';
import {
  PERMANENT,
  PROFILE,
  TEST_CONFIG,
  TRANSIENT,
  TenantSim,
  changesState,
  lifecycleEvent,
  outputsFor,
  resultEvent,
} from './testing';

/*
 * A random world around the decider: at every turn the scheduler answers any command ever dispatched
 * (in flight, timed out or already answered) with a success, a retryable or a permanent failure, or stays
 * silent and lets the clock run to the next deadline. The decider is run to its fixed point after every
 * delivery (TenantSim checks determinism and the fixed point itself).
 */

type Move = { roll: number; pick: number };

interface Dispatched {
  step: string;
  commandType: Extract<DecidedEvent, { type: 'StepStarted' }>['data']['commandType'];
  commandId: string;
}

class World {
  readonly dispatched: Dispatched[] = [];
  readonly answered = new Map<string, { ok: boolean; outputs?: StepOutputs }>();
  private seen = 0;

  /** `okBelow` and `retryableBelow` split a roll of 0-99 into success, retryable and permanent failure. */
  constructor(
    readonly sim: TenantSim,
    private readonly odds = { okBelow: 93, retryableBelow: 97 },
  ) {}

  collect(): void {
    for (const decision of this.sim.decided.slice(this.seen)) {
      if (decision.type === 'StepStarted') this.dispatched.push(decision.data);
    }
    this.seen = this.sim.decided.length;
  }

  /** One scheduler move; false when nothing can happen any more. */
  play({ roll, pick }: Move): boolean {
    this.collect();
    const unanswered = this.dispatched.filter((command) => !this.answered.has(command.commandId));
    const deadline = nextDeadline(this.sim.state, this.sim.config);
    if (unanswered.length === 0 && deadline === undefined) return false;
    if (roll < 10 && this.answered.size > 0) {
      // A duplicate delivery of an earlier result.
      const [commandId, outcome] = [...this.answered.entries()][pick % this.answered.size] ?? [];
      const command = this.dispatched.find((candidate) => candidate.commandId === commandId);
      if (command && outcome) this.deliver(command, outcome.ok ? 'ok' : 'permanent');
      return true;
    }
    if (unanswered.length === 0 || (roll >= 10 && roll < 15 && deadline !== undefined)) {
      if (deadline) this.sim.advanceTo(deadline);
      return true;
    }
    const command = unanswered[pick % unanswered.length] as Dispatched;
    const { okBelow, retryableBelow } = this.odds;
    this.deliver(command, roll < okBelow ? 'ok' : roll < retryableBelow ? 'retryable' : 'permanent');
    return true;
  }

  deliver(command: Dispatched, outcome: 'ok' | 'retryable' | 'permanent'): void {
    const ok = outcome === 'ok';
    const outputs = ok ? outputsFor(command.commandType) : undefined;
    this.answered.set(command.commandId, { ok, outputs });
    const result = ok
      ? { ok: true as const, outputs }
      : { ok: false as const, error: outcome === 'retryable' ? TRANSIENT : PERMANENT };
    this.sim.append(resultEvent(command, command.commandId, result, this.sim.now));
  }

  /** Afterwards the world behaves: every pending command succeeds, the clock runs to every deadline. */
  drain(limit = 500): void {
    for (let i = 0; i < limit; i++) {
      this.collect();
      const pending = pendingCommands(this.sim.state, this.sim.now).find(
        (c) => !this.answered.has(c.commandId),
      );
      if (pending) {
        this.deliver(
          { step: pending.step, commandType: pending.commandType, commandId: pending.commandId },
          'ok',
        );
        continue;
      }
      const deadline = nextDeadline(this.sim.state, this.sim.config);
      if (!deadline) return;
      this.sim.advanceTo(deadline > this.sim.now ? deadline : this.sim.now);
    }
    throw new Error('the tenant did not settle');
  }
}

/**
 * Read from the event log, independently of the fold: some compensation of the step started after the
 * step's last result and then succeeded or was parked (an earlier one may have run before the resources existed).
 */
function compensatedAfterLastResult(sim: TenantSim, step: string): boolean {
  const firstResultAt = new Map<string, number>();
  sim.events.forEach((event, index) => {
    const outcome = commandForResult(event.type);
    const commandId = (event.data as { commandId?: string }).commandId;
    if (outcome && commandId && !firstResultAt.has(commandId)) firstResultAt.set(commandId, index);
  });
  const started = (key: string) =>
    sim.events.flatMap((event, index) =>
      event.type === 'StepStarted' && event.data.step === key
        ? [{ index, commandId: event.data.commandId }]
        : [],
    );
  const lastForward = Math.max(
    -1,
    ...started(step).map(({ commandId }) => firstResultAt.get(commandId) ?? -1),
  );
  return started(compensationKey(step)).some(({ index, commandId }) => {
    if (index < lastForward) return false;
    const resultAt = firstResultAt.get(commandId);
    const succeeded =
      resultAt !== undefined && commandForResult(sim.events[resultAt]?.type ?? '')?.outcome === 'succeeded';
    const parked = sim.events.some(
      (event) => event.type === 'CompensationParked' && event.data.commandId === commandId,
    );
    return succeeded || parked;
  });
}

const terminal = (state: TenantState) => ['active', 'failed', 'purged'].includes(state.status);

function checkNeverStuck(sim: TenantSim): void {
  if (terminal(sim.state)) return;
  const waiting = pendingCommands(sim.state).length > 0 || nextDeadline(sim.state, sim.config) !== undefined;
  if (!waiting) throw new Error(`stuck in ${sim.state.status} with nothing pending`);
}

const moves = fc.array(fc.record({ roll: fc.nat(99), pick: fc.nat() }), { minLength: 10, maxLength: 120 });
const policy = fc.record({
  maxAttempts: fc.integer({ min: 1, max: 3 }),
  compensationMaxAttempts: fc.integer({ min: 1, max: 3 }),
});

describe('decider under a random scheduler', () => {
  it('always ends active with every gating step done, or failed with every started step compensated', () => {
    fc.assert(
      fc.property(policy, moves, (knobs, plays) => {
        const sim = new TenantSim({ ...TEST_CONFIG, ...knobs });
        const world = new World(sim);
        sim.request();
        let wasActive = false;
        let wasFailed = false;
        const observe = () => {
          checkNeverStuck(sim);
          wasActive ||= sim.state.status === 'active';
          wasFailed ||= sim.state.status === 'failed' || sim.state.status === 'rolling_back';
          if (wasActive && wasFailed) throw new Error('tenant both activated and rolled back');
        };
        for (const move of plays) {
          if (!world.play(move)) break;
          observe();
        }
        world.drain();
        observe();

        const { state } = sim;
        expect(['active', 'failed']).toContain(state.status);
        if (state.status === 'active') {
          for (const step of GATING_STEPS) expect(state.steps[step.name]?.status).toBe('succeeded');
          expect(Object.keys(state.steps).some((key) => key.startsWith('compensate:'))).toBe(false);
        } else {
          expect(state.activatedAt).toBeUndefined();
          for (const step of COMPENSABLE_STEPS) {
            expect(isCompensated(state, step.name)).toBe(true);
            if (state.steps[step.name]) expect(compensatedAfterLastResult(sim, step.name)).toBe(true);
          }
        }
        expect(pendingCommands(state)).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });

  it('never purges without a verified backup or before the deletion date, and purges in order', () => {
    const base = activeTenant();
    fc.assert(
      fc.property(policy, moves, (knobs, plays) => {
        const sim = new TenantSim({ ...TEST_CONFIG, ...knobs });
        for (const event of base.events) sim.fold(event);
        sim.now = base.now;
        // Failures are more frequent here: they block backups and park purge steps, which must only delay.
        const world = new World(sim, { okBelow: 80, retryableBelow: 90 });
        world.collect();
        const deletionDate = new Date(sim.now.getTime() + 3600_000).toISOString();
        sim.emit('CancellationRequested', {
          subscriptionId: PROFILE.subscriptionId,
          reason: 'downgrade',
          requestedAt: sim.now.toISOString(),
          deletionDate,
          requestedBy: 'billing',
        });
        for (const move of plays) {
          if (!world.play(move)) break;
          checkNeverStuck(sim);
        }
        world.drain();
        expect(sim.state.status).toBe('purged');

        const purgeStarted = sim.decided.find((d) => d.type === 'PurgeStarted');
        const completed = sim.decided.filter((d) => d.type === 'BackupCompleted');
        expect(purgeStarted?.type === 'PurgeStarted' && purgeStarted.data.startedAt >= deletionDate).toBe(
          true,
        );
        expect(completed.map((d) => d.data)).toContainEqual(
          expect.objectContaining({
            backupId: purgeStarted?.type === 'PurgeStarted' && purgeStarted.data.backupId,
          }),
        );
        expect(sim.decided.indexOf(completed[0] as DecidedEvent)).toBeLessThan(
          sim.decided.indexOf(purgeStarted as DecidedEvent),
        );
        // Each purge step started only after all of its predecessors succeeded.
        for (const step of PURGE_STEPS) {
          const first = sim.events.findIndex(
            (e) => e.type === 'StepStarted' && 'step' in e.data && e.data.step === purgeKey(step.resource),
          );
          for (const dep of step.dependsOn) {
            const succeeded = sim.events.findIndex(
              (e) => 'step' in e.data && e.data.step === purgeKey(dep) && e.type.endsWith('Removed'),
            );
            expect(succeeded).toBeGreaterThanOrEqual(0);
            expect(succeeded).toBeLessThan(first);
          }
        }
      }),
      { numRuns: 150 },
    );
  });
});

const WEBSITE_RECORD_PATCHES = new Set([
  'ActivateWebsiteRecord',
  'SoftDeleteWebsiteRecord',
  'RestoreWebsiteRecord',
]);

/** Whether some activation of the record was started after a soft delete with no restore in between. */
function activatesSoftDeleted(patches: readonly string[]): boolean {
  let softDeleted = false;
  for (const patch of patches) {
    if (patch === 'ActivateWebsiteRecord' && softDeleted) return true;
    if (patch === 'SoftDeleteWebsiteRecord') softDeleted = true;
    if (patch === 'RestoreWebsiteRecord') softDeleted = false;
  }
  return false;
}

/** Scheduler moves, plus billing cancelling or reactivating the subscription at any moment. */
const lifecycleMoves = fc.array(
  fc.oneof(
    { weight: 8, arbitrary: fc.record({ roll: fc.nat(99), pick: fc.nat() }) },
    { weight: 1, arbitrary: fc.constantFrom('cancel' as const, 'reactivate' as const) },
  ),
  { minLength: 10, maxLength: 150 },
);

describe('website record under cancellations and reactivations in any order', () => {
  it('never patches the record twice at once nor activates it once soft-deleted, and a tenant that ends active ends with its record restored', () => {
    const base = activeTenant();
    fc.assert(
      fc.property(policy, lifecycleMoves, (knobs, plays) => {
        const sim = new TenantSim({ ...TEST_CONFIG, ...knobs });
        for (const event of base.events) sim.fold(event);
        sim.now = base.now;
        const world = new World(sim, { okBelow: 80, retryableBelow: 90 });
        world.collect();
        const inFlight = () =>
          Object.values(sim.state.steps).filter(
            (run) => run.status === 'running' && WEBSITE_RECORD_PATCHES.has(run.commandType),
          );
        for (const move of plays) {
          if (move === 'cancel') {
            sim.emit('CancellationRequested', {
              subscriptionId: PROFILE.subscriptionId,
              reason: 'downgrade',
              requestedAt: sim.now.toISOString(),
              deletionDate: new Date(sim.now.getTime() + 86_400_000).toISOString(),
              requestedBy: 'billing',
            });
          } else if (move === 'reactivate') {
            sim.emit('TenantReactivated', {
              subscriptionId: PROFILE.subscriptionId,
              reactivatedAt: sim.now.toISOString(),
              requestedBy: 'billing',
            });
          } else if (!world.play(move)) {
            continue;
          }
          const patching = inFlight().map((run) => run.step);
          if (patching.length > 1) throw new Error(`record patched concurrently: ${patching.join(', ')}`);
          checkNeverStuck(sim);
        }
        world.drain();
        expect(['active', 'purged']).toContain(sim.state.status);
        const patches = sim.decided.flatMap((d) =>
          d.type === 'StepStarted' && WEBSITE_RECORD_PATCHES.has(d.data.commandType)
            ? [d.data.commandType]
            : [],
        );
        expect(activatesSoftDeleted(patches)).toBe(false);
        if (sim.state.status === 'active' && sim.state.reactivation) {
          expect(patches.at(-1)).toBe('RestoreWebsiteRecord');
        }
      }),
      { numRuns: 200 },
    );
  });
});

/** Scheduler moves, plus an operator or billing asking at any moment to provision the tenant again. */
const reprovisionMoves = fc.array(
  fc.oneof(
    { weight: 8, arbitrary: fc.record({ roll: fc.nat(99), pick: fc.nat() }) },
    { weight: 1, arbitrary: fc.constant('reprovision' as const) },
  ),
  { minLength: 10, maxLength: 200 },
);

/** The run each StepStarted of the stream belongs to, read from the log (runs start at ReprovisioningRequested). */
function commandsByRun(sim: TenantSim): { run: number; data: Dispatched & { attempt: number } }[] {
  let run = 1;
  return sim.events.flatMap((event) => {
    if (event.type === 'ReprovisioningRequested') run = event.data.run;
    return event.type === 'StepStarted' ? [{ run, data: event.data }] : [];
  });
}

describe('re-provisioning under a random scheduler', () => {
  it('starts a run only after a complete rollback, never reuses a command id, and each run ends active or compensated', () => {
    let activeAfterReprovisioning = 0;
    fc.assert(
      fc.property(policy, reprovisionMoves, (knobs, plays) => {
        const sim = new TenantSim({ ...TEST_CONFIG, ...knobs });
        // Failures are frequent, so that runs fail and are started again.
        const world = new World(sim, { okBelow: 75, retryableBelow: 85 });
        sim.request();
        let rolledBackThisRun = false;
        const observe = () => {
          checkNeverStuck(sim);
          rolledBackThisRun ||= sim.state.status === 'rolling_back' || sim.state.status === 'failed';
          if (sim.state.status === 'active' && rolledBackThisRun) {
            throw new Error(`run ${provisioningRun(sim.state)} both activated and rolled back`);
          }
        };
        const reprovision = () => {
          const before = sim.state;
          const admission = admitReprovisioning(before, {
            reason: 'try again',
            requestedBy: 'operator:alice',
            requestedAt: sim.now.toISOString(),
          });
          if (isRefusal(admission)) return;
          // Admitted only once the failed run's rollback is over: nothing of it left to undo.
          expect(before.status).toBe('failed');
          for (const step of COMPENSABLE_STEPS) expect(isCompensated(before, step.name)).toBe(true);
          expect(pendingCommands(before)).toEqual([]);
          const [event] = admission.events;
          if (event?.type !== 'ReprovisioningRequested') throw new Error('no ReprovisioningRequested');
          sim.emit(event.type, event.data);
          rolledBackThisRun = false;
          expect(sim.state.run).toBe(event.data.run);
        };
        for (const move of plays) {
          if (move === 'reprovision') reprovision();
          else if (!world.play(move)) reprovision();
          observe();
        }
        world.drain();
        observe();
        // A run that failed is asked once more in a world that now behaves.
        reprovision();
        world.drain();
        observe();

        const { state } = sim;
        expect(['active', 'failed']).toContain(state.status);
        if (state.status === 'active') {
          for (const step of GATING_STEPS) expect(state.steps[step.name]?.status).toBe('succeeded');
        } else {
          for (const step of COMPENSABLE_STEPS) expect(isCompensated(state, step.name)).toBe(true);
          // Refused only while a compensation waits for an operator.
          expect(Object.values(state.steps).some((run) => run.status === 'parked')).toBe(true);
        }
        expect(pendingCommands(state)).toEqual([]);
        expect(state.failedRuns?.length ?? 0).toBe(provisioningRun(state) - 1);
        if (state.status === 'active' && provisioningRun(state) > 1) activeAfterReprovisioning++;
        // Every command of every run has an id of its own, derived from its run: services never dedupe one away.
        const started = commandsByRun(sim);
        expect(new Set(started.map(({ data }) => data.commandId)).size).toBe(started.length);
        for (const { run, data } of started) {
          expect(data.commandId).toBe(
            commandId(PROFILE.tenantId, run, data.step, data.commandType, data.attempt),
          );
        }
      }),
      { numRuns: 200 },
    );
    // The scheduler does reach the case under test: tenants provisioned again after a failed run.
    expect(activeAfterReprovisioning).toBeGreaterThan(50);
  });
});

/** Active, with the website record's activation still in flight: cancellations in the properties race it. */
function activeTenant(): TenantSim {
  const sim = new TenantSim();
  sim.request();
  return sim.activate(['welcome-email', 'grafana-viewer']);
}

/*
 * Every request billing or an operator can make, at any moment of a tenant's life (provisioning, rollback,
 * failed, active, suspended, grace period, purge), admitted by the same deciders as the API and appended as the
 * API appends it, interleaved with the scheduler's step outcomes and deadlines.
 */
const CANCELLATIONS = ['cancel', 'cancel-out-of-order', 'operator-cancel'] as const;
const CHANGES = ['reactivate', 'suspend', 'resume', 'change-tier', 'retry', 'purge', 'reprovision'] as const;
type Request = (typeof CANCELLATIONS)[number] | (typeof CHANGES)[number];

/** Scheduler moves, and requests (cancellations rarer: they end a tenant's life). */
const requestMoves = fc.array(
  fc.oneof(
    { weight: 12, arbitrary: fc.record({ roll: fc.nat(99), pick: fc.nat() }) },
    {
      weight: 1,
      arbitrary: fc.record({ request: fc.constantFrom<Request>(...CANCELLATIONS), pick: fc.nat() }),
    },
    { weight: 4, arbitrary: fc.record({ request: fc.constantFrom<Request>(...CHANGES), pick: fc.nat() }) },
  ),
  { minLength: 10, maxLength: 150 },
);

/** What the API would append for `request` on the tenant's current state (a refusal appends nothing). */
function admission(sim: TenantSim, request: Request, pick: number): Admission {
  const { state, now } = sim;
  const at = now.toISOString();
  const subscriptionId = PROFILE.subscriptionId;
  const grace = { requestedAt: at, deletionDate: new Date(now.getTime() + 3600_000).toISOString() };
  switch (request) {
    case 'cancel':
    case 'cancel-out-of-order':
      return admitSubscriptionCancelled(state, {
        cancellation: { subscriptionId, reason: 'downgrade', requestedBy: 'billing', ...grace },
        newerThanLastChange: request === 'cancel',
      });
    case 'operator-cancel':
      return admitOperatorCancel(state, { reason: 'ticket 42', requestedBy: 'operator:alice', ...grace });
    case 'reactivate':
      return admitSubscriptionReactivated(state, {
        data: { subscriptionId, reactivatedAt: at, requestedAt: at, requestedBy: 'billing' },
        checkSubscription: true,
      });
    case 'suspend':
      return admitSubscriptionSuspended(state, {
        subscriptionId,
        data: { reason: 'non-payment', requestedBy: 'billing' },
      });
    case 'resume':
      return admitSubscriptionResumed(state, { subscriptionId, data: { requestedBy: 'billing' } });
    case 'change-tier':
      return admitSubscriptionUpdated(state, { subscriptionId, toTier: TIERS[pick % TIERS.length] });
    case 'retry': {
      const steps = [...retryableSteps(state), ...Object.keys(state.steps), 'backup'];
      const step = steps[pick % steps.length] as string;
      return admitOperatorRetry(state, { step, reason: 'fixed by hand', operator: 'alice' });
    }
    case 'purge':
      return admitOperatorPurge(state, { reason: 'customer asked', operator: 'alice', requestedAt: at });
    case 'reprovision':
      return admitReprovisioning(state, {
        reason: 'try again',
        requestedBy: 'operator:alice',
        requestedAt: at,
      });
    default: {
      const unreachable: never = request;
      return unreachable;
    }
  }
}

/**
 * The stream folded one event at a time, by the orchestrator's fold and by the API's read model: after every
 * event the read model's status must be the lifecycle's reported status. The read model has no `purging`: it
 * shows a purge under way as `deprovisioning` with the purge's start.
 */
class Mirror {
  private state = initialState();
  private summary: TenantSummary | null = null;
  private seen = 0;

  check(sim: TenantSim): void {
    for (; this.seen < sim.events.length; this.seen++) {
      const event = sim.events[this.seen] as TenantEvent;
      this.state = evolve(this.state, event);
      const occurredAt = event.metadata.occurredAt;
      this.summary = evolveTenantSummary(this.summary, { ...event, revision: this.seen, occurredAt });
      const reported = reportedStatus(this.state);
      const purging = reported === 'purging';
      const shown = this.summary?.status;
      if (
        shown !== (purging ? 'deprovisioning' : reported) ||
        (purging && !this.summary?.deprovisioning?.purgeStartedAt)
      ) {
        const trail = sim.events.slice(0, this.seen + 1).map((e) => e.type);
        throw new Error(
          `read model shows ${shown}, lifecycle reports ${reported} after ${trail.join(' > ')}`,
        );
      }
    }
  }
}

type Reached = Record<'failedCancelled' | 'rollbackCancelled' | 'refusedOrDuplicate', number>;

/** A request as the API handles it: admitted on the current state, each admitted event appended, checked. */
function play(sim: TenantSim, mirror: Mirror, request: Request, pick: number, reached: Reached): void {
  const before = sim.state.status;
  const admitted = admission(sim, request, pick);
  if (isRefusal(admitted) || admitted.events.length === 0) reached.refusedOrDuplicate++;
  if (isRefusal(admitted)) return;
  for (const { type, data } of admitted.events) {
    const event = lifecycleEvent(type, data as never, sim.now);
    if (!changesState(sim.state, event)) {
      throw new Error(`${request}: ${type} admitted in ${sim.state.status} but the fold ignores it`);
    }
    sim.append(event);
    mirror.check(sim);
    if (type === 'CancellationRequested' && before === 'failed') reached.failedCancelled++;
    if (type === 'CancellationRequested' && before === 'rolling_back') reached.rollbackCancelled++;
  }
}

describe('admission against evolution under random requests and outcomes', () => {
  it('appends only requests that take effect, and the read model always shows the reported status', () => {
    const base = activeTenant();
    const reached: Reached = { failedCancelled: 0, rollbackCancelled: 0, refusedOrDuplicate: 0 };
    fc.assert(
      fc.property(policy, fc.boolean(), requestMoves, (knobs, fromActive, plays) => {
        const sim = new TenantSim({ ...TEST_CONFIG, ...knobs });
        if (fromActive) {
          for (const event of base.events) sim.fold(event);
          sim.now = base.now;
        } else {
          sim.request();
        }
        const world = new World(sim, { okBelow: 80, retryableBelow: 90 });
        world.collect();
        const mirror = new Mirror();
        mirror.check(sim);
        for (const move of plays) {
          if ('request' in move) play(sim, mirror, move.request, move.pick, reached);
          else world.play(move);
          mirror.check(sim);
        }
        world.drain();
        mirror.check(sim);
        // Billing cancels once more in a world that now behaves: a tenant never activated ends cancelled.
        const settled = sim.state.status;
        play(sim, mirror, 'cancel', 0, reached);
        world.drain();
        mirror.check(sim);
        if (settled === 'failed' || settled === 'cancelled') expect(sim.state.status).toBe('cancelled');
      }),
      { numRuns: 300 },
    );
    // The scheduler reaches the cases under test: cancellations of failed tenants and during a rollback.
    expect(reached.failedCancelled).toBeGreaterThan(20);
    expect(reached.rollbackCancelled).toBeGreaterThan(20);
    expect(reached.refusedOrDuplicate).toBeGreaterThan(100);
  });
});
