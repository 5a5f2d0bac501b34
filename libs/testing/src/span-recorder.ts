import { context, propagation, trace, type ProxyTracerProvider } from '@opentelemetry/api';
import { NodeSDK, type NodeSDKConfiguration } from '@opentelemetry/sdk-node';

type Exporter = NodeSDKConfiguration['traceExporter'];
export type FinishedSpan = Parameters<Exporter['export']>[0][number];

/**
 * Span recording for tests of the tracing code (libs/platform, libs/messaging, libs/event-store).
 *
 * The real Node SDK (W3C propagation, async context) registered in the test's process, exporting into memory
 * instead of over OTLP; no instrumentation.
 */
export class SpanRecorder {
  private readonly exported: FinishedSpan[] = [];
  private sdk?: NodeSDK;

  start(): void {
    const exporter: Exporter = {
      export: (spans, done) => {
        this.exported.push(...spans);
        done({ code: 0 });
      },
      shutdown: async () => undefined,
    };
    this.sdk = new NodeSDK({
      traceExporter: exporter,
      instrumentations: [],
      metricReaders: [],
      logRecordProcessors: [],
      autoDetectResources: false,
    });
    this.sdk.start();
  }

  /** Every span ended so far. */
  async spans(): Promise<FinishedSpan[]> {
    const provider = (trace.getTracerProvider() as ProxyTracerProvider).getDelegate();
    await (provider as unknown as { forceFlush(): Promise<void> }).forceFlush();
    return [...this.exported];
  }

  async span(name: string): Promise<FinishedSpan> {
    const found = (await this.spans()).filter((span) => span.name === name);
    if (found.length !== 1) throw new Error(`expected one span named ${name}, found ${found.length}`);
    return found[0];
  }

  /** Unregisters everything, as in a process that never started tracing. */
  async stop(): Promise<void> {
    await this.sdk?.shutdown();
    trace.disable();
    propagation.disable();
    context.disable();
  }
}
