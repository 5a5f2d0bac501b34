import {
  rememberKeyedReset,
  type FailureReason,
  type GuardrailEventData,
  type GuardrailEventType,
  type GuardrailSnapshotData,
} from '@app/contracts';

/**
 * Guardrails against mass deletion, across tenants: at most N purges start per rolling hour, and a circuit
 * breaker pauses every purge when more than M cancellations arrive within a window, until an operator resets
 * it. Pure fold and decisions over the global guardrail stream; the runtime owns the I/O and hands the
 * per-tenant decider only the answer (a `PurgeGuard`), so the tenant decider stays pure and per tenant.
 */

export interface GuardrailConfig {
  /** PurgeStarted events allowed per rolling hour, across every tenant. */
  purgesPerHour: number;
  /** The breaker trips when more than this many cancellations arrive within the window. */
  breakerCancellations: number;
  breakerWindowMinutes: number;
  /** How long a purge refused by the open breaker waits before it is decided (and alerted) again. */
  breakerRecheckSeconds: number;
  /** A snapshot is taken once this many guardrail events follow the last one (default 500). */
  snapshotEvery?: number;
  /**
   * Days an observed cancellation is remembered (default 400: longer than the longest grace period, so a
   * tenant still waiting for its purge is never counted twice).
   */
  observedRetentionDays?: number;
}

export const DEFAULT_GUARDRAIL_CONFIG: GuardrailConfig = {
  purgesPerHour: 50,
  breakerCancellations: 20,
  breakerWindowMinutes: 60,
  breakerRecheckSeconds: 3600,
};

export const PURGE_BREAKER_OPEN = 'ORCHESTRATOR.PURGE_BREAKER_OPEN';
export const PURGE_CAP_REACHED = 'ORCHESTRATOR.PURGE_CAP_REACHED';
export const PURGE_NOT_AUTHORISED = 'ORCHESTRATOR.PURGE_NOT_AUTHORISED';

/** What the tenant decider is told about a purge it is about to start. */
export type PurgeGuard = { allowed: true } | { allowed: false; reason: FailureReason; retryAt: string };

/** Unit tests and single-tenant tools: nothing global restrains the purge. */
export const PURGE_ALLOWED: PurgeGuard = { allowed: true };

export type GuardrailDecision = {
  [K in GuardrailEventType]: { type: K; data: GuardrailEventData[K] };
}[GuardrailEventType];

export interface GuardrailState {
  /** Events folded; the runtime appends with the matching expected revision. */
  revision: number;
  /** `tenantId#cycle` → when the cancellation arrived. */
  observed: Readonly<Record<string, string>>;
  /** `tenantId#cycle` → when its purge was permitted. */
  permits: Readonly<Record<string, string>>;
  /** Arrival instants of the cancellations the breaker still counts (those since the last reset). */
  counted: readonly string[];
  breaker: {
    open: boolean;
    /** The trip that opened it (kept while open). */
    trip?: GuardrailEventData['BreakerTripped'];
    lastReset?: GuardrailEventData['BreakerReset'];
  };
  /**
   * The latest resets made with an Idempotency-Key, kept through snapshots so the API still recognises a
   * retried reset (and never lets it reset a breaker that tripped again) once its event is folded away.
   */
  keyedResets?: readonly GuardrailEventData['BreakerReset'][];
}

export function initialGuardrailState(): GuardrailState {
  return { revision: 0, observed: {}, permits: {}, counted: [], breaker: { open: false } };
}

export const DEFAULT_SNAPSHOT_EVERY = 500;
const DEFAULT_OBSERVED_RETENTION_DAYS = 400;
/** Permits matter for the rolling hour and for a purge start retried after a crash: a day is plenty. */
const PERMIT_RETENTION_MS = 24 * 3_600_000;

/**
 * The state without what no decision can need any more at `now`: permits older than a day, observations
 * and counted arrivals older than the retention. Decisions on the compacted state equal those on the full
 * one for every cancellation younger than the retention (tested).
 */
export function compactGuardrail(state: GuardrailState, now: Date, config: GuardrailConfig): GuardrailState {
  const retentionDays = config.observedRetentionDays ?? DEFAULT_OBSERVED_RETENTION_DAYS;
  const observedHorizon = now.getTime() - retentionDays * 86_400_000;
  const permitHorizon = now.getTime() - PERMIT_RETENTION_MS;
  const keep = (entries: Readonly<Record<string, string>>, horizon: number) =>
    Object.fromEntries(Object.entries(entries).filter(([, instant]) => !(Date.parse(instant) < horizon)));
  return {
    ...state,
    observed: keep(state.observed, observedHorizon),
    permits: keep(state.permits, permitHorizon),
    counted: state.counted.filter((instant) => !(Date.parse(instant) < observedHorizon)),
  };
}

export function guardrailSnapshot(state: GuardrailState, takenAt: Date): GuardrailSnapshotData {
  return {
    revision: state.revision,
    takenAt: takenAt.toISOString(),
    observed: { ...state.observed },
    permits: { ...state.permits },
    counted: [...state.counted],
    breaker: {
      open: state.breaker.open,
      trip: state.breaker.trip ?? null,
      lastReset: state.breaker.lastReset ?? null,
    },
    ...(state.keyedResets?.length ? { keyedResets: [...state.keyedResets] } : {}),
  };
}

export function guardrailFromSnapshot(snapshot: GuardrailSnapshotData): GuardrailState {
  return {
    revision: snapshot.revision,
    observed: { ...snapshot.observed },
    permits: { ...snapshot.permits },
    counted: [...snapshot.counted],
    breaker: {
      open: snapshot.breaker.open,
      ...(snapshot.breaker.trip ? { trip: snapshot.breaker.trip } : {}),
      ...(snapshot.breaker.lastReset ? { lastReset: snapshot.breaker.lastReset } : {}),
    },
    // Snapshots written before keyed resets were remembered have none.
    ...(snapshot.keyedResets?.length ? { keyedResets: [...snapshot.keyedResets] } : {}),
  };
}

export function guardedCancellationKey(tenantId: string, cycle: number): string {
  return `${tenantId}#${cycle}`;
}

export function evolveGuardrail(state: GuardrailState, event: GuardrailDecision): GuardrailState {
  const next = evolveOne(state, event);
  return { ...next, revision: state.revision + 1 };
}

function evolveOne(state: GuardrailState, event: GuardrailDecision): GuardrailState {
  switch (event.type) {
    case 'CancellationObserved': {
      const key = guardedCancellationKey(event.data.tenantId, event.data.cycle);
      if (state.observed[key]) return state;
      return {
        ...state,
        observed: { ...state.observed, [key]: event.data.observedAt },
        counted: [...state.counted, event.data.observedAt],
      };
    }
    case 'PurgePermitted': {
      const key = guardedCancellationKey(event.data.tenantId, event.data.cycle);
      if (state.permits[key]) return state;
      return { ...state, permits: { ...state.permits, [key]: event.data.permittedAt } };
    }
    case 'BreakerTripped':
      if (state.breaker.open) return state;
      return { ...state, breaker: { ...state.breaker, open: true, trip: event.data } };
    case 'BreakerReset':
      // The operator vouched for every cancellation seen so far: the breaker counts afresh from here.
      return {
        ...state,
        counted: [],
        breaker: { open: false, lastReset: event.data },
        ...(event.data.requestId
          ? { keyedResets: rememberKeyedReset(state.keyedResets ?? [], event.data) }
          : {}),
      };
    default:
      return ignoreUnknown(event, state);
  }
}

/** Compile-time exhaustiveness; at run time an event type from a newer version is ignored. */
function ignoreUnknown(_event: never, state: GuardrailState): GuardrailState {
  return state;
}

/**
 * Records a cancellation (once per tenant and cycle) and trips the breaker when some window of
 * `breakerWindowMinutes` now holds more than `breakerCancellations` arrivals. Arrival instants come from the
 * tenant streams, so the answer does not depend on when (or by which instance) the cancellation is observed.
 */
export function decideObservation(
  state: GuardrailState,
  cancellation: { tenantId: string; cycle: number; arrivedAt: string },
  now: Date,
  config: GuardrailConfig,
): GuardrailDecision[] {
  if (state.observed[guardedCancellationKey(cancellation.tenantId, cancellation.cycle)]) return [];
  const decisions: GuardrailDecision[] = [
    {
      type: 'CancellationObserved',
      data: {
        tenantId: cancellation.tenantId,
        cycle: cancellation.cycle,
        observedAt: cancellation.arrivedAt,
      },
    },
  ];
  if (state.breaker.open) return decisions;
  const count = busiestWindow([...state.counted, cancellation.arrivedAt], cancellation.arrivedAt, config);
  if (count > config.breakerCancellations) {
    decisions.push({
      type: 'BreakerTripped',
      data: {
        cancellations: count,
        windowMinutes: config.breakerWindowMinutes,
        threshold: config.breakerCancellations,
        trippedAt: now.toISOString(),
      },
    });
  }
  return decisions;
}

/** The most arrivals inside one window of the configured length that contains `around`. */
function busiestWindow(instants: readonly string[], around: string, config: GuardrailConfig): number {
  const window = config.breakerWindowMinutes * 60_000;
  const pivot = Date.parse(around);
  const times = instants
    .map((instant) => Date.parse(instant))
    .filter((time) => !Number.isNaN(time) && Math.abs(time - pivot) <= window)
    .sort((a, b) => a - b);
  let best = 0;
  for (const start of times) {
    if (start > pivot || start + window < pivot) continue;
    best = Math.max(best, times.filter((time) => time >= start && time <= start + window).length);
  }
  return best;
}

export type PermitDecision =
  | { guard: { allowed: true }; decisions: GuardrailDecision[] }
  | { guard: Extract<PurgeGuard, { allowed: false }>; decisions: [] };

/**
 * Whether the purge of this cancellation may start now. A permit, once granted, stays granted (a retry after
 * a lost append must not count twice); otherwise the breaker must be closed and the rolling hour under its cap.
 */
export function decidePermit(
  state: GuardrailState,
  cancellation: { tenantId: string; cycle: number },
  now: Date,
  config: GuardrailConfig,
): PermitDecision {
  if (state.permits[guardedCancellationKey(cancellation.tenantId, cancellation.cycle)]) {
    return { guard: { allowed: true }, decisions: [] };
  }
  if (state.breaker.open) {
    return {
      guard: {
        allowed: false,
        reason: {
          code: PURGE_BREAKER_OPEN,
          message:
            `purges are paused: the mass-cancellation breaker tripped at ${state.breaker.trip?.trippedAt ?? 'unknown'}; ` +
            'an operator must confirm (POST /api/v1/guardrails/purge-breaker/reset)',
          retryable: true,
        },
        retryAt: new Date(now.getTime() + config.breakerRecheckSeconds * 1000).toISOString(),
      },
      decisions: [],
    };
  }
  const hourAgo = now.getTime() - 3_600_000;
  const recent = Object.values(state.permits)
    .map((instant) => Date.parse(instant))
    .filter((time) => time > hourAgo && time <= now.getTime())
    .sort((a, b) => a - b);
  if (recent.length >= config.purgesPerHour) {
    return {
      guard: {
        allowed: false,
        reason: {
          code: PURGE_CAP_REACHED,
          message: `${recent.length} purges started within the last hour (cap ${config.purgesPerHour})`,
          retryable: true,
        },
        // The oldest permit of the hour leaves the window then, freeing one slot.
        retryAt: new Date(recent[0] + 3_600_000 + 1).toISOString(),
      },
      decisions: [],
    };
  }
  return {
    guard: { allowed: true },
    decisions: [
      {
        type: 'PurgePermitted',
        data: { ...cancellation, permittedAt: now.toISOString() },
      },
    ],
  };
}
