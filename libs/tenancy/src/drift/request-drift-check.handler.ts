import type { LifecycleEventData } from '@app/contracts';
import { EVENT_STORE, type EventStore } from '@app/event-store';
import { admitDriftCheck, isRefusal } from '@app/lifecycle';
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
import { RequestDriftCheck, type DriftCheckAccepted } from './drift.commands';
import { DRIFT_REFUSALS } from './drift-refusals';

/**
 * `DriftCheckRequested` by an operator: refused unless the tenant is active with no check running; the
 * orchestrator then runs every verify command under the check's own step keys.
 */
@CommandHandler(RequestDriftCheck)
export class RequestDriftCheckHandler implements ICommandHandler<RequestDriftCheck> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(TENANCY_OPTIONS) private readonly options: TenancyOptions,
    @Inject(REQUESTS_IN_FLIGHT) private readonly inFlight: RequestsInFlight,
  ) {}

  async execute({ request }: RequestDriftCheck): Promise<DriftCheckAccepted> {
    const valid = validOperatorRequest(request, 'drift-check', this.options.newId);
    const { tenantId, eventId, operator } = valid;
    const requestedBy = operatorActor(operator);
    return this.inFlight.run(valid, () =>
      decideOnTenant<DriftCheckAccepted>(this.store, tenantId, operatorErrors(tenantId), (read) => {
        const earlier = earlierEvent(read, eventId);
        if (earlier) {
          assertSameRequest(earlier, 'DriftCheckRequested', { requestedBy });
          const { check } = earlier.data as LifecycleEventData['DriftCheckRequested'];
          return { append: [], result: { tenantId, check, eventId, duplicate: true } };
        }
        const now = this.clock();
        const admission = admitDriftCheck(read.state, { requestedBy, requestedAt: now.toISOString() });
        if (isRefusal(admission)) throw refusalError(admission, DRIFT_REFUSALS);
        const [event] = admission.events;
        const { check } = event.data as LifecycleEventData['DriftCheckRequested'];
        return {
          append: [operatorEvent(valid, admission, now)],
          result: { tenantId, check, eventId, duplicate: false },
        };
      }),
    );
  }
}
