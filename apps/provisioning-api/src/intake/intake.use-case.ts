import { buildMetadata, deterministicId, tenantStream, type MessageMetadata } from '@app/contracts';
import { StreamNotFoundError, type EventData, type EventStore, type RecordedEvent } from '@app/event-store';
import { IntakeError, INTAKE_ERROR_CODES } from './intake.errors';
import type { IntakeOptions } from './intake.types';

const ACTOR = 'provisioning-api';

/** What every intake use case shares: the store, the clock, the tenant stream read, the event envelope. */
export abstract class IntakeUseCase {
  protected readonly now: () => Date;

  constructor(
    protected readonly store: EventStore,
    protected readonly options: IntakeOptions,
  ) {
    this.now = options.now ?? (() => new Date());
  }

  protected async readTenant(tenantId: string): Promise<RecordedEvent[] | undefined> {
    try {
      return await this.store.readStream(tenantStream(tenantId));
    } catch (error) {
      if (error instanceof StreamNotFoundError) return undefined;
      throw error;
    }
  }

  protected event<T>(
    id: string,
    type: string,
    data: T,
    tenantId: string,
    /** The business request this event stems from: a subscription id, or a tagged one for cancellations. */
    correlation: string | readonly string[],
  ): EventData<T, MessageMetadata> {
    const parts = typeof correlation === 'string' ? [correlation] : correlation;
    const metadata = buildMetadata(
      { tenantId, correlationId: deterministicId('correlation', ...parts), actor: ACTOR },
      id,
      this.now(),
    );
    return { id, type, data, metadata };
  }
}

export function isoOf(timestamp: string): string {
  return new Date(timestamp).toISOString();
}

/** Every attempt lost its append to another writer of the tenant's stream. */
export function tooBusy(tenantId: string): IntakeError {
  return new IntakeError(INTAKE_ERROR_CODES.CONCURRENCY_EXHAUSTED, `tenant ${tenantId} is too busy`);
}
