import { setTimeout as sleep } from 'node:timers/promises';
import {
  deterministicId,
  INTEGRATION_EVENT_SOURCES,
  tenantIdFromStream,
  type IntegrationEventType,
} from '@app/contracts';
import type { RecordedEvent } from '@app/event-store';
import {
  encodeCloudEvent,
  INTEGRATION_EVENT_SOURCE,
  integrationCloudEventType,
  MessagingError,
  type MessagePublisher,
} from '@app/messaging';
import type { Logger } from 'pino';

/**
 * The orchestrator's integration events: which lifecycle events the outside world (billing, CRM) hears about on
 * `tenant.events`, and their publication, waited on until the broker confirms it.
 */

const INTEGRATION_RETRY_BASE_MS = 200;
const INTEGRATION_RETRY_MAX_MS = 30_000;

/** The orchestrator is stopping: work waiting for the broker gives up, to be redone after restart. */
export class StoppedError extends Error {
  constructor() {
    super('orchestrator stopping');
  }
}

/** Resolves after `ms`, or at once when `signal` aborts (its listener removed either way, by Node). */
function delay(ms: number, signal: AbortSignal): Promise<void> {
  return sleep(ms, undefined, { signal }).catch(() => undefined);
}

/**
 * A publish the broker was never asked to take, because the message or its names are invalid: no retry can
 * fix it, and waiting on it would stop the subscription for every tenant.
 */
const UNPUBLISHABLE: ReadonlySet<string> = new Set([
  'MESSAGING.INVALID_MESSAGE',
  'MESSAGING.INVALID_NAME',
  'MESSAGING.INVALID_OPTIONS',
]);

/** Lifecycle events that the outside world hears about on `tenant.events`, by lifecycle event type. */
const INTEGRATION: Readonly<Record<string, IntegrationEventType | undefined>> = INTEGRATION_EVENT_SOURCES;

export class IntegrationPublisher {
  constructor(
    private readonly publisher: MessagePublisher,
    private readonly logger: Logger,
    /** Aborted when the orchestrator stops: ends the wait between two attempts. */
    private readonly stopping: AbortSignal,
  ) {}

  /**
   * Integration events are facts other systems act on: one lost would never be sent again, since the
   * checkpoint moves past its event. So the subscription waits here until the broker confirms it (with a
   * capped backoff; while the broker is down no command can be sent either). On stop the wait ends with
   * `StoppedError`, the checkpoint stays before the event, and the next start sends it; consumers dedupe by
   * its CloudEvent id (also the AMQP message id), derived from the event id. Does nothing for an event without
   * integration event.
   */
  async publishFor(tenantId: string, event: RecordedEvent): Promise<void> {
    const type = INTEGRATION[event.type];
    if (!type) return;
    for (let attempt = 1; ; attempt++) {
      if (this.stopping.aborted) throw new StoppedError();
      try {
        await this.publish(type, event);
        return;
      } catch (error) {
        if (error instanceof MessagingError && UNPUBLISHABLE.has(error.code)) {
          // A defect to fix, not an outage to wait out: the event stays in the stream for a replay.
          this.logger.error(
            { err: error, tenantId, type, eventId: event.id },
            'integration event can never be published as built; skipped',
          );
          return;
        }
        const retryInMs = Math.min(INTEGRATION_RETRY_MAX_MS, INTEGRATION_RETRY_BASE_MS * 2 ** (attempt - 1));
        this.logger.error(
          { err: error, tenantId, type, attempt, retryInMs },
          'integration event not published; retrying',
        );
        await delay(retryInMs, this.stopping);
      }
    }
  }

  /**
   * The event as a CloudEvent (`@app/messaging` cloudevents.ts: structured mode, and why): its id derived from
   * the lifecycle event's, so a republished event keeps it; its time the lifecycle event's; its Distributed
   * Tracing extension the trace context stored with the lifecycle event, so its body too is the same each time.
   */
  private async publish(type: IntegrationEventType, event: RecordedEvent): Promise<void> {
    const tenantId = tenantIdFromStream(event.streamName);
    const id = deterministicId('integration', event.id);
    const occurred = Date.parse(String(event.metadata.occurredAt));
    await this.publisher.publishCloudEvent(
      'tenantEvents',
      type,
      encodeCloudEvent({
        id,
        source: INTEGRATION_EVENT_SOURCE,
        type: integrationCloudEventType(type),
        subject: tenantId,
        time: (Number.isNaN(occurred) ? event.recordedAt : new Date(occurred)).toISOString(),
        data: { tenantId, event: event.type, ...(event.data as object) },
        correlationId: String(event.metadata.correlationId ?? id),
        causationId: event.id,
        // The trace the lifecycle event was appended in (stored with it): the same on every republish.
        traceContext: { traceparent: event.metadata.traceparent, tracestate: event.metadata.tracestate },
      }),
      { mandatory: false },
    );
  }
}
