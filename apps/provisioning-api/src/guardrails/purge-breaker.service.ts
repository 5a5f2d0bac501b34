import {
  buildMetadata,
  deterministicId,
  purgeGuardrailSnapshotStream,
  purgeGuardrailStream,
  type GuardrailEventData,
  type GuardrailSnapshotData,
} from '@app/contracts';
import { decideAndAppend, readStreamOrEmpty, type EventStore, type RecordedEvent } from '@app/event-store';
import { randomUUID } from 'node:crypto';
import { OPERATOR_NAME_PATTERN } from '../operations/operations.service';
import { GUARDRAIL_ERROR_CODES, GuardrailError } from './guardrails.errors';

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

/** The guardrail stream as this service reads it: the orchestrator's latest snapshot, then what follows. */
export interface GuardrailHistory {
  snapshot?: GuardrailSnapshotData;
  events: readonly RecordedEvent[];
}

export interface ResetAccepted {
  eventId: string;
  status: BreakerStatus;
}

/**
 * The operator's side of the mass-cancellation breaker (the orchestrator trips it and obeys it): read its
 * state from the guardrail stream, and confirm the cancellations are genuine with `BreakerReset`, which
 * records who and why in the stream before any held purge resumes.
 */
export class PurgeBreaker {
  constructor(
    private readonly store: EventStore,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async status(): Promise<BreakerStatus> {
    return breakerStatus(await this.read(), this.now());
  }

  async reset(request: { operator: string; reason: unknown }): Promise<ResetAccepted> {
    const reason = typeof request.reason === 'string' ? request.reason.trim() : '';
    if (reason.length === 0 || reason.length > RESET_REASON_MAX_LENGTH) {
      throw new GuardrailError(GUARDRAIL_ERROR_CODES.VALIDATION_FAILED, 'a reason is required', [
        {
          field: 'reason',
          rules: ['isNotEmpty', 'maxLength'],
          messages: [`reason must be 1-${RESET_REASON_MAX_LENGTH} characters`],
        },
      ]);
    }
    // The same rule as the other operator actions: the name lands in the stream and in `operator:<name>`.
    if (!OPERATOR_NAME_PATTERN.test(request.operator)) {
      throw new GuardrailError(GUARDRAIL_ERROR_CODES.VALIDATION_FAILED, 'invalid operator name', [
        {
          field: 'operator',
          rules: ['matches'],
          messages: [`operator name must match ${OPERATOR_NAME_PATTERN}`],
        },
      ]);
    }
    return decideAndAppend(
      this.store,
      purgeGuardrailStream(),
      async () => {
        const history = await this.read();
        const status = breakerStatus(history, this.now());
        if (!status.open) {
          throw new GuardrailError(GUARDRAIL_ERROR_CODES.BREAKER_NOT_OPEN, 'the purge breaker is not open');
        }
        const resetAt = this.now().toISOString();
        const data: GuardrailEventData['BreakerReset'] = { operator: request.operator, reason, resetAt };
        const eventId = randomUUID();
        const metadata = buildMetadata(
          {
            tenantId: '',
            correlationId: deterministicId('guardrail-correlation', 'breaker-reset', eventId),
            actor: `operator:${request.operator}`,
          },
          eventId,
          this.now(),
        );
        return {
          append: [{ id: eventId, type: 'BreakerReset', data, metadata }],
          // The revision read: a reset never lands on a breaker state the operator did not see.
          expectedRevision: lastRevision(history),
          result: { eventId, status: { ...status, open: false, lastReset: data } },
        };
      },
      {
        exhausted: () =>
          new GuardrailError(GUARDRAIL_ERROR_CODES.CONCURRENCY_EXHAUSTED, 'the guardrail stream is too busy'),
      },
    );
  }

  private async read(): Promise<GuardrailHistory> {
    const [latest] = await readStreamOrEmpty(this.store, purgeGuardrailSnapshotStream(), {
      direction: 'backwards',
      from: 'end',
      limit: 1,
    });
    const snapshot = latest?.data as GuardrailSnapshotData | undefined;
    const events = await readStreamOrEmpty(this.store, purgeGuardrailStream(), {
      from: snapshot?.revision ?? 0,
    });
    return { snapshot, events };
  }
}

/** The revision a reset must append after: the last event read, or the last one the snapshot folded. */
function lastRevision(history: GuardrailHistory): number | 'no_stream' {
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
