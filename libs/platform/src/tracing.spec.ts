import {
  context,
  propagation,
  ROOT_CONTEXT,
  SamplingDecision,
  SpanKind,
  SpanStatusCode,
  trace,
  TraceFlags,
  type Context,
} from '@opentelemetry/api';
import pino from 'pino';
import { createLogger, traceFields } from './logger';
import {
  activeTracing,
  appNameOf,
  flushTracing,
  parentBasedWithoutRootClients,
  redactedUrl,
  startTracing,
  tracingSettings,
} from './tracing';
import { SpanRecorder } from '@app/testing';
import { withClientSpan } from './tracing-spans';

describe('tracingSettings: off unless OTEL_* asks for traces', () => {
  it('is off with no OTEL_* variable, whatever else the environment holds', () => {
    expect(tracingSettings({}, 'orchestrator')).toBeUndefined();
    expect(tracingSettings({ LOG_LEVEL: 'debug', OTEL_SERVICE_NAME: 'x' }, 'orchestrator')).toBeUndefined();
  });

  it('is on with an exporter or an OTLP endpoint', () => {
    expect(tracingSettings({ OTEL_TRACES_EXPORTER: 'otlp' }, 'orchestrator')).toEqual({
      serviceName: 'orchestrator',
    });
    expect(tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }, 'k8s-service')).toEqual({
      serviceName: 'k8s-service',
    });
    expect(
      tracingSettings({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/v1/traces' }, 'a'),
    ).toBeDefined();
  });

  it('is off with OTEL_SDK_DISABLED=true or the exporter none, even with an endpoint', () => {
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' };
    expect(tracingSettings({ ...endpoint, OTEL_SDK_DISABLED: 'true' }, 'a')).toBeUndefined();
    expect(tracingSettings({ ...endpoint, OTEL_SDK_DISABLED: 'TRUE ' }, 'a')).toBeUndefined();
    expect(tracingSettings({ ...endpoint, OTEL_TRACES_EXPORTER: 'none' }, 'a')).toBeUndefined();
    expect(tracingSettings({ ...endpoint, OTEL_SDK_DISABLED: 'false' }, 'a')).toBeDefined();
    expect(tracingSettings({ OTEL_TRACES_EXPORTER: ' , ' }, 'a')).toBeUndefined();
  });

  it('names the service after the app unless OTEL_SERVICE_NAME names it', () => {
    const on = { OTEL_TRACES_EXPORTER: 'console' };
    expect(tracingSettings({ ...on, OTEL_SERVICE_NAME: 'orchestrator-eu' }, 'orchestrator')).toEqual({
      serviceName: 'orchestrator-eu',
    });
    expect(tracingSettings({ ...on, OTEL_SERVICE_NAME: ' ' }, 'orchestrator')).toEqual({
      serviceName: 'orchestrator',
    });
  });
});

describe('parentBasedWithoutRootClients', () => {
  const sample = (parent: Context, kind: SpanKind) =>
    parentBasedWithoutRootClients.shouldSample(parent, 'a'.repeat(32), 'span', kind, {}, []).decision;
  const withParent = (traceFlags: number) =>
    trace.setSpanContext(ROOT_CONTEXT, {
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      traceFlags,
      isRemote: true,
    });

  it('drops a client call outside any operation and keeps every other root', () => {
    expect(sample(ROOT_CONTEXT, SpanKind.CLIENT)).toBe(SamplingDecision.NOT_RECORD);
    for (const kind of [SpanKind.SERVER, SpanKind.CONSUMER, SpanKind.INTERNAL, SpanKind.PRODUCER]) {
      expect(sample(ROOT_CONTEXT, kind)).toBe(SamplingDecision.RECORD_AND_SAMPLED);
    }
  });

  it("follows the parent's decision, client calls included", () => {
    expect(sample(withParent(TraceFlags.SAMPLED), SpanKind.CLIENT)).toBe(SamplingDecision.RECORD_AND_SAMPLED);
    expect(sample(withParent(TraceFlags.NONE), SpanKind.SERVER)).toBe(SamplingDecision.NOT_RECORD);
  });
});

describe('redactedUrl: what a client span may record of a URL', () => {
  it('keeps the query parameter names, replaces every non-empty value, and drops credentials', () => {
    expect(
      redactedUrl(
        new URL('https://svc:pw@billing.example/exports/active.json?token=s3cr3t&format=csv&token=2'),
      ),
    ).toEqual({
      full: 'https://billing.example/exports/active.json?token=REDACTED&format=REDACTED&token=REDACTED',
      query: '?token=REDACTED&format=REDACTED&token=REDACTED',
    });
    // An empty value (an S3 subresource) stays as it is: nothing in it to hide.
    expect(redactedUrl(new URL('http://rgw:7480/tenant-bucket?versioning=')).full).toBe(
      'http://rgw:7480/tenant-bucket?versioning=',
    );
    expect(redactedUrl(new URL('http://127.0.0.1:6443/api/v1/namespaces'))).toEqual({
      full: 'http://127.0.0.1:6443/api/v1/namespaces',
      query: '',
    });
  });
});

describe('appNameOf', () => {
  it('is the app directory of a main module, built or not', () => {
    expect(appNameOf('/srv/app/dist/apps/notification-service/src/main.js')).toBe('notification-service');
    expect(appNameOf('/work/apps/orchestrator/src/main.ts')).toBe('orchestrator');
    expect(appNameOf('C:\\app\\dist\\apps\\k8s-service\\src\\main.js')).toBe('k8s-service');
  });

  it('is the file name for anything else', () => {
    expect(appNameOf('/srv/app/dist/bench/fleet.bench.js')).toBe('fleet.bench');
    expect(appNameOf('/srv/app/dist/apps/orchestrator/src/runtime/orchestrator.js')).toBe('orchestrator');
    expect(appNameOf(undefined)).toBe('unknown_service:node');
  });
});

describe('with tracing off (no OTEL_*)', () => {
  it('starts nothing: no tracer provider, no propagator, no trace fields in logs', async () => {
    expect(startTracing('orchestrator', {})).toBeUndefined();
    expect(activeTracing()).toBeUndefined();
    await expect(flushTracing()).resolves.toBeUndefined();

    const span = trace.getTracer('test').startSpan('work');
    expect(span.isRecording()).toBe(false);
    const carrier: Record<string, string> = {};
    context.with(trace.setSpan(context.active(), span), () => propagation.inject(context.active(), carrier));
    expect(carrier).toEqual({});

    // No mixin: log lines cost what they did before tracing existed.
    const logger = createLogger('orchestrator', 'info') as unknown as Record<symbol, unknown>;
    expect(logger[pino.symbols.mixinSym]).toBeUndefined();
  });
});

describe('with tracing on', () => {
  const recorder = new SpanRecorder();
  beforeAll(() => recorder.start());
  afterAll(() => recorder.stop());

  it('traceFields gives the active span ids under the OpenTelemetry log names, nothing outside a span', () => {
    expect(traceFields()).toEqual({});
    trace.getTracer('test').startActiveSpan('work', (span) => {
      const { traceId, spanId } = span.spanContext();
      expect(traceFields()).toEqual({ trace_id: traceId, span_id: spanId, trace_flags: '01' });
      span.end();
    });
  });

  it('withClientSpan runs the call in a CLIENT span, child of the active one, and records a failure', async () => {
    const tracer = trace.getTracer('test');
    await tracer.startActiveSpan('handler', async (parent) => {
      await withClientSpan('smtp send', { 'server.address': 'relay' }, async () => 'sent');
      await expect(
        withClientSpan('smtp send', { 'server.address': 'relay' }, async () => {
          throw new TypeError('SMTP send failed (421)');
        }),
      ).rejects.toThrow('SMTP send failed (421)');
      parent.end();
    });
    const spans = await recorder.spans();
    const parent = spans.find((span) => span.name === 'handler')!;
    const sends = spans.filter((span) => span.name === 'smtp send');
    expect(sends).toHaveLength(2);
    for (const send of sends) {
      expect(send.kind).toBe(SpanKind.CLIENT);
      expect(send.parentSpanContext?.spanId).toBe(parent.spanContext().spanId);
      expect(send.attributes['server.address']).toBe('relay');
    }
    expect(sends[0].status.code).toBe(SpanStatusCode.UNSET);
    expect(sends[1].status).toEqual({ code: SpanStatusCode.ERROR, message: 'TypeError' });
    expect(sends[1].attributes['error.type']).toBe('TypeError');
    expect(sends[1].events[0].attributes).toMatchObject({ 'exception.message': 'SMTP send failed (421)' });
  });
});
