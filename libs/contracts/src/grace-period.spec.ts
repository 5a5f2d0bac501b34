import { earliestDeletionDate, resolveDeletionDate } from './grace-period';

// Issue 17: the deletion date is never earlier than the request time plus GRACE_PERIOD_DAYS, to the millisecond.
const receivedAt = new Date('2025-06-15T10:00:05.000Z');
const base = { receivedAt, requestedAt: '2025-06-15T10:00:00.000Z', gracePeriodDays: 30 };
/** The receipt time plus exactly 30 × 24 h (not midnight of either day). */
const GRACE_END = '2025-07-15T10:00:05.000Z';

describe('earliestDeletionDate', () => {
  it('adds exactly N × 24 h to the request time, whatever its time of day', () => {
    expect(earliestDeletionDate(receivedAt, 30).toISOString()).toBe(GRACE_END);
    expect(earliestDeletionDate(new Date('2025-06-15T23:59:59.999Z'), 30).toISOString()).toBe(
      '2025-07-15T23:59:59.999Z',
    );
    expect(earliestDeletionDate(new Date('2025-06-16T00:00:00.000Z'), 30).toISOString()).toBe(
      '2025-07-16T00:00:00.000Z',
    );
    expect(earliestDeletionDate(new Date('2025-06-15T10:00:05.000Z'), 7).toISOString()).toBe(
      '2025-06-22T10:00:05.000Z',
    );
    expect(earliestDeletionDate(receivedAt, 0).toISOString()).toBe(receivedAt.toISOString());
  });
});

describe('resolveDeletionDate', () => {
  it("clamps the spec's example (received 15 June 10:00:05, effective 15 July 00:00) to 15 July 10:00:05", () => {
    const decided = resolveDeletionDate({ ...base, effectiveDate: '2025-07-15T00:00:00Z' });
    expect(decided).toEqual({
      deletionDate: GRACE_END,
      requestedEffectiveDate: '2025-07-15T00:00:00Z',
      clampedReason:
        'effective_date 2025-07-15T00:00:00Z is before the end of the grace period: deletion moved to ' +
        `${GRACE_END}, the end of the 30-day grace period (deleting earlier takes an operator's purge request)`,
    });
  });

  it.each([
    ['exactly at the end of the grace period', '2025-07-15T10:00:05.000Z', GRACE_END],
    ['exactly at the end of the grace period, in another offset', '2025-07-15T12:00:05+02:00', GRACE_END],
    ['later than the grace period', '2025-12-31T18:00:00+01:00', '2025-12-31T17:00:00.000Z'],
  ])('honours an effective_date %s, without a clamp', (_, effective, deletionDate) => {
    expect(resolveDeletionDate({ ...base, effectiveDate: effective })).toEqual({
      deletionDate,
      requestedEffectiveDate: effective,
    });
  });

  it.each([
    ['in the past', '2024-01-01T00:00:00Z'],
    ['now', '2025-06-15T10:00:05.000Z'],
    ['at midnight UTC of the last day', '2025-07-15T00:00:00.000Z'],
    ['one millisecond before the end of the grace period', '2025-07-15T10:00:04.999Z'],
  ])(
    'clamps an effective_date %s to the end of the grace period, keeping it and saying why',
    (_, effective) => {
      const decided = resolveDeletionDate({ ...base, effectiveDate: effective });
      expect(decided).toEqual({
        deletionDate: GRACE_END,
        requestedEffectiveDate: effective,
        clampedReason: expect.stringContaining(
          `effective_date ${effective} is before the end of the grace period`,
        ),
      });
      expect(decided.clampedReason).toContain(`deletion moved to ${GRACE_END}`);
      expect(decided.clampedReason).toContain('30-day grace period');
    },
  );

  it('clamps an effective_date that is not a date instead of trusting it', () => {
    expect(resolveDeletionDate({ ...base, effectiveDate: 'next week' })).toEqual({
      deletionDate: GRACE_END,
      requestedEffectiveDate: 'next week',
      clampedReason: expect.stringContaining('effective_date "next week" is not a date'),
    });
  });

  it.each([
    ['received at once', '2025-06-15T10:00:05.000Z', GRACE_END],
    ["ahead of this system's clock", '2025-06-15T10:02:00.000Z', '2025-07-15T10:02:00.000Z'],
  ])(
    'defaults to exactly the grace period after billing’s timestamp %s, without a clamp',
    (_, at, expected) => {
      expect(resolveDeletionDate({ ...base, requestedAt: at })).toEqual({ deletionDate: expected });
    },
  );

  it('counts the default from the receipt, without a reason, when the timestamp is only in transit (seconds)', () => {
    expect(resolveDeletionDate({ ...base, requestedAt: '2025-06-15T10:00:00.000Z' })).toEqual({
      deletionDate: GRACE_END,
    });
  });

  it.each([
    ['older than its receipt by more than a minute', '2025-06-15T09:59:04.999Z'],
    ['of a delayed or replayed message', '2025-05-01T10:00:00.000Z'],
  ])('never lets a timestamp %s shorten the default: receipt + 30 days, and why', (_, requestedAt) => {
    const decided = resolveDeletionDate({ ...base, requestedAt });
    expect(decided).toEqual({
      deletionDate: GRACE_END,
      clampedReason: expect.stringContaining(
        `timestamp ${requestedAt} is older than its receipt by more than a minute`,
      ),
    });
    expect(decided.clampedReason).toContain(`deletion moved to ${GRACE_END}`);
    expect(decided).not.toHaveProperty('requestedEffectiveDate');
  });

  it('clamps a default whose timestamp is not a date to receipt + 30 days', () => {
    expect(resolveDeletionDate({ ...base, requestedAt: 'yesterday' })).toEqual({
      deletionDate: GRACE_END,
      clampedReason: expect.stringContaining('timestamp "yesterday" is not a date'),
    });
  });

  it('uses the configured grace period, to the millisecond', () => {
    const week = { ...base, gracePeriodDays: 7 };
    expect(resolveDeletionDate({ ...week, effectiveDate: '2025-06-22T00:00:00Z' })).toEqual(
      expect.objectContaining({
        deletionDate: '2025-06-22T10:00:05.000Z',
        clampedReason: expect.any(String),
      }),
    );
    expect(resolveDeletionDate({ ...week, effectiveDate: '2025-06-22T10:00:05Z' })).toEqual({
      deletionDate: '2025-06-22T10:00:05.000Z',
      requestedEffectiveDate: '2025-06-22T10:00:05Z',
    });
  });
});
