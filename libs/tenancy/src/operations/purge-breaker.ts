import {
  rememberKeyedReset,
  purgeGuardrailSnapshotStream,
  purgeGuardrailStream,
  type GuardrailEventData,
  type GuardrailSnapshotData,
} from '@app/contracts';
import { readStreamOrEmpty, type EventStore, type RecordedEvent } from '@app/event-store';

/*
 * The operator's side of the mass-cancellation breaker (the orchestrator trips it and obeys it): its state as
 * the guardrail stream tells it.
 */

export const RESET_REASON_MAX_LENGTH = 500;

export interface BreakerStatus {
  open: boolean;
  trippedAt: string | null;
  /** Cancellations counted when it tripped, and the rule that tripped it. */
  trip: GuardrailEventData['BreakerTripped'] | null;
  lastReset: GuardrailEventData['BreakerReset'] | null;
  /** Purges permitted within the hour before `now`. */
  purgesLastHour: number;
}

/** The guardrail stream as operators read it: the orchestrator's latest snapshot, then what follows. */
export interface GuardrailHistory {
  snapshot?: GuardrailSnapshotData;
  events: readonly RecordedEvent[];
}

export interface ResetRequest {
  operator: string;
  reason: unknown;
  /** The Idempotency-Key header as sent (validated by the handler). */
  idempotencyKey?: unknown;
}

export interface ResetAccepted {
  eventId: string;
  status: BreakerStatus;
  /** True when this Idempotency-Key already reset the breaker: nothing new was appended. */
  duplicate: boolean;
}

export async function readGuardrailHistory(store: EventStore): Promise<GuardrailHistory> {
  const [latest] = await readStreamOrEmpty(store, purgeGuardrailSnapshotStream(), {
    direction: 'backwards',
    from: 'end',
    limit: 1,
  });
  const snapshot = latest?.data as GuardrailSnapshotData | undefined;
  const events = await readStreamOrEmpty(store, purgeGuardrailStream(), { from: snapshot?.revision ?? 0 });
  return { snapshot, events };
}

/** The revision a reset must append after: the last event read, or the last one the snapshot folded. */
export function lastRevision(history: GuardrailHistory): number | 'no_stream' {
  const last = history.events.at(-1);
  if (last) return last.revision;
  return history.snapshot && history.snapshot.revision > 0 ? history.snapshot.revision - 1 : 'no_stream';
}

/** The breaker as the snapshot and the events after it say: open from a trip until the next reset. */
export function breakerStatus(history: GuardrailHistory, now: Date): BreakerStatus {
  const { snapshot, events } = history;
  let trip: GuardrailEventData['BreakerTripped'] | null = snapshot?.breaker.trip ?? null;
  let lastReset: GuardrailEventData['BreakerReset'] | null = snapshot?.breaker.lastReset ?? null;
  let open = snapshot?.breaker.open ?? false;
  const inLastHour = (instant: string) => {
    const at = Date.parse(instant);
    return at > now.getTime() - 3_600_000 && at <= now.getTime();
  };
  let purgesLastHour = Object.values(snapshot?.permits ?? {}).filter(inLastHour).length;
  for (const event of events) {
    if (event.type === 'BreakerTripped' && !open) {
      open = true;
      trip = event.data as GuardrailEventData['BreakerTripped'];
    } else if (event.type === 'BreakerReset') {
      open = false;
      lastReset = event.data as GuardrailEventData['BreakerReset'];
    } else if (event.type === 'PurgePermitted') {
      if (inLastHour((event.data as GuardrailEventData['PurgePermitted']).permittedAt)) purgesLastHour += 1;
    }
  }
  return {
    open,
    trippedAt: open ? (trip?.trippedAt ?? null) : null,
    trip: open ? trip : null,
    lastReset,
    purgesLastHour,
  };
}

/**
 * The keyed reset this history remembers under `requestId` (the snapshot's bounded list, then the events after
 * it, folded by the orchestrator's rule), or undefined.
 */
export function keyedReset(
  history: GuardrailHistory,
  requestId: string,
): GuardrailEventData['BreakerReset'] | undefined {
  let kept = history.snapshot?.keyedResets ?? [];
  for (const event of history.events) {
    if (event.type === 'BreakerReset') {
      kept = rememberKeyedReset(kept, event.data as GuardrailEventData['BreakerReset']);
    }
  }
  return kept.find((reset) => reset.requestId === requestId);
}
