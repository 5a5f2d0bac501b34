import type { LifecycleEventData } from '@app/contracts';
import { EVENT_STORE, type EventStore } from '@app/event-store';
import { admitReprovisioning, isRefusal, provisioningRun, REFUSAL_CODES } from '@app/lifecycle';
import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { refusalError, type RefusalCodes } from '../errors';
import {
  assertSameRequest,
  operatorActor,
  operatorErrors,
  operatorEvent,
} from '../operations/operator-request';
import { decideOnTenant, earlierEvent } from '../tenant-stream';
import type { RequestsInFlight } from '../operations/requests-in-flight';
import { CLOCK, REQUESTS_IN_FLIGHT, TENANCY_OPTIONS, type Clock, type TenancyOptions } from '../tokens';
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
export class RequestReprovisioningHandler implements ICommandHandler<RequestReprovisioning> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(TENANCY_OPTIONS) private readonly options: TenancyOptions,
    @Inject(REQUESTS_IN_FLIGHT) private readonly inFlight: RequestsInFlight,
  ) {}

  async execute({ request }: RequestReprovisioning): Promise<ReprovisioningAccepted> {
    const valid = validReprovisionRequest(request, this.options.newId);
    const { tenantId, eventId, reason, operator } = valid;
    const requestedBy = operatorActor(operator);
    return this.inFlight.run(valid, () =>
      decideOnTenant<ReprovisioningAccepted>(this.store, tenantId, operatorErrors(tenantId), (read) => {
        const earlier = earlierEvent(read, eventId);
        if (earlier) {
          assertSameRequest(earlier, 'ReprovisioningRequested', { reason, requestedBy });
          const { run } = earlier.data as LifecycleEventData['ReprovisioningRequested'];
          return { append: [], result: { tenantId, run, eventId, duplicate: true } };
        }
        const now = this.clock();
        const admission = admitReprovisioning(read.state, {
          reason,
          requestedBy,
          requestedAt: now.toISOString(),
        });
        if (isRefusal(admission)) throw refusalError(admission, REPROVISION_REFUSALS);
        return {
          append: [operatorEvent(valid, admission, now)],
          result: { tenantId, run: provisioningRun(read.state) + 1, eventId, duplicate: false },
        };
      }),
    );
  }
}
