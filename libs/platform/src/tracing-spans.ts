import { SpanKind, SpanStatusCode, trace, type Attributes } from '@opentelemetry/api';

const tracer = trace.getTracer('@app/platform');

/**
 * Runs `call` in a CLIENT span of its own, for a call to an outside system that no instrumentation sees (SMTP,
 * a git process). A failure marks the span with the error's class (`error.type`) and its message, so the message
 * must say nothing secret, as every error of this project already must; `recordMessage: false` keeps only the
 * class, for a call whose error text comes from the other side (git's stderr may quote a remote URL).
 */
export function withClientSpan<T>(
  name: string,
  attributes: Attributes,
  call: () => Promise<T>,
  options: { recordMessage?: boolean } = {},
): Promise<T> {
  return tracer.startActiveSpan(name, { kind: SpanKind.CLIENT, attributes }, async (span) => {
    try {
      return await call();
    } catch (error) {
      const type = error instanceof Error ? error.name : 'Error';
      span.setAttribute('error.type', type);
      const message = error instanceof Error ? error.message : String(error);
      span.recordException(options.recordMessage === false ? { name: type } : { name: type, message });
      span.setStatus({ code: SpanStatusCode.ERROR, message: type });
      throw error;
    } finally {
      span.end();
    }
  });
}
