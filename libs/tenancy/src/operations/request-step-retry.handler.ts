import type { LifecycleEventData } from '@app/contracts';
import { admitOperatorRetry } from '@app/lifecycle';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { RequestStepRetry } from './operator.commands';
import { stepViolations, validOperatorRequest, type RetryAccepted } from './operator-request';
import { OperatorRequestHandler } from './operator-request.handler';

/**
 * `OperatorRetryRequested`. The orchestrator re-issues only a parked step (a compensation, an after-activation
 * step or a purge step that failed for good) or a blocked backup round (`backup`, or a key of that round);
 * failed and timed-out steps are still its own to retry or roll back, so a request for them is refused.
 */
@CommandHandler(RequestStepRetry)
export class RequestStepRetryHandler
  extends OperatorRequestHandler
  implements ICommandHandler<RequestStepRetry>
{
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
    return this.decide<RetryAccepted>(valid, {
      type: 'OperatorRetryRequested',
      same: data,
      repeated: () => ({ tenantId, step, eventId, duplicate: true }),
      admit: (read) => ({
        admission: admitOperatorRetry(read.state, data),
        result: { tenantId, step, eventId, duplicate: false },
      }),
    });
  }
}
