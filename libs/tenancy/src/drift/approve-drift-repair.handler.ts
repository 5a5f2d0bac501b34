import type { Violation } from '@app/contracts';
import { EVENT_STORE, type EventStore } from '@app/event-store';
import { admitDriftRepair, DRIFT_ID_PATTERN, isRefusal } from '@app/lifecycle';
import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { refusalError } from '../errors';
import {
  assertSameRequest,
  operatorActor,
  operatorErrors,
  operatorEvent,
  validOperatorRequest,
} from '../operations/operator-request';
import type { RequestsInFlight } from '../operations/requests-in-flight';
import { decideOnTenant, earlierEvent } from '../tenant-stream';
import { CLOCK, REQUESTS_IN_FLIGHT, TENANCY_OPTIONS, type Clock, type TenancyOptions } from '../tokens';
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
export class ApproveDriftRepairHandler implements ICommandHandler<ApproveDriftRepair> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(TENANCY_OPTIONS) private readonly options: TenancyOptions,
    @Inject(REQUESTS_IN_FLIGHT) private readonly inFlight: RequestsInFlight,
  ) {}

  async execute({ request }: ApproveDriftRepair): Promise<DriftRepairAccepted> {
    const extra = driftIdViolations(request.driftId);
    const valid = validOperatorRequest(request, 'drift-repair', this.options.newId, extra);
    const driftId = request.driftId as string;
    const { tenantId, eventId, operator, reason } = valid;
    const approvedBy = operatorActor(operator);
    return this.inFlight.run(valid, () =>
      decideOnTenant<DriftRepairAccepted>(this.store, tenantId, operatorErrors(tenantId), (read) => {
        const earlier = earlierEvent(read, eventId);
        if (earlier) {
          assertSameRequest(earlier, 'DriftRepairApproved', { driftId, reason, approvedBy });
          return { append: [], result: { tenantId, driftId, eventId, duplicate: true } };
        }
        const now = this.clock();
        const admission = admitDriftRepair(read.state, {
          driftId,
          reason,
          approvedBy,
          approvedAt: now.toISOString(),
        });
        if (isRefusal(admission)) throw refusalError(admission, DRIFT_REFUSALS);
        return {
          append: [operatorEvent(valid, admission, now)],
          result: { tenantId, driftId, eventId, duplicate: false },
        };
      }),
    );
  }
}
