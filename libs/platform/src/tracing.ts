import { createRequire } from 'node:module';
import { basename, extname } from 'node:path';
import {
  SamplingDecision,
  SpanKind,
  TraceFlags,
  trace,
  type Context,
  type Sampler,
} from '@opentelemetry/api';

/**
 * OpenTelemetry tracing of a process, off unless the standard `OTEL_*` variables ask for it. When on, the Node
 * SDK exports spans as those variables say (`OTEL_EXPORTER_OTLP_*`, `OTEL_TRACES_SAMPLER`, `OTEL_BSP_*`…),
 * with W3C trace context propagation, and the HTTP (server and client), fetch, PostgreSQL and MySQL drivers are
 * instrumented. The SDK and the instrumentations are loaded only then: a process without `OTEL_*` loads none of
 * them and registers nothing, so every span the libraries start is a no-op.
 */

export interface TracingSettings {
  serviceName: string;
}

export interface Tracing {
  readonly serviceName: string;
  /** Exports the spans ended so far. */
  flush(): Promise<void>;
  /** Exports what is left and stops; spans ended afterwards are dropped. */
  shutdown(): Promise<void>;
}

type Env = Readonly<Record<string, string | undefined>>;

const set = (value: string | undefined): boolean => (value ?? '').trim() !== '';

/**
 * Whether the environment asks for traces, and under which service name. On with a traces exporter other than
 * `none` (`OTEL_TRACES_EXPORTER`) or an OTLP endpoint (`OTEL_EXPORTER_OTLP_ENDPOINT`,
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`); off whatever else is set with `OTEL_SDK_DISABLED=true`. Nothing set means off, not the SDK's own default (OTLP to
 * localhost:4318), which would make every process that never heard of a collector retry exports forever.
 */
export function tracingSettings(env: Env, appName: string): TracingSettings | undefined {
  if ((env.OTEL_SDK_DISABLED ?? '').trim().toLowerCase() === 'true') return undefined;
  const exporters = (env.OTEL_TRACES_EXPORTER ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  if (exporters.includes('none')) return undefined;
  const asked =
    exporters.length > 0 ||
    set(env.OTEL_EXPORTER_OTLP_ENDPOINT) ||
    set(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
  if (!asked) return undefined;
  return { serviceName: env.OTEL_SERVICE_NAME?.trim() || appName };
}

/**
 * The app a main module belongs to: `<app>` for `apps/<app>/src/main.js` (built or not), else the file's
 * name. It is the default `service.name`, the name each app also logs under.
 */
export function appNameOf(mainFile: string | undefined): string {
  if (!mainFile) return 'unknown_service:node';
  const app = /(?:^|[\\/])apps[\\/]([^\\/]+)[\\/]src[\\/]main\.[cm]?[jt]s$/.exec(mainFile)?.[1];
  return app ?? basename(mainFile, extname(mainFile));
}

/**
 * A URL as a client span may record it (`url.full`, `url.query`): the query's parameter names kept, every
 * non-empty value replaced. Query strings carry secrets the instrumentations cannot recognise (an operator's billing export URL
 * with `?token=…`), and they redact only a fixed list of names (AWS and GCS signatures); credentials in the
 * authority are dropped too.
 */
export function redactedUrl(url: URL): { full: string; query: string } {
  const redacted = new URL(url.href);
  redacted.username = '';
  redacted.password = '';
  // An empty value stays empty (an S3 subresource such as `?versioning`): there is nothing in it to hide.
  const entries = [...redacted.searchParams].map(([name, value]): [string, string] => [
    name,
    value === '' ? '' : 'REDACTED',
  ]);
  redacted.search = new URLSearchParams(entries).toString();
  return { full: redacted.href, query: redacted.search };
}

/** `url.full` and `url.query` of an outgoing request whose URL has a query or credentials, else nothing to change. */
function redactedUrlAttributes(url: URL | undefined): Record<string, string> {
  if (!url || (url.search === '' && !url.username && !url.password)) return {};
  const { full, query } = redactedUrl(url);
  return { 'url.full': full, ...(url.search ? { 'url.query': query } : {}) };
}

/** The URL of a node:http request as the HTTP instrumentation hands it to its hooks. */
function httpRequestUrl(options: {
  protocol?: string | null;
  host?: string | null;
  hostname?: string | null;
  port?: string | number | null;
  path?: string | null;
}): URL | undefined {
  try {
    const host = options.hostname ?? options.host ?? 'localhost';
    const port = options.port ? `:${options.port}` : '';
    return new URL(
      `${options.protocol ?? 'http:'}//${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}${port}${options.path ?? '/'}`,
    );
  } catch {
    return undefined;
  }
}

/** Requests the instrumentations leave out: probes and scrapes, several a second, none part of a tenant's path. */
const UNTRACED_PATHS = /^\/(health|ready|metrics)(\/|\?|$)/;

/**
 * The SDK's default sampling (parent-based, every root sampled), except a client call made outside any
 * operation: a readiness probe's `SELECT 1` would otherwise start a trace of its own at every probe (the MySQL
 * instrumentation, unlike the others, has no option to require a parent). Used unless `OTEL_TRACES_SAMPLER`
 * chooses a sampler.
 */
export const parentBasedWithoutRootClients: Sampler = {
  shouldSample: (context: Context, _traceId: string, _name: string, kind: SpanKind) => {
    const parent = trace.getSpanContext(context);
    if (parent && trace.isSpanContextValid(parent)) {
      const sampled = (parent.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED;
      return { decision: sampled ? SamplingDecision.RECORD_AND_SAMPLED : SamplingDecision.NOT_RECORD };
    }
    return {
      decision: kind === SpanKind.CLIENT ? SamplingDecision.NOT_RECORD : SamplingDecision.RECORD_AND_SAMPLED,
    };
  },
  toString: () => 'ParentBased{root=AlwaysOn except CLIENT spans}',
};

let started: Tracing | undefined;

/** The tracing this process started, if any. */
export function activeTracing(): Tracing | undefined {
  return started;
}

/**
 * Starts tracing when `env` asks for it (see `tracingSettings`); once per process, later calls return the
 * first one's. Must run before the instrumented modules (http, pg, mysql2) are first required: they are
 * patched as they load.
 */
export function startTracing(appName: string, env: Env = process.env): Tracing | undefined {
  if (started) return started;
  const settings = tracingSettings(env, appName);
  if (!settings) return undefined;
  // Loaded here, not imported: a process with tracing off must not pay for loading the SDK.
  const load = createRequire(__filename);
  const { NodeSDK } = load('@opentelemetry/sdk-node') as typeof import('@opentelemetry/sdk-node');
  const { HttpInstrumentation } = load(
    '@opentelemetry/instrumentation-http',
  ) as typeof import('@opentelemetry/instrumentation-http');
  const { UndiciInstrumentation } = load(
    '@opentelemetry/instrumentation-undici',
  ) as typeof import('@opentelemetry/instrumentation-undici');
  const { PgInstrumentation } = load(
    '@opentelemetry/instrumentation-pg',
  ) as typeof import('@opentelemetry/instrumentation-pg');
  const { MySQL2Instrumentation } = load(
    '@opentelemetry/instrumentation-mysql2',
  ) as typeof import('@opentelemetry/instrumentation-mysql2');
  const sdk = new NodeSDK({
    serviceName: settings.serviceName,
    ...(set(env.OTEL_TRACES_SAMPLER) ? {} : { sampler: parentBasedWithoutRootClients }),
    // Traces only: metrics stay on /metrics (Prometheus) and logs on stdout.
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (request) => UNTRACED_PATHS.test(request.url ?? ''),
        // Outgoing calls count inside an operation (a step's S3, Kubernetes or Grafana call), not alone.
        requireParentforOutgoingSpans: true,
        startOutgoingSpanHook: (options) => redactedUrlAttributes(httpRequestUrl(options)),
      }),
      // Node's fetch and the npm undici (under @kubernetes/client-node) publish on the same process-wide
      // `undici:*` diagnostics channels, so this one instrumentation traces the calls of both.
      new UndiciInstrumentation({
        requireParentforSpans: true,
        startSpanHook: (request) => {
          try {
            return redactedUrlAttributes(new URL(request.path, request.origin));
          } catch {
            return {};
          }
        },
      }),
      // The subscriptions' polling and LISTEN would each start a trace of their own, several a second; a
      // pool checkout is not a call to the server.
      new PgInstrumentation({ requireParentSpan: true, ignoreConnectSpans: true }),
      // Statements carry passwords (`IDENTIFIED BY '…'`): every literal is masked before it is recorded.
      new MySQL2Instrumentation({ maskStatement: true }),
    ],
  });
  sdk.start();
  started = {
    serviceName: settings.serviceName,
    flush: async () => {
      const provider = trace.getTracerProvider() as { getDelegate?: () => unknown };
      const delegate = (provider.getDelegate?.() ?? provider) as { forceFlush?: () => Promise<void> };
      await delegate.forceFlush?.();
    },
    shutdown: () => sdk.shutdown(),
  };
  return started;
}

/** Exports the spans ended so far, when tracing is on; call it last on the way out (a no-op otherwise). */
export async function flushTracing(): Promise<void> {
  await started?.flush();
}
