import { buildEvent, deterministicId, purgeGuardrailStream, type GuardrailEventData } from '@app/contracts';
import { decideAndAppend, EVENT_STORE, type EventStore } from '@app/event-store';
import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { invalidRequest, UseCaseError } from '../errors';
import { CLOCK, TENANCY_OPTIONS, type Clock, type TenancyOptions } from '../tokens';
import { ResetPurgeBreaker } from './operator.commands';
import { operatorActor, operatorViolations } from './operator-request';
import {
  breakerStatus,
  lastRevision,
  readGuardrailHistory,
  RESET_REASON_MAX_LENGTH,
  type ResetAccepted,
} from './purge-breaker';

/**
 * `BreakerReset`: an operator confirms the cancellations that tripped the breaker are genuine, recorded with
 * who and why in the guardrail stream before any held purge resumes.
 */
@CommandHandler(ResetPurgeBreaker)
export class ResetPurgeBreakerHandler implements ICommandHandler<ResetPurgeBreaker> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(TENANCY_OPTIONS) private readonly options: TenancyOptions,
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
    // The same rule as the other operator actions: the name lands in the stream and in `operator:<name>`.
    const operatorRule = operatorViolations(request.operator);
    if (operatorRule.length > 0) throw invalidRequest('invalid operator name', operatorRule);
    return decideAndAppend(
      this.store,
      purgeGuardrailStream(),
      async () => {
        const history = await readGuardrailHistory(this.store);
        const now = this.clock();
        const status = breakerStatus(history, now);
        if (!status.open)
          throw new UseCaseError('GUARDRAIL.BREAKER_NOT_OPEN', 'the purge breaker is not open');
        const data: GuardrailEventData['BreakerReset'] = {
          operator: request.operator,
          reason,
          resetAt: now.toISOString(),
        };
        const eventId = this.options.newId();
        const event = buildEvent(
          'BreakerReset',
          data,
          {
            tenantId: '',
            correlationId: deterministicId('guardrail-correlation', 'breaker-reset', eventId),
            actor: operatorActor(request.operator),
          },
          eventId,
          now,
        );
        return {
          append: [event],
          // The revision read: a reset never lands on a breaker state the operator did not see.
          expectedRevision: lastRevision(history),
          result: { eventId, status: { ...status, open: false, lastReset: data } },
        };
      },
      {
        exhausted: () =>
          new UseCaseError('GUARDRAIL.CONCURRENCY_EXHAUSTED', 'the guardrail stream is too busy'),
      },
    );
  }
}
