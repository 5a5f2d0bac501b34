import { isSpanContextValid, trace } from '@opentelemetry/api';
import pino, { type Logger } from 'pino';
import { activeTracing } from './tracing';

/** Field names whose values are always masked, wherever they appear in a log object. */
export const REDACTED_PATHS = [
  'password',
  '*.password',
  '*.*.password',
  'secret',
  '*.secret',
  'secretKey',
  '*.secretKey',
  'token',
  '*.token',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'req.headers.authorization',
  'accessKey',
  '*.accessKey',
];

/**
 * The trace and span of the active span, under the names OpenTelemetry's log data model gives them
 * (`trace_id`, `span_id`, `trace_flags`), so a log line leads to its trace and back; nothing outside a span.
 */
export function traceFields(): Record<string, string> {
  const spanContext = trace.getActiveSpan()?.spanContext();
  if (!spanContext || !isSpanContextValid(spanContext)) return {};
  return {
    trace_id: spanContext.traceId,
    span_id: spanContext.spanId,
    trace_flags: `0${spanContext.traceFlags.toString(16)}`.slice(-2),
  };
}

/** With tracing on (tracing.ts), every line logged inside a span carries its trace and span ids. */
export function createLogger(service: string, level = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({
    name: service,
    level,
    base: { service },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    ...(activeTracing() ? { mixin: traceFields } : {}),
  });
}
export type { Logger };
