import { admitOperatorCancel } from '@app/lifecycle';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { LifecycleEventData } from '@app/contracts';
import { RequestTenantCancellation } from './operator.commands';
import { operatorActor, validOperatorRequest, type OperatorCancellationAccepted } from './operator-request';
import { OperatorRequestHandler } from './operator-request.handler';

const DAY_MS = 24 * 60 * 60 * 1000;

/** `CancellationRequested` by an operator: the grace period starts now; refused unless active or suspended. */
@CommandHandler(RequestTenantCancellation)
export class RequestTenantCancellationHandler
  extends OperatorRequestHandler
  implements ICommandHandler<RequestTenantCancellation>
{
  async execute({ request }: RequestTenantCancellation): Promise<OperatorCancellationAccepted> {
    const valid = validOperatorRequest(request, 'operator-cancel', this.options.newId);
    const { tenantId, eventId, reason, operator } = valid;
    const requestedBy = operatorActor(operator);
    return this.decide<OperatorCancellationAccepted>(valid, {
      type: 'CancellationRequested',
      same: { reason, requestedBy },
      repeated: (earlier) => {
        const recorded = earlier.data as LifecycleEventData['CancellationRequested'];
        return { tenantId, eventId, deletionDate: recorded.deletionDate, duplicate: true };
      },
      admit: (read, now) => {
        const deletionDate = new Date(now.getTime() + this.options.gracePeriodDays * DAY_MS).toISOString();
        const admission = admitOperatorCancel(read.state, {
          reason,
          requestedAt: now.toISOString(),
          deletionDate,
          requestedBy,
        });
        return { admission, result: { tenantId, eventId, deletionDate, duplicate: false } };
      },
    });
  }
}
