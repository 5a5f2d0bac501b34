import { buildEvent, deterministicId, purgeGuardrailStream, type GuardrailEventData } from '@app/contracts';
import { decideAndAppend, EVENT_STORE, type EventStore } from '@app/event-store';
import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { invalidRequest, UseCaseError } from '../errors';
import { CLOCK, REQUESTS_IN_FLIGHT, TENANCY_OPTIONS, type Clock, type TenancyOptions } from '../tokens';
import { ResetPurgeBreaker } from './operator.commands';
import {
  idempotencyKeyOf,
  idempotencyViolations,
  operatorActor,
  operatorViolations,
} from './operator-request';
import {
  breakerStatus,
  keyedReset,
  lastRevision,
  readGuardrailHistory,
  RESET_REASON_MAX_LENGTH,
  type ResetAccepted,
} from './purge-breaker';
import type { RequestsInFlight } from './requests-in-flight';

/**
 * `BreakerReset`: an operator confirms the cancellations that tripped the breaker are genuine, recorded with
 * who and why in the guardrail stream before any held purge resumes.
 *
 * With an Idempotency-Key the reset's id derives from the operator and the key, and is recorded in the event
 * (`requestId`) and in the guardrail state the orchestrator snapshots: a retry is answered as the repeat it is
 * even after the breaker tripped again, so a stale retry never confirms cancellations its operator never saw.
 */
@CommandHandler(ResetPurgeBreaker)
export class ResetPurgeBreakerHandler implements ICommandHandler<ResetPurgeBreaker> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(TENANCY_OPTIONS) private readonly options: TenancyOptions,
    @Inject(REQUESTS_IN_FLIGHT) private readonly inFlight: RequestsInFlight,
  ) {}

  async execute({ request }: ResetPurgeBreaker): Promise<ResetAccepted> {
    const reason = typeof request.reason === 'string' ? request.reason.trim() : '';
    if (reason.length === 0 || reason.length > RESET_REASON_MAX_LENGTH) {
      throw invalidRequest('a reason is required', [
        {
          field: 'reason',
          rules: ['isNotEmpty', 'maxLength'],
          messages: [`reason must be 1-${RESET_REASON_MAX_LENGTH} characters`],
        },
      ]);
    }
    // The same rules as the other operator actions: the name lands in the stream and in `operator:<name>`.
    const violations = [
      ...operatorViolations(request.operator),
      ...idempotencyViolations(request.idempotencyKey),
    ];
    if (violations.length > 0) throw invalidRequest('invalid reset request', violations);
    const idempotencyKey = idempotencyKeyOf(request.idempotencyKey);
    const eventId = idempotencyKey
      ? deterministicId('breaker-reset', request.operator, idempotencyKey)
      : this.options.newId();
    return this.inFlight.run({ eventId, idempotencyKey }, () =>
      this.reset(request.operator, reason, eventId, idempotencyKey !== undefined),
    );
  }

  private reset(operator: string, reason: string, eventId: string, keyed: boolean): Promise<ResetAccepted> {
    return decideAndAppend<ResetAccepted>(
      this.store,
      purgeGuardrailStream(),
      async () => {
        const history = await readGuardrailHistory(this.store);
        const now = this.clock();
        const status = breakerStatus(history, now);
        const earlier = keyed ? keyedReset(history, eventId) : undefined;
        if (earlier) {
          if (earlier.reason !== reason) {
            throw new UseCaseError(
              'OPERATION.IDEMPOTENCY_KEY_REUSED',
              'this Idempotency-Key was already used to reset the breaker with another reason',
            );
          }
          // The breaker as it is now: a repeat resets nothing, whatever happened since.
          return { append: [], expectedRevision: 'any', result: { eventId, status, duplicate: true } };
        }
        if (!status.open)
          throw new UseCaseError('GUARDRAIL.BREAKER_NOT_OPEN', 'the purge breaker is not open');
        const data: GuardrailEventData['BreakerReset'] = {
          operator,
          reason,
          resetAt: now.toISOString(),
          ...(keyed ? { requestId: eventId } : {}),
        };
        const event = buildEvent(
          'BreakerReset',
          data,
          {
            tenantId: '',
            correlationId: deterministicId('guardrail-correlation', 'breaker-reset', eventId),
            actor: operatorActor(operator),
          },
          eventId,
          now,
        );
        return {
          append: [event],
          // The revision read: a reset never lands on a breaker state the operator did not see.
          expectedRevision: lastRevision(history),
          result: { eventId, status: { ...status, open: false, lastReset: data }, duplicate: false },
        };
      },
      {
        exhausted: () =>
          new UseCaseError('GUARDRAIL.CONCURRENCY_EXHAUSTED', 'the guardrail stream is too busy'),
      },
    );
  }
}
