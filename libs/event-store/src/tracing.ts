import {
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  context as otelContext,
  trace,
  type Context,
  type TextMapGetter,
} from '@opentelemetry/api';
import { describeError } from './logger';
import { streamCategory } from './streams';
import type {
  AppendOptions,
  AppendResult,
  EventData,
  EventStore,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
  StreamMetadata,
  SubscribeOptions,
  Subscription,
  SubscriptionStats,
  SubscriptionTarget,
} from './types';

/**
 * W3C trace context in event metadata. Processes meet only through the store and the broker, so every append
 * writes, into each event's metadata, the `traceparent` (and `tracestate`) of the span that appended it: whoever
 * handles the event later, in another process, continues the same trace. The fields are whatever the registered
 * propagator writes; with tracing off none is registered and events are stored exactly as given.
 */

const tracer = trace.getTracer('@app/event-store');

/** Only string values of the metadata are trace context: anything else in it is ignored. */
const metadataGetter: TextMapGetter<Readonly<Record<string, unknown>>> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => {
    const value = carrier[key];
    return typeof value === 'string' ? value : undefined;
  },
};

/**
 * The trace context an event was appended in, to parent the work it causes. Starts from the root context, not
 * the active one: an event read inside another operation still belongs to its own trace. Without trace
 * context in the metadata (tracing was off, or the event is older), the root context: spans started in it
 * begin a trace of their own.
 */
export function eventTraceContext(metadata: Readonly<Record<string, unknown>> | undefined): Context {
  return propagation.extract(ROOT_CONTEXT, metadata ?? {}, metadataGetter);
}

/** The carrier the active context propagates as (empty with tracing off). */
function activeTraceFields(): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(otelContext.active(), carrier);
  return carrier;
}

/** The events with the active trace context in their metadata; the caller's objects are left untouched. */
export function withTraceContext(events: readonly EventData[]): readonly EventData[] {
  const fields = activeTraceFields();
  if (Object.keys(fields).length === 0) return events;
  return events.map((event) => ({ ...event, metadata: { ...event.metadata, ...fields } }));
}

/**
 * Every append made inside a traced operation (a request, a delivery, a decision) in a span of its own
 * (`append <category>`), child of that operation, whose context goes into the events' metadata; the driver's
 * spans (PostgreSQL statements) are its children. An append outside any span (a projection following the store,
 * such as the audit chain) records nothing: it would start one trace per event. Everything else is passed
 * through unchanged.
 */
export class TracedEventStore implements EventStore {
  /** `adapter`: the store every call goes to. */
  constructor(readonly adapter: EventStore) {}

  append(stream: string, events: readonly EventData[], options: AppendOptions): Promise<AppendResult> {
    if (!trace.getSpan(otelContext.active())) return this.adapter.append(stream, events, options);
    const attributes = {
      'event_store.stream': stream,
      'event_store.event.count': events.length,
      'event_store.event.types': [...new Set(events.map((event) => event.type))],
      'event_store.expected_revision': String(options.expectedRevision),
    };
    return tracer.startActiveSpan(
      `append ${streamCategory(stream)}`,
      { kind: SpanKind.INTERNAL, attributes },
      async (span) => {
        try {
          const result = await this.adapter.append(stream, withTraceContext(events), options);
          span.setAttribute('event_store.next_revision', result.nextExpectedRevision);
          return result;
        } catch (error) {
          // Name and message only: a driver error's other fields may hold connection parameters.
          const described = describeError(error);
          span.recordException({ name: described.name, message: described.message });
          span.setStatus({ code: SpanStatusCode.ERROR, message: described.name });
          throw error;
        } finally {
          span.end();
        }
      },
    );
  }

  readStream(stream: string, options?: ReadStreamOptions): Promise<RecordedEvent[]> {
    return this.adapter.readStream(stream, options);
  }

  readAll(options?: ReadAllOptions): Promise<RecordedEvent[]> {
    return this.adapter.readAll(options);
  }

  subscribe(target: SubscriptionTarget, options: SubscribeOptions): Subscription {
    return this.adapter.subscribe(target, options);
  }

  setStreamMetadata(stream: string, metadata: StreamMetadata): Promise<void> {
    return this.adapter.setStreamMetadata(stream, metadata);
  }

  getStreamMetadata(stream: string): Promise<StreamMetadata> {
    return this.adapter.getStreamMetadata(stream);
  }

  getSubscriptionLag(): SubscriptionStats[] {
    return this.adapter.getSubscriptionLag();
  }

  close(): Promise<void> {
    return this.adapter.close();
  }
}
