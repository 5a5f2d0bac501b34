import type { LifecycleEventData } from '@app/contracts';
import { admitReprovisioning, isRefusal, provisioningRun, REFUSAL_CODES } from '@app/lifecycle';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { refusalError, type RefusalCodes } from '../errors';
import { operatorActor } from '../operations/operator-request';
import { OperatorRequestHandler } from '../operations/operator-request.handler';
import {
  RequestReprovisioning,
  validReprovisionRequest,
  type ReprovisioningAccepted,
} from './request-reprovisioning.command';

/** Why a re-provisioning is refused, as the operators' codes. */
export const REPROVISION_REFUSALS: RefusalCodes = {
  [REFUSAL_CODES.TENANT_NOT_FOUND]: 'OPERATION.TENANT_NOT_FOUND',
  [REFUSAL_CODES.PROVISIONING_IN_PROGRESS]: 'OPERATION.PROVISIONING_IN_PROGRESS',
  [REFUSAL_CODES.ROLLBACK_NOT_COMPLETE]: 'OPERATION.ROLLBACK_NOT_COMPLETE',
  [REFUSAL_CODES.TENANT_ACTIVE]: 'OPERATION.TENANT_ACTIVE',
  [REFUSAL_CODES.TENANT_CANCELLED]: 'OPERATION.TENANT_CANCELLED',
};

/**
 * `ReprovisioningRequested` by an operator: refused unless the tenant's last run failed and its rollback is
 * complete; the orchestrator then runs every step again under the new run's command ids.
 */
@CommandHandler(RequestReprovisioning)
export class RequestReprovisioningHandler
  extends OperatorRequestHandler
  implements ICommandHandler<RequestReprovisioning>
{
  async execute({ request }: RequestReprovisioning): Promise<ReprovisioningAccepted> {
    const valid = validReprovisionRequest(request, this.options.newId);
    const { tenantId, eventId, reason, operator } = valid;
    const requestedBy = operatorActor(operator);
    return this.decide<ReprovisioningAccepted>(valid, {
      type: 'ReprovisioningRequested',
      same: { reason, requestedBy },
      repeated: (earlier) => {
        const { run } = earlier.data as LifecycleEventData['ReprovisioningRequested'];
        return { tenantId, run, eventId, duplicate: true };
      },
      admit: (read, now) => {
        const requestedAt = now.toISOString();
        const admission = admitReprovisioning(read.state, { reason, requestedBy, requestedAt });
        if (isRefusal(admission)) throw refusalError(admission, REPROVISION_REFUSALS);
        const run = provisioningRun(read.state) + 1;
        return { admission, result: { tenantId, run, eventId, duplicate: false } };
      },
    });
  }
}
