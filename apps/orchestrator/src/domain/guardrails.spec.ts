import fc from 'fast-check';
import { KEYED_RESETS_KEPT } from '@app/contracts';
import {
  DEFAULT_GUARDRAIL_CONFIG,
  compactGuardrail,
  guardrailFromSnapshot,
  guardrailSnapshot,
  PURGE_BREAKER_OPEN,
  PURGE_CAP_REACHED,
  decideObservation,
  decidePermit,
  evolveGuardrail,
  initialGuardrailState,
  type GuardrailConfig,
  type GuardrailDecision,
  type GuardrailState,
} from './guardrails';

const T0 = Date.parse('2025-06-01T10:00:00.000Z');
const at = (minutes: number) => new Date(T0 + minutes * 60_000);
const iso = (minutes: number) => at(minutes).toISOString();
const CONFIG: GuardrailConfig = {
  purgesPerHour: 3,
  breakerCancellations: 2,
  breakerWindowMinutes: 60,
  breakerRecheckSeconds: 600,
};

function fold(state: GuardrailState, decisions: readonly GuardrailDecision[]): GuardrailState {
  return decisions.reduce(evolveGuardrail, state);
}

function observe(state: GuardrailState, tenantId: string, minutes: number, cycle = 1) {
  const decisions = decideObservation(
    state,
    { tenantId, cycle, arrivedAt: iso(minutes) },
    at(minutes),
    CONFIG,
  );
  return { decisions, state: fold(state, decisions) };
}

describe('mass-cancellation breaker', () => {
  it('records each cancellation once and trips when more than N arrive within the window', () => {
    let state = initialGuardrailState();
    ({ state } = observe(state, 'a-000001', 0));
    ({ state } = observe(state, 'b-000002', 10));
    expect(state.breaker.open).toBe(false);
    expect(observe(state, 'a-000001', 20).decisions).toEqual([]);
    const third = observe(state, 'c-000003', 59);
    expect(third.decisions.map((d) => d.type)).toEqual(['CancellationObserved', 'BreakerTripped']);
    expect(third.decisions[1].data).toMatchObject({ cancellations: 3, threshold: 2, windowMinutes: 60 });
    expect(third.state.breaker.open).toBe(true);
    expect(third.state.revision).toBe(4);
  });

  it('does not trip when the arrivals are spread over more than the window', () => {
    let state = initialGuardrailState();
    for (const [tenant, minutes] of [
      ['a-000001', 0],
      ['b-000002', 50],
      ['c-000003', 120],
      ['d-000004', 170],
    ] as const) {
      const result = observe(state, tenant, minutes);
      expect(result.decisions.map((d) => d.type)).toEqual(['CancellationObserved']);
      state = result.state;
    }
  });

  it('counts arrivals, not the order in which they are observed', () => {
    let state = initialGuardrailState();
    ({ state } = observe(state, 'a-000001', 200));
    ({ state } = observe(state, 'b-000002', 0));
    // 'c' arrived at 30: with 'b' (0) it makes two in one window, 'a' is far away.
    const result = observe(state, 'c-000003', 30);
    expect(result.state.breaker.open).toBe(false);
    expect(observe(result.state, 'd-000004', 45).state.breaker.open).toBe(true);
  });

  it('refuses every purge while open, and a reset by an operator counts afresh', () => {
    let state = initialGuardrailState();
    for (const [tenant, minutes] of [
      ['a-000001', 0],
      ['b-000002', 1],
      ['c-000003', 2],
    ] as const)
      ({ state } = observe(state, tenant, minutes));
    const refused = decidePermit(state, { tenantId: 'a-000001', cycle: 1 }, at(5), CONFIG);
    expect(refused.guard).toEqual({
      allowed: false,
      reason: expect.objectContaining({ code: PURGE_BREAKER_OPEN, retryable: true }),
      retryAt: iso(15),
    });
    expect(refused.decisions).toEqual([]);
    state = evolveGuardrail(state, {
      type: 'BreakerReset',
      data: { operator: 'alice', reason: 'genuine churn', resetAt: iso(6) },
    });
    expect(state.breaker).toMatchObject({ open: false, lastReset: { operator: 'alice' } });
    expect(decidePermit(state, { tenantId: 'a-000001', cycle: 1 }, at(7), CONFIG).guard.allowed).toBe(true);
    // Two more within the window are within the threshold again; the third trips it anew.
    ({ state } = observe(state, 'd-000004', 8));
    ({ state } = observe(state, 'e-000005', 9));
    expect(state.breaker.open).toBe(false);
    expect(observe(state, 'f-000006', 10).state.breaker.open).toBe(true);
  });
});

describe('hourly purge cap', () => {
  function permit(state: GuardrailState, tenantId: string, minutes: number) {
    const result = decidePermit(state, { tenantId, cycle: 1 }, at(minutes), CONFIG);
    return { ...result, state: fold(state, result.decisions) };
  }

  it('permits up to the cap per rolling hour, then says when a slot frees', () => {
    let state = initialGuardrailState();
    for (const [tenant, minutes] of [
      ['a-000001', 0],
      ['b-000002', 10],
      ['c-000003', 20],
    ] as const) {
      const result = permit(state, tenant, minutes);
      expect(result.guard.allowed).toBe(true);
      expect(result.decisions.map((d) => d.type)).toEqual(['PurgePermitted']);
      state = result.state;
    }
    const refused = permit(state, 'd-000004', 30);
    expect(refused.guard).toEqual({
      allowed: false,
      reason: expect.objectContaining({ code: PURGE_CAP_REACHED }),
      retryAt: new Date(T0 + 3_600_000 + 1).toISOString(),
    });
    expect(permit(state, 'd-000004', 60).guard.allowed).toBe(true);
  });

  it('keeps a granted permit granted (a retried purge does not count twice)', () => {
    let state = initialGuardrailState();
    state = permit(state, 'a-000001', 0).state;
    const again = permit(state, 'a-000001', 1);
    expect(again.guard.allowed).toBe(true);
    expect(again.decisions).toEqual([]);
    // A new cancellation cycle of the same tenant is a new purge.
    expect(decidePermit(state, { tenantId: 'a-000001', cycle: 2 }, at(2), CONFIG).decisions).toHaveLength(1);
  });

  it('has the documented defaults', () => {
    expect(DEFAULT_GUARDRAIL_CONFIG).toMatchObject({
      purgesPerHour: 50,
      breakerCancellations: 20,
      breakerWindowMinutes: 60,
    });
  });
});

describe('snapshots', () => {
  const DAY = 24 * 60;
  const RETAINING: GuardrailConfig = { ...CONFIG, observedRetentionDays: 2 };

  it('compacts away old permits (a day) and old observations (the retention), keeping the breaker', () => {
    let state = initialGuardrailState();
    state = fold(
      state,
      decideObservation(state, { tenantId: 'a-000001', cycle: 1, arrivedAt: iso(0) }, at(0), RETAINING),
    );
    state = fold(state, decidePermit(state, { tenantId: 'a-000001', cycle: 1 }, at(1), RETAINING).decisions);
    state = fold(
      state,
      decideObservation(
        state,
        { tenantId: 'b-000002', cycle: 1, arrivedAt: iso(DAY + 5) },
        at(DAY + 5),
        RETAINING,
      ),
    );
    state = fold(
      state,
      decidePermit(state, { tenantId: 'b-000002', cycle: 1 }, at(DAY + 6), RETAINING).decisions,
    );
    state = evolveGuardrail(state, {
      type: 'BreakerTripped',
      data: { cancellations: 3, windowMinutes: 60, threshold: 2, trippedAt: iso(DAY + 7) },
    });

    const compacted = compactGuardrail(state, at(2 * DAY - 10), RETAINING);
    expect(compacted.revision).toBe(state.revision);
    expect(compacted.permits).toEqual({ 'b-000002#1': iso(DAY + 6) });
    expect(compacted.observed).toEqual({ 'a-000001#1': iso(0), 'b-000002#1': iso(DAY + 5) });
    expect(compactGuardrail(state, at(3 * DAY + 1), RETAINING).observed).toEqual({
      'b-000002#1': iso(DAY + 5),
    });
    expect(compactGuardrail(state, at(3 * DAY + 1), RETAINING).counted).toEqual([iso(DAY + 5)]);
    expect(compacted.breaker).toEqual(state.breaker);
    // A snapshot is a faithful, JSON-safe copy.
    const snapshot = JSON.parse(JSON.stringify(guardrailSnapshot(compacted, at(2 * DAY - 10))));
    expect(guardrailFromSnapshot(snapshot)).toEqual(compacted);
  });

  /**
   * Any history, compacted at any point: every later decision is the same as on the full state, except for a
   * cancellation older than the retention seen again, or a purge start retried more than a day after its
   * permit (both documented: the first is recorded again, the second takes a new slot).
   */
  it('decides exactly as the full state would, after compaction at any point', () => {
    type Op = { kind: 'observe' | 'permit' | 'reset'; tenant: number; advance: number };
    const op = fc.record({
      kind: fc.constantFrom<Op['kind']>('observe', 'observe', 'permit', 'permit', 'reset'),
      tenant: fc.integer({ min: 0, max: 11 }),
      advance: fc.oneof(fc.integer({ min: 0, max: 30 }), fc.integer({ min: 0, max: 2 * DAY })),
    });
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 60 }), fc.nat(), (ops, cut) => {
        const compactAt = cut % ops.length;
        let full = initialGuardrailState();
        let compacted = full;
        let minutes = 0;
        const firstSeen = new Map<number, number>();
        const permittedAt = new Map<number, number>();
        ops.forEach((next, index) => {
          minutes += next.advance;
          if (index === compactAt) compacted = compactGuardrail(full, at(minutes), RETAINING);
          const tenantId = `t-${String(next.tenant).padStart(6, '0')}`;
          const arrivedAt = firstSeen.get(next.tenant) ?? minutes;
          let fullDecisions: GuardrailDecision[];
          let compactedDecisions: GuardrailDecision[];
          if (next.kind === 'observe') {
            firstSeen.set(next.tenant, arrivedAt);
            const subject = { tenantId, cycle: 1, arrivedAt: iso(arrivedAt) };
            fullDecisions = decideObservation(full, subject, at(minutes), RETAINING);
            compactedDecisions = decideObservation(compacted, subject, at(minutes), RETAINING);
            if (index >= compactAt && minutes - arrivedAt > 2 * DAY) compactedDecisions = fullDecisions;
          } else if (next.kind === 'permit') {
            const subject = { tenantId, cycle: 1 };
            fullDecisions = decidePermit(full, subject, at(minutes), RETAINING).decisions;
            compactedDecisions = decidePermit(compacted, subject, at(minutes), RETAINING).decisions;
            const granted = permittedAt.get(next.tenant);
            if (index >= compactAt && granted !== undefined && minutes - granted > DAY) {
              compactedDecisions = fullDecisions;
            }
            if (granted === undefined && fullDecisions.length > 0) permittedAt.set(next.tenant, minutes);
          } else {
            const reset: GuardrailDecision = {
              type: 'BreakerReset',
              data: { operator: 'op', reason: 'r', resetAt: iso(minutes) },
            };
            fullDecisions = full.breaker.open ? [reset] : [];
            compactedDecisions = compacted.breaker.open ? [reset] : [];
          }
          expect(compactedDecisions).toEqual(fullDecisions);
          full = fold(full, fullDecisions);
          compacted = fold(compacted, fullDecisions);
        });
        expect(compacted.breaker).toEqual(full.breaker);
        expect(compacted.revision).toBe(full.revision);
      }),
      { numRuns: 300 },
    );
  });

  it('remembers the latest keyed resets through snapshots, and loads snapshots that have none', () => {
    const reset = (i: number, keyed: boolean): GuardrailDecision => ({
      type: 'BreakerReset',
      data: {
        operator: 'op',
        reason: `r${i}`,
        resetAt: iso(i),
        ...(keyed ? { requestId: `00000000-0000-5000-8000-${String(i).padStart(12, '0')}` } : {}),
      },
    });
    let state = initialGuardrailState();
    for (let i = 0; i < KEYED_RESETS_KEPT + 2; i++) state = evolveGuardrail(state, reset(i, i !== 5));
    // Unkeyed resets are not remembered; past the bound the oldest leave first.
    expect(state.keyedResets).toHaveLength(KEYED_RESETS_KEPT);
    expect(state.keyedResets?.map((r) => r.reason).slice(0, 2)).toEqual(['r1', 'r2']);
    expect(state.keyedResets?.at(-1)?.reason).toBe(`r${KEYED_RESETS_KEPT + 1}`);
    expect(state.keyedResets?.some((r) => r.reason === 'r5')).toBe(false);
    const compacted = compactGuardrail(state, at(10 * DAY), RETAINING);
    const snapshot = JSON.parse(JSON.stringify(guardrailSnapshot(compacted, at(10 * DAY))));
    expect(snapshot.keyedResets).toEqual(state.keyedResets);
    expect(guardrailFromSnapshot(snapshot)).toEqual(compacted);

    // A snapshot written before keyed resets existed still loads, and folds keyed resets from there on.
    const { keyedResets: _none, ...older } = snapshot;
    const loaded = guardrailFromSnapshot(older);
    expect(loaded.keyedResets).toBeUndefined();
    expect(evolveGuardrail(loaded, reset(500, true)).keyedResets?.map((r) => r.reason)).toEqual(['r500']);
  });
});
