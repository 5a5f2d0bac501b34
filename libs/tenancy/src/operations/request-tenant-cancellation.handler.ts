import { EVENT_STORE, type EventStore } from '@app/event-store';
import { admitOperatorCancel } from '@app/lifecycle';
import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { LifecycleEventData } from '@app/contracts';
import { decideOnTenant, earlierEvent } from '../tenant-stream';
import type { RequestsInFlight } from './requests-in-flight';
import { CLOCK, REQUESTS_IN_FLIGHT, TENANCY_OPTIONS, type Clock, type TenancyOptions } from '../tokens';
import { RequestTenantCancellation } from './operator.commands';
import {
  assertSameRequest,
  operatorActor,
  operatorErrors,
  operatorEvent,
  validOperatorRequest,
  type OperatorCancellationAccepted,
} from './operator-request';

const DAY_MS = 24 * 60 * 60 * 1000;

/** `CancellationRequested` by an operator: the grace period starts now; refused unless active or suspended. */
@CommandHandler(RequestTenantCancellation)
export class RequestTenantCancellationHandler implements ICommandHandler<RequestTenantCancellation> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(TENANCY_OPTIONS) private readonly options: TenancyOptions,
    @Inject(REQUESTS_IN_FLIGHT) private readonly inFlight: RequestsInFlight,
  ) {}

  async execute({ request }: RequestTenantCancellation): Promise<OperatorCancellationAccepted> {
    const valid = validOperatorRequest(request, 'operator-cancel', this.options.newId);
    const { tenantId, eventId, reason, operator } = valid;
    return this.inFlight.run(valid, () =>
      decideOnTenant<OperatorCancellationAccepted>(this.store, tenantId, operatorErrors(tenantId), (read) => {
        const earlier = earlierEvent(read, eventId);
        if (earlier) {
          assertSameRequest(earlier, 'CancellationRequested', {
            reason,
            requestedBy: operatorActor(operator),
          });
          const recorded = earlier.data as LifecycleEventData['CancellationRequested'];
          return {
            append: [],
            result: { tenantId, eventId, deletionDate: recorded.deletionDate, duplicate: true },
          };
        }
        const now = this.clock();
        const deletionDate = new Date(now.getTime() + this.options.gracePeriodDays * DAY_MS).toISOString();
        const admission = admitOperatorCancel(read.state, {
          reason,
          requestedAt: now.toISOString(),
          deletionDate,
          requestedBy: operatorActor(operator),
        });
        return {
          append: [operatorEvent(valid, admission, now)],
          result: { tenantId, eventId, deletionDate, duplicate: false },
        };
      }),
    );
  }
}
