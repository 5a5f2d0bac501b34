/**
 * The grace period rule shared by the intake (which records the deletion date) and the orchestrator (which
 * enforces it again on whatever the stream holds): no tenant is deleted before the grace period has run, whatever
 * date billing sends. Deleting earlier takes an operator's purge request (`OperatorPurgeRequested`).
 */

const DAY_MS = 86_400_000;
/** How much older than its receipt billing's timestamp may be before the default's clamp is recorded. */
const TRANSIT_ALLOWANCE_MS = 60_000;

/**
 * The earliest deletion date of a cancellation made at `requestTime`: exactly `gracePeriodDays` days later
 * (issue 17: "never earlier than the request time plus GRACE_PERIOD_DAYS"). The spec's own example, cancelled on
 * 15 June at 10:00 with an effective date of 15 July at 00:00, is therefore held until 15 July at 10:00, and the
 * clamp says so: a grace period is never shorter than announced, not even by hours.
 */
export function earliestDeletionDate(requestTime: Date, gracePeriodDays: number): Date {
  return new Date(requestTime.getTime() + gracePeriodDays * DAY_MS);
}

export interface DeletionDateInput {
  /** When this system received the cancellation (its own clock: a replayed or delayed message cannot shorten it). */
  receivedAt: Date;
  /** Billing's timestamp of the cancellation, ISO-8601. */
  requestedAt: string;
  /** Billing's `effective_date`, exactly as sent, when it sent one. */
  effectiveDate?: string;
  gracePeriodDays: number;
}

export interface DeletionDateDecision {
  /** ISO-8601 instant after which the tenant is purged. */
  deletionDate: string;
  /** Billing's `effective_date` exactly as sent (absent when it sent none). */
  requestedEffectiveDate?: string;
  /** Why the deletion date is not the one billing asked for (absent when it is). */
  clampedReason?: string;
}

/**
 * The deletion date of a cancellation: billing's `effective_date` when it lies at or after the end of the grace
 * period, else the end of the grace period, with the reason recorded.
 */
export function resolveDeletionDate(input: DeletionDateInput): DeletionDateDecision {
  const { receivedAt, requestedAt, effectiveDate, gracePeriodDays } = input;
  const earliest = earliestDeletionDate(receivedAt, gracePeriodDays);
  const recorded = effectiveDate === undefined ? {} : { requestedEffectiveDate: effectiveDate };
  const clamp = (why: string): DeletionDateDecision => ({
    deletionDate: earliest.toISOString(),
    ...recorded,
    clampedReason: `${why}: deletion moved to ${earliest.toISOString()}, the end of the ${gracePeriodDays}-day grace period (deleting earlier takes an operator's purge request)`,
  });

  if (effectiveDate === undefined) {
    const byDefault = Date.parse(requestedAt) + gracePeriodDays * DAY_MS;
    if (Number.isNaN(byDefault)) return clamp(`timestamp ${JSON.stringify(requestedAt)} is not a date`);
    if (byDefault >= earliest.getTime()) return { deletionDate: new Date(byDefault).toISOString() };
    // Billing's timestamp always precedes the receipt by the time in transit: that is no news, and the receipt
    // counts. Only a message older than that (delayed or replayed) is worth a recorded reason.
    if (earliest.getTime() - byDefault <= TRANSIT_ALLOWANCE_MS)
      return { deletionDate: earliest.toISOString() };
    return clamp(`timestamp ${requestedAt} is older than its receipt by more than a minute`);
  }
  const effective = Date.parse(effectiveDate);
  if (Number.isNaN(effective)) return clamp(`effective_date ${JSON.stringify(effectiveDate)} is not a date`);
  if (effective < earliest.getTime()) {
    return clamp(`effective_date ${effectiveDate} is before the end of the grace period`);
  }
  return { deletionDate: new Date(effective).toISOString(), ...recorded };
}
