import type { LifecycleEventData } from '@app/contracts';
import { admitOperatorPurge } from '@app/lifecycle';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { TenantRead } from '../tenant-stream';
import { RequestTenantPurge } from './operator.commands';
import { validOperatorRequest, type PurgeAccepted } from './operator-request';
import { OperatorRequestHandler } from './operator-request.handler';

/**
 * `OperatorPurgeRequested`: the purge of a tenant in its grace period starts now instead of at its deletion
 * date. The orchestrator still takes and verifies a final backup first, through the purge guardrails (hourly
 * cap, mass-cancellation breaker). Refused outside the grace period and when a purge was already requested.
 */
@CommandHandler(RequestTenantPurge)
export class RequestTenantPurgeHandler
  extends OperatorRequestHandler
  implements ICommandHandler<RequestTenantPurge>
{
  async execute({ request }: RequestTenantPurge): Promise<PurgeAccepted> {
    const valid = validOperatorRequest(request, 'operator-purge', this.options.newId);
    const { tenantId, eventId, reason, operator } = valid;
    const deletionDateOf = (read: TenantRead) => read.state.cancellation?.deletionDate ?? '';
    return this.decide<PurgeAccepted>(valid, {
      type: 'OperatorPurgeRequested',
      same: { reason, operator },
      repeated: (earlier, read) => {
        const { requestedAt } = earlier.data as LifecycleEventData['OperatorPurgeRequested'];
        return { tenantId, eventId, requestedAt, deletionDate: deletionDateOf(read), duplicate: true };
      },
      admit: (read, now) => {
        const data: LifecycleEventData['OperatorPurgeRequested'] = {
          reason,
          operator,
          requestedAt: now.toISOString(),
        };
        return {
          admission: admitOperatorPurge(read.state, data),
          result: {
            tenantId,
            eventId,
            requestedAt: data.requestedAt,
            deletionDate: deletionDateOf(read),
            duplicate: false,
          },
        };
      },
    });
  }
}
