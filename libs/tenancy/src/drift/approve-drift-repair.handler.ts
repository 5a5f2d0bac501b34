import type { Violation } from '@app/contracts';
import { admitDriftRepair, DRIFT_ID_PATTERN, isRefusal } from '@app/lifecycle';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { refusalError } from '../errors';
import { operatorActor, validOperatorRequest } from '../operations/operator-request';
import { OperatorRequestHandler } from '../operations/operator-request.handler';
import { ApproveDriftRepair, type DriftRepairAccepted } from './drift.commands';
import { DRIFT_REFUSALS } from './drift-refusals';

function driftIdViolations(driftId: unknown): Violation[] {
  return typeof driftId === 'string' && DRIFT_ID_PATTERN.test(driftId)
    ? []
    : [
        {
          field: 'drift_id',
          rules: ['matches'],
          messages: ['drift id must look like 3-broker (the check number, then the resource)'],
        },
      ];
}

/**
 * `DriftRepairApproved` by an operator: refused unless the drift is open on an active tenant and its repair is
 * neither running nor already allowed; the orchestrator then runs the resource's provision command and its
 * verify under the repair round's own step keys.
 */
@CommandHandler(ApproveDriftRepair)
export class ApproveDriftRepairHandler
  extends OperatorRequestHandler
  implements ICommandHandler<ApproveDriftRepair>
{
  async execute({ request }: ApproveDriftRepair): Promise<DriftRepairAccepted> {
    const extra = driftIdViolations(request.driftId);
    const valid = validOperatorRequest(request, 'drift-repair', this.options.newId, extra);
    const driftId = request.driftId as string;
    const { tenantId, eventId, operator, reason } = valid;
    const approvedBy = operatorActor(operator);
    return this.decide<DriftRepairAccepted>(valid, {
      type: 'DriftRepairApproved',
      same: { driftId, reason, approvedBy },
      repeated: () => ({ tenantId, driftId, eventId, duplicate: true }),
      admit: (read, now) => {
        const approvedAt = now.toISOString();
        const admission = admitDriftRepair(read.state, { driftId, reason, approvedBy, approvedAt });
        if (isRefusal(admission)) throw refusalError(admission, DRIFT_REFUSALS);
        return { admission, result: { tenantId, driftId, eventId, duplicate: false } };
      },
    });
  }
}
