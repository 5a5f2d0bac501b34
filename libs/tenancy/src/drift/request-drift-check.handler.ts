import type { LifecycleEventData } from '@app/contracts';
import { admitDriftCheck, isRefusal } from '@app/lifecycle';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { refusalError } from '../errors';
import { operatorActor, validOperatorRequest } from '../operations/operator-request';
import { OperatorRequestHandler } from '../operations/operator-request.handler';
import { RequestDriftCheck, type DriftCheckAccepted } from './drift.commands';
import { DRIFT_REFUSALS } from './drift-refusals';

/**
 * `DriftCheckRequested` by an operator: refused unless the tenant is active with no check running; the
 * orchestrator then runs every verify command under the check's own step keys.
 */
@CommandHandler(RequestDriftCheck)
export class RequestDriftCheckHandler
  extends OperatorRequestHandler
  implements ICommandHandler<RequestDriftCheck>
{
  async execute({ request }: RequestDriftCheck): Promise<DriftCheckAccepted> {
    const valid = validOperatorRequest(request, 'drift-check', this.options.newId);
    const { tenantId, eventId, operator } = valid;
    const requestedBy = operatorActor(operator);
    const checkOf = (data: unknown) => (data as LifecycleEventData['DriftCheckRequested']).check;
    return this.decide<DriftCheckAccepted>(valid, {
      type: 'DriftCheckRequested',
      same: { requestedBy },
      repeated: (earlier) => ({ tenantId, check: checkOf(earlier.data), eventId, duplicate: true }),
      admit: (read, now) => {
        const admission = admitDriftCheck(read.state, { requestedBy, requestedAt: now.toISOString() });
        if (isRefusal(admission)) throw refusalError(admission, DRIFT_REFUSALS);
        const check = checkOf(admission.events[0].data);
        return { admission, result: { tenantId, check, eventId, duplicate: false } };
      },
    });
  }
}
