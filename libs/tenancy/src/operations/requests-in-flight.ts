import { UseCaseError } from '../errors';

/**
 * The keyed operator requests this process is still working on. A retry with the same Idempotency-Key (same
 * operator, tenant and action) while the first has not answered is told so with 409, as the Idempotency-Key
 * draft asks, instead of waiting behind it. Across replicas the tenant stream's optimistic concurrency still
 * lets one request append: the other then answers as the replay it is.
 */
export class RequestsInFlight {
  private readonly keys = new Set<string>();

  async run<T>(request: { eventId: string; idempotencyKey?: string }, work: () => Promise<T>): Promise<T> {
    if (request.idempotencyKey === undefined) return work();
    if (this.keys.has(request.eventId)) {
      throw new UseCaseError(
        'OPERATION.IDEMPOTENCY_KEY_IN_FLIGHT',
        'a request with this Idempotency-Key is still being processed: retry once it has answered',
      );
    }
    this.keys.add(request.eventId);
    try {
      return await work();
    } finally {
      this.keys.delete(request.eventId);
    }
  }
}
