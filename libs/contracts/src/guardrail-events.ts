import type { Message } from './envelope';

/**
 * The events of the purge guardrail stream (`purgeGuardrailStream()`), written by the orchestrator and
 * operators, and the snapshot that bounds how much of it a reader folds.
 */

export interface GuardrailEventData {
  /** A cancellation seen by the breaker (one per tenant and cancellation cycle). */
  CancellationObserved: { tenantId: string; cycle: number; observedAt: string };
  /** A purge allowed under the hourly cap; the tenant's PurgeStarted follows it. */
  PurgePermitted: { tenantId: string; cycle: number; permittedAt: string };
  /** More cancellations than allowed arrived within the window: purges pause until an operator resets. */
  BreakerTripped: { cancellations: number; windowMinutes: number; threshold: number; trippedAt: string };
  /**
   * An operator confirmed the cancellations are genuine; purges resume. `requestId` is set when the reset
   * carried an Idempotency-Key: the id derived from the operator and the key (also the event's id), by which a
   * retry finds it.
   */
  BreakerReset: { operator: string; reason: string; resetAt: string; requestId?: string };
}
export type GuardrailEventType = keyof GuardrailEventData;

/**
 * The guardrail state folded from `purgeGuardrailStream()` up to `revision`, compacted (entries older than
 * the retention dropped) and stored as `GuardrailSnapshotTaken` on `purgeGuardrailSnapshotStream()`: readers
 * start from the latest snapshot and fold only the events after it, so start-up time and memory stay
 * bounded however long the guardrail stream grows. The guardrail stream itself is never truncated.
 */
export interface GuardrailSnapshotData {
  /** Guardrail-stream events folded: the first event after the snapshot is at this revision. */
  revision: number;
  takenAt: string;
  /** `tenantId#cycle` → arrival of the cancellation (the breaker counts each once). */
  observed: Record<string, string>;
  /** `tenantId#cycle` → when its purge was permitted. */
  permits: Record<string, string>;
  /** Arrival instants the breaker still counts (since the last reset). */
  counted: string[];
  breaker: {
    open: boolean;
    trip: GuardrailEventData['BreakerTripped'] | null;
    lastReset: GuardrailEventData['BreakerReset'] | null;
  };
  /**
   * The latest resets that carried an Idempotency-Key (those with a `requestId`), oldest first, at most
   * `KEYED_RESETS_KEPT`: a retried reset is recognised once its event is folded away. Absent from snapshots
   * written before keyed resets existed (read as none).
   */
  keyedResets?: GuardrailEventData['BreakerReset'][];
}
/**
 * Keyed resets the guardrail state remembers. Resets follow trips, which are rare: a hundred reach back far
 * beyond any client's retry, and keep a snapshot small however long the stream grows.
 */
export const KEYED_RESETS_KEPT = 100;

/** The keyed resets remembered once `reset` is folded: it joins them when keyed, the oldest leave past the bound. */
export function rememberKeyedReset(
  kept: readonly GuardrailEventData['BreakerReset'][],
  reset: GuardrailEventData['BreakerReset'],
): GuardrailEventData['BreakerReset'][] {
  return reset.requestId ? [...kept, reset].slice(-KEYED_RESETS_KEPT) : [...kept];
}
export const GUARDRAIL_SNAPSHOT_EVENT = 'GuardrailSnapshotTaken';
export type GuardrailEvent<T extends GuardrailEventType = GuardrailEventType> = T extends GuardrailEventType
  ? Message<T, GuardrailEventData[T]>
  : never;
