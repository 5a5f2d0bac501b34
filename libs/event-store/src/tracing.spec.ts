import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { WrongExpectedVersionError } from './errors';
import { MemoryEventStore } from './memory/memory.adapter';
import { event } from './testing/event-store.contract.test-helpers';
import { SpanRecorder } from '@app/testing';
import { eventTraceContext, TracedEventStore } from './tracing';

const TRACEPARENT = /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/;

describe('event metadata trace context, tracing off', () => {
  it('stores events exactly as given and reads no context back', async () => {
    const store = new TracedEventStore(new MemoryEventStore());
    const appended = event('TenantRequested', { a: 1 }, { correlationId: 'c-1' });
    await trace.getTracer('test').startActiveSpan('request', async (span) => {
      await store.append('tenant-a', [appended], { expectedRevision: 'no_stream' });
      span.end();
    });
    const [read] = await store.readStream('tenant-a');
    expect(read.metadata).toEqual({ schemaVersion: 1, correlationId: 'c-1' });
    expect(trace.getSpanContext(eventTraceContext(read.metadata))).toBeUndefined();
  });
});

describe('event metadata trace context, tracing on', () => {
  const recorder = new SpanRecorder();
  beforeAll(() => recorder.start());
  afterAll(() => recorder.stop());

  it('appends in a span of its own, child of the caller, whose context each event keeps', async () => {
    const store = new TracedEventStore(new MemoryEventStore());
    const given = [event('StepStarted', {}, { correlationId: 'c-2' }), event('StepStarted')];
    const before = structuredClone(given);
    await trace.getTracer('test').startActiveSpan('decide', async (span) => {
      await store.append('tenant-b', given, { expectedRevision: 'no_stream' });
      span.end();
    });

    const append = await recorder.span('append tenant');
    const decide = await recorder.span('decide');
    expect(append.kind).toBe(SpanKind.INTERNAL);
    expect(append.parentSpanContext?.spanId).toBe(decide.spanContext().spanId);
    expect(append.spanContext().traceId).toBe(decide.spanContext().traceId);
    expect(append.attributes).toMatchObject({
      'event_store.stream': 'tenant-b',
      'event_store.event.count': 2,
      'event_store.event.types': ['StepStarted'],
      'event_store.expected_revision': 'no_stream',
      'event_store.next_revision': 1,
    });

    const events = await store.readStream('tenant-b');
    for (const read of events) {
      expect(read.metadata.traceparent).toMatch(TRACEPARENT);
      const parent = trace.getSpanContext(eventTraceContext(read.metadata));
      expect(parent).toMatchObject({
        traceId: append.spanContext().traceId,
        spanId: append.spanContext().spanId,
        isRemote: true,
      });
    }
    expect(events[0].metadata.correlationId).toBe('c-2');
    // The caller's objects are not written to.
    expect(given).toEqual(before);
  });

  it('continues the trace an event was appended in, whatever context is active when it is read', async () => {
    const store = new TracedEventStore(new MemoryEventStore());
    await trace.getTracer('test').startActiveSpan('intake', async (span) => {
      await store.append('tenant-c', [event('TenantRequested')], { expectedRevision: 'no_stream' });
      span.end();
    });
    const [read] = await store.readStream('tenant-c');
    const intakeTrace = (await recorder.span('intake')).spanContext().traceId;
    await trace.getTracer('test').startActiveSpan('unrelated', async (unrelated) => {
      const decided = trace.getTracer('test').startSpan('decision', {}, eventTraceContext(read.metadata));
      expect(decided.spanContext().traceId).toBe(intakeTrace);
      expect(decided.spanContext().traceId).not.toBe(unrelated.spanContext().traceId);
      decided.end();
      unrelated.end();
    });
    // An event without trace context starts a new trace rather than joining the active one.
    expect(trace.getSpanContext(eventTraceContext({ schemaVersion: 1 }))).toBeUndefined();
    expect(trace.getSpanContext(eventTraceContext({ schemaVersion: 1, traceparent: 42 }))).toBeUndefined();
    expect(trace.getSpanContext(eventTraceContext(undefined))).toBeUndefined();
  });

  it('records a refused append on its span, by error class, and rethrows it', async () => {
    const store = new TracedEventStore(new MemoryEventStore());
    await trace.getTracer('test').startActiveSpan('handler', async (span) => {
      await store.append('tenant-d', [event('TenantRequested')], { expectedRevision: 'no_stream' });
      await expect(
        store.append('tenant-d', [event('TenantRequested')], { expectedRevision: 'no_stream' }),
      ).rejects.toBeInstanceOf(WrongExpectedVersionError);
      span.end();
    });
    const failed = (await recorder.spans()).filter(
      (span) =>
        span.attributes['event_store.stream'] === 'tenant-d' && span.status.code === SpanStatusCode.ERROR,
    );
    expect(failed).toHaveLength(1);
    expect(failed[0].status.message).toBe('WrongExpectedVersionError');
    expect(failed[0].events[0].name).toBe('exception');
  });

  it('records nothing for an append outside any span (a projection following the store)', async () => {
    const store = new TracedEventStore(new MemoryEventStore());
    await store.append('audit-e', [event('ChainLinked')], { expectedRevision: 'no_stream' });
    const [read] = await store.readStream('audit-e');
    expect(read.metadata).toEqual({ schemaVersion: 1 });
    expect(
      (await recorder.spans()).filter((span) => span.attributes['event_store.stream'] === 'audit-e'),
    ).toEqual([]);
  });
});
