import { EVENT_STORE, type EventStore, type RecordedEvent } from '@app/event-store';
import type { Admission } from '@app/lifecycle';
import { Inject } from '@nestjs/common';
import { decideOnTenant, earlierEvent, type TenantRead } from '../tenant-stream';
import { CLOCK, REQUESTS_IN_FLIGHT, TENANCY_OPTIONS, type Clock, type TenancyOptions } from '../tokens';
import {
  assertSameRequest,
  operatorErrors,
  operatorEvent,
  type ValidOperatorRequest,
} from './operator-request';
import type { RequestsInFlight } from './requests-in-flight';

/** What one kind of operator request decides on the tenant's stream. */
export interface OperatorDecision<R> {
  /** The event the request appends: a repeated Idempotency-Key must find this type with these fields. */
  type: string;
  same: Record<string, unknown>;
  /** The answer to a repeated key, from the event its first request appended. */
  repeated(earlier: RecordedEvent, read: TenantRead): R;
  /** The lifecycle's admission at `now` (a refusal becomes an `OPERATION.*` error) and the answer to give. */
  admit(read: TenantRead, now: Date): { admission: Admission; result: R };
}

/**
 * The one path of every operator request on a tenant: one request per key at a time; a key already in the
 * stream answers again without appending (if it repeats the same request); otherwise the admitted event is
 * appended under the key's event id, at the revision it was decided on.
 */
export abstract class OperatorRequestHandler {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(TENANCY_OPTIONS) protected readonly options: TenancyOptions,
    @Inject(REQUESTS_IN_FLIGHT) private readonly inFlight: RequestsInFlight,
  ) {}

  protected decide<R>(valid: ValidOperatorRequest, decision: OperatorDecision<R>): Promise<R> {
    const { tenantId, eventId } = valid;
    return this.inFlight.run(valid, () =>
      decideOnTenant<R>(this.store, tenantId, operatorErrors(tenantId), (read) => {
        const earlier = earlierEvent(read, eventId);
        if (earlier) {
          assertSameRequest(earlier, decision.type, decision.same);
          return { append: [], result: decision.repeated(earlier, read) };
        }
        const now = this.clock();
        const { admission, result } = decision.admit(read, now);
        return { append: [operatorEvent(valid, admission, now)], result };
      }),
    );
  }
}
