import type { LifecycleEventData } from '@app/contracts';
import { EVENT_STORE, type EventStore } from '@app/event-store';
import { admitOperatorRetry } from '@app/lifecycle';
import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { decideOnTenant, earlierEvent } from '../tenant-stream';
import type { RequestsInFlight } from './requests-in-flight';
import { CLOCK, REQUESTS_IN_FLIGHT, TENANCY_OPTIONS, type Clock, type TenancyOptions } from '../tokens';
import { RequestStepRetry } from './operator.commands';
import {
  assertSameRequest,
  operatorErrors,
  operatorEvent,
  stepViolations,
  validOperatorRequest,
  type RetryAccepted,
} from './operator-request';

/**
 * `OperatorRetryRequested`. The orchestrator re-issues only a parked step (a compensation, an after-activation
 * step or a purge step that failed for good) or a blocked backup round (`backup`, or a key of that round);
 * failed and timed-out steps are still its own to retry or roll back, so a request for them is refused.
 */
@CommandHandler(RequestStepRetry)
export class RequestStepRetryHandler implements ICommandHandler<RequestStepRetry> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(TENANCY_OPTIONS) private readonly options: TenancyOptions,
    @Inject(REQUESTS_IN_FLIGHT) private readonly inFlight: RequestsInFlight,
  ) {}

  async execute({ request }: RequestStepRetry): Promise<RetryAccepted> {
    const valid = validOperatorRequest(
      request,
      'operator-retry',
      this.options.newId,
      stepViolations(request.step),
    );
    const { tenantId, eventId, reason, operator } = valid;
    const step = request.step as string;
    const data: LifecycleEventData['OperatorRetryRequested'] = { step, reason, operator };
    return this.inFlight.run(valid, () =>
      decideOnTenant<RetryAccepted>(this.store, tenantId, operatorErrors(tenantId), (read) => {
        const earlier = earlierEvent(read, eventId);
        if (earlier) {
          assertSameRequest(earlier, 'OperatorRetryRequested', data);
          return { append: [], result: { tenantId, step, eventId, duplicate: true } };
        }
        return {
          append: [operatorEvent(valid, admitOperatorRetry(read.state, data), this.clock())],
          result: { tenantId, step, eventId, duplicate: false },
        };
      }),
    );
  }
}
