import { SpanStatusCode, trace } from '@opentelemetry/api';
import { eventTraceContext, type RecordedEvent } from '@app/event-store';

const tracer = trace.getTracer('orchestrator');

/** What made the orchestrator decide: a tenant event, a due timer, the start-up pass, a breaker reset. */
export type DecisionTrigger = 'event' | 'timer' | 'start' | 'breaker-reset';

/**
 * Runs one pass over a tenant in its decision span (`decide tenant`), child of the span that appended `cause`:
 * the event that triggered the pass or, for a pass no event triggered, the tenant's last event. The appends and
 * command publishes of the pass are its children, so one tenant's provisioning is one trace across every
 * process. Without trace context in the event (tracing was off then) the span starts a trace of its own.
 */
export function traceDecision<T>(
  tenantId: string,
  trigger: DecisionTrigger,
  cause: RecordedEvent | undefined,
  pass: () => Promise<T>,
): Promise<T> {
  const attributes = {
    'provisioning.tenant.id': tenantId,
    'provisioning.decision.trigger': trigger,
    ...(cause
      ? {
          'provisioning.decision.cause.type': cause.type,
          'provisioning.decision.cause.revision': cause.revision,
        }
      : {}),
  };
  return tracer.startActiveSpan(
    'decide tenant',
    { attributes },
    eventTraceContext(cause?.metadata),
    async (span) => {
      try {
        return await pass();
      } catch (error) {
        const type = error instanceof Error ? error.name : 'Error';
        span.setAttribute('error.type', type);
        span.recordException({ name: type, message: error instanceof Error ? error.message : String(error) });
        span.setStatus({ code: SpanStatusCode.ERROR, message: type });
        throw error;
      } finally {
        span.end();
      }
    },
  );
}

/** Records on the decision span what the pass found and did. */
export function recordDecision(result: { status: string; appended: number }): void {
  trace.getActiveSpan()?.setAttributes({
    'provisioning.tenant.status': result.status,
    'provisioning.decision.appended': result.appended,
  });
}
