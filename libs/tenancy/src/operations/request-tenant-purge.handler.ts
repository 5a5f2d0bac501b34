import type { LifecycleEventData } from '@app/contracts';
import { EVENT_STORE, type EventStore } from '@app/event-store';
import { admitOperatorPurge } from '@app/lifecycle';
import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { decideOnTenant, earlierEvent } from '../tenant-stream';
import type { RequestsInFlight } from './requests-in-flight';
import { CLOCK, REQUESTS_IN_FLIGHT, TENANCY_OPTIONS, type Clock, type TenancyOptions } from '../tokens';
import { RequestTenantPurge } from './operator.commands';
import {
  assertSameRequest,
  operatorErrors,
  operatorEvent,
  validOperatorRequest,
  type PurgeAccepted,
} from './operator-request';

/**
 * `OperatorPurgeRequested`: the purge of a tenant in its grace period starts now instead of at its deletion
 * date. The orchestrator still takes and verifies a final backup first, through the purge guardrails (hourly
 * cap, mass-cancellation breaker). Refused outside the grace period and when a purge was already requested.
 */
@CommandHandler(RequestTenantPurge)
export class RequestTenantPurgeHandler implements ICommandHandler<RequestTenantPurge> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(TENANCY_OPTIONS) private readonly options: TenancyOptions,
    @Inject(REQUESTS_IN_FLIGHT) private readonly inFlight: RequestsInFlight,
  ) {}

  async execute({ request }: RequestTenantPurge): Promise<PurgeAccepted> {
    const valid = validOperatorRequest(request, 'operator-purge', this.options.newId);
    const { tenantId, eventId, reason, operator } = valid;
    return this.inFlight.run(valid, () =>
      decideOnTenant<PurgeAccepted>(this.store, tenantId, operatorErrors(tenantId), (read) => {
        const deletionDate = read.state.cancellation?.deletionDate ?? '';
        const earlier = earlierEvent(read, eventId);
        if (earlier) {
          assertSameRequest(earlier, 'OperatorPurgeRequested', { reason, operator });
          const recorded = earlier.data as LifecycleEventData['OperatorPurgeRequested'];
          return {
            append: [],
            result: { tenantId, eventId, requestedAt: recorded.requestedAt, deletionDate, duplicate: true },
          };
        }
        const now = this.clock();
        const data: LifecycleEventData['OperatorPurgeRequested'] = {
          reason,
          operator,
          requestedAt: now.toISOString(),
        };
        return {
          append: [operatorEvent(valid, admitOperatorPurge(read.state, data), now)],
          result: { tenantId, eventId, requestedAt: data.requestedAt, deletionDate, duplicate: false },
        };
      }),
    );
  }
}
