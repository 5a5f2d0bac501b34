import { spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import {
  COMMAND_CATALOG,
  commandRoutingKey,
  PROVISIONING_STEPS,
  tenantStream,
  type CommandType,
  type TenantProfile,
} from '@app/contracts';
import { createEventStore, type EventStore, type RecordedEvent } from '@app/event-store';
import { FakeApiServer } from '@app/kube';
import { rabbit } from '@app/testing';
import { APPS, LocalStack, specSubscriptionCreated } from '../support/local-stack';
import { serviceAccountUser } from '../support/rbac';
import { removeTenantResources } from '../support/tenant-cleanup';
import type { TenantView } from '../support/tenant-views';

/**
 * OpenTelemetry across every process: each app exports its spans over OTLP/HTTP (JSON) to a receiver this suite
 * runs, and two tenants provisioned side by side must each be one trace, from the billing webhook's HTTP span
 * through every decision, command publish and delivery, adapter call and result append, parented across
 * processes through the AMQP headers and the events' metadata. A third tenant, provisioned with the k8s-service
 * delivering directly to a Kubernetes API server (the local double) instead of committing for Argo CD, shows each
 * of its API calls as an HTTP CLIENT span under the command's delivery. Also: without OTEL_* no SDK is even loaded.
 */

const ROOT = resolve(__dirname, '../..');
const run = randomBytes(3).toString('hex');
const dir = mkdtempSync(join(tmpdir(), `e2e-trace-${run}-`));

const SPAN_KIND = { INTERNAL: 1, SERVER: 2, CLIENT: 3, PRODUCER: 4, CONSUMER: 5 } as const;

interface ExportedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
  statusCode: number;
}

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
  arrayValue?: { values?: OtlpValue[] };
}
interface OtlpAttribute {
  key: string;
  value: OtlpValue;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes?: OtlpAttribute[];
  status?: { code?: number };
}
interface OtlpRequest {
  resourceSpans?: {
    resource?: { attributes?: OtlpAttribute[] };
    scopeSpans?: { spans?: OtlpSpan[] }[];
  }[];
}

function valueOf(value: OtlpValue): unknown {
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.arrayValue) return (value.arrayValue.values ?? []).map(valueOf);
  return undefined;
}

function attributesOf(attributes: OtlpAttribute[] = []): Record<string, unknown> {
  return Object.fromEntries(attributes.map((a) => [a.key, valueOf(a.value)]));
}

/** A collector's OTLP/HTTP traces endpoint (`POST /v1/traces`, JSON), keeping every span it receives. */
class OtlpReceiver {
  readonly spans: ExportedSpan[] = [];
  private server?: Server;

  async start(): Promise<string> {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        if (request.method !== 'POST' || request.url !== '/v1/traces') {
          response.writeHead(404).end();
          return;
        }
        const raw = Buffer.concat(chunks);
        const body = request.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
        this.collect(JSON.parse(body.toString('utf8')) as OtlpRequest);
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((ready) => this.server!.listen(0, '127.0.0.1', ready));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  private collect(request: OtlpRequest): void {
    for (const resourceSpans of request.resourceSpans ?? []) {
      const service = String(attributesOf(resourceSpans.resource?.attributes)['service.name']);
      for (const scope of resourceSpans.scopeSpans ?? []) {
        for (const span of scope.spans ?? []) {
          this.spans.push({
            service,
            traceId: span.traceId,
            spanId: span.spanId,
            parentSpanId: span.parentSpanId || undefined,
            name: span.name,
            kind: span.kind,
            attributes: attributesOf(span.attributes),
            statusCode: span.status?.code ?? 0,
          });
        }
      }
    }
  }

  async stop(): Promise<void> {
    await new Promise<void>((done) => (this.server ? this.server.close(() => done()) : done()));
  }
}

const receiver = new OtlpReceiver();
/** The Kubernetes API the k8s-service is pointed at for the direct-delivery case (it plays the controllers). */
const kube = new FakeApiServer();
let stack: LocalStack;
let events: EventStore;
const profiles: TenantProfile[] = [];
/** A queue bound to every integration event on `tenant.events`, as billing or a CRM would bind one. */
const TAP = 'integration-tap';
const vhost = `e2e-trace-${run}`;

beforeAll(async () => {
  const endpoint = await receiver.start();
  const otel = {
    OTEL_TRACES_EXPORTER: 'otlp',
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
    // Spans leave each process within 200 ms (the SDK's default batches every 5 s).
    OTEL_BSP_SCHEDULE_DELAY: '200',
  };
  stack = new LocalStack({
    dir,
    database: 'provisioning_test',
    schemaPrefix: `e2e_trace_${run}`,
    vhost,
    // Debug: the per-delivery and per-publish lines are the ones written inside spans.
    logLevel: 'debug',
    env: Object.fromEntries(APPS.map((app) => [app, otel])),
  });
  await stack.start();
  events = await createEventStore(stack.pgUrl, { schema: stack.eventStoreSchema, migrate: false });
  const admin = rabbit.management();
  await admin.declareQueue(vhost, { name: TAP, durable: false });
  await admin.createBinding(vhost, { source: 'tenant.events', destination: TAP, routingKey: '#' });
});

afterAll(async () => {
  try {
    if (stack) {
      await stack.stop();
      try {
        await kube.stop();
        await events?.close();
        await removeTenantResources(stack, profiles);
      } finally {
        await stack.removeVhost();
        await stack.dropSchemas();
      }
    }
  } finally {
    await receiver.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Steps that run after activation, without which the tenant's trace is not complete yet. */
const AFTER_ACTIVATION = ['website-activation', 'welcome-email'];

async function waitUntilDone(tenantId: string, timeoutMs = 90_000): Promise<TenantView> {
  const until = Date.now() + timeoutMs;
  let last: TenantView | undefined;
  for (;;) {
    last = await stack.getJson<TenantView>(`/api/v1/tenants/${tenantId}`).catch(() => last);
    const done =
      last?.state === 'failed' ||
      (last?.state === 'active' &&
        AFTER_ACTIVATION.every((step) =>
          last!.steps.some((s) => s.step === step && s.status === 'succeeded'),
        ));
    if (last && done) return last;
    if (Date.now() > until) throw new Error(`tenant ${tenantId} stuck in ${last?.state}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

/** Retries an assertion until it passes (spans arrive in batches, from eight processes); the last failure is thrown. */
async function eventually<T>(check: () => T | Promise<T>, timeoutMs = 20_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > until) throw error;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/** Tree dump of one trace, for the failure messages. */
function describeTrace(spans: readonly ExportedSpan[]): string {
  const children = new Map<string | undefined, ExportedSpan[]>();
  const ids = new Set(spans.map((s) => s.spanId));
  for (const span of spans) {
    const parent = span.parentSpanId && ids.has(span.parentSpanId) ? span.parentSpanId : undefined;
    children.set(parent, [...(children.get(parent) ?? []), span]);
  }
  const lines: string[] = [];
  const walk = (parent: string | undefined, depth: number) => {
    for (const span of children.get(parent) ?? []) {
      if (span.name.startsWith('pg.')) continue;
      lines.push(`${'  '.repeat(depth)}${span.service}: ${span.name}`);
      walk(span.spanId, depth + 1);
    }
  };
  walk(undefined, 0);
  return lines.join('\n');
}

/** One exported trace, with the lookups the assertions need; each throws naming what is missing. */
class Trace {
  private readonly byId: Map<string, ExportedSpan>;

  constructor(readonly spans: readonly ExportedSpan[]) {
    this.byId = new Map(spans.map((span) => [span.spanId, span]));
  }

  parentOf(span: ExportedSpan): ExportedSpan | undefined {
    return span.parentSpanId ? this.byId.get(span.parentSpanId) : undefined;
  }

  childrenOf(span: ExportedSpan): ExportedSpan[] {
    return this.spans.filter((candidate) => candidate.parentSpanId === span.spanId);
  }

  where(what: string, match: (span: ExportedSpan) => boolean): ExportedSpan[] {
    const found = this.spans.filter(match);
    if (found.length === 0) throw new Error(`no ${what} in the trace:\n${describeTrace(this.spans)}`);
    return found;
  }
}

const isAppend = (span: ExportedSpan) => span.name === 'append tenant' && span.kind === SPAN_KIND.INTERNAL;
const appended = (span: ExportedSpan, type: string) =>
  isAppend(span) && (span.attributes['event_store.event.types'] as string[]).includes(type);
const httpTo = (url: string | undefined) => (span: ExportedSpan) =>
  span.kind === SPAN_KIND.CLIENT &&
  span.attributes['http.request.method'] !== undefined &&
  url !== undefined &&
  span.attributes['server.port'] === Number(new URL(url).port);

/**
 * A call to the Kubernetes API server at `apiServer`, as the HTTP client conventions describe it: the method,
 * the server's address and port, the full URL (under `/api` or `/apis`) and the answer's status.
 */
const kubeApiCall = (apiServer: string) => {
  const { hostname, port, origin } = new URL(apiServer);
  return (span: ExportedSpan) =>
    span.kind === SPAN_KIND.CLIENT &&
    typeof span.attributes['http.request.method'] === 'string' &&
    span.attributes['server.address'] === hostname &&
    span.attributes['server.port'] === Number(port) &&
    String(span.attributes['url.full']).startsWith(`${origin}/api`) &&
    typeof span.attributes['http.response.status_code'] === 'number';
};

type SpanCheck = (span: ExportedSpan) => boolean;
/** Spans a step's delivery must have under it: one matching the check, or one matching each check of a list. */
type Adapter = SpanCheck | readonly SpanCheck[] | 'git';

/** How the k8s-service delivers: commits for Argo CD (the stack's default), or applies to an API server. */
type K8sDelivery = { mode: 'gitops' } | { mode: 'direct'; apiServer: string };
const GITOPS: K8sDelivery = { mode: 'gitops' };

/**
 * The outside system each provisioning command reaches, as the span its adapter call leaves under the command's
 * delivery: the automatic instrumentations' (MySQL, HTTP to the S3 server, the RabbitMQ management API, Grafana,
 * the websites API, the tenant's health, the Kubernetes API server) and SMTP's own. The GitOps steps reach only
 * the manifests repository through git processes, whose spans belong to the group commit that carried the change
 * (see the git check below); `git` marks them. With direct delivery, the k8s-service's steps apply and read
 * through the Kubernetes client (the npm undici under `@kubernetes/client-node`), and VerifyKubernetes reads the
 * cluster before it asks the tenant's `/health`.
 */
function adapterSpans(k8s: K8sDelivery): Record<CommandType, Adapter> {
  const env = (app: Parameters<LocalStack['envs']['get']>[0], key: string) => stack.envs.get(app)?.[key];
  const mysql = (span: ExportedSpan) =>
    span.kind === SPAN_KIND.CLIENT && span.attributes['db.system.name'] === 'mysql';
  const s3 = (span: ExportedSpan) =>
    span.kind === SPAN_KIND.CLIENT && span.attributes['server.port'] === 7480;
  const management = httpTo('http://127.0.0.1:15672');
  const websites = httpTo(env('notification-service', 'WEBSITES_API_URL'));
  const smtpPort = Number(new URL(env('notification-service', 'SMTP_URL') ?? 'smtp://x:1').port);
  const smtp = (span: ExportedSpan) =>
    span.name === 'smtp send' &&
    span.kind === SPAN_KIND.CLIENT &&
    span.attributes['server.port'] === smtpPort;
  const tenantHealth = httpTo(env('k8s-service', 'TENANT_HEALTH_BASE_URL'));
  const kubeApi = k8s.mode === 'direct' ? kubeApiCall(k8s.apiServer) : undefined;
  const table: Partial<Record<CommandType, Adapter>> = {
    ProvisionNamespace: kubeApi ?? 'git',
    ProvisionDatabases: mysql,
    ProvisionStorage: s3,
    ProvisionBroker: management,
    DeployWorkloads: kubeApi ?? 'git',
    ConfigureIngress: kubeApi ?? 'git',
    ProvisionMonitoring: 'git',
    CreateWebsiteRecord: websites,
    VerifyKubernetes: kubeApi ? [kubeApi, tenantHealth] : tenantHealth,
    VerifyDatabases: mysql,
    VerifyStorage: s3,
    VerifyBroker: management,
    ActivateWebsiteRecord: websites,
    SendWelcomeEmail: smtp,
    CreateGrafanaViewer: httpTo(env('monitoring-service', 'GRAFANA_URL')),
  };
  return table as Record<CommandType, Adapter>;
}

/** The broker every bus span names (`server.address`, `server.port`): the stack's, never its credentials. */
function broker(): Record<string, unknown> {
  const url = new URL(stack.amqpUrl);
  return { 'server.address': url.hostname, 'server.port': Number(url.port || 5672) };
}

/** The integration events the tap received so far: each body (a structured CloudEvent) and AMQP headers. */
const published: { body: Record<string, unknown>; headers: Record<string, unknown> }[] = [];
async function drainTap(): Promise<typeof published> {
  const auth = `Basic ${Buffer.from(`${rabbit.ADMIN_USER}:${rabbit.ADMIN_PASSWORD}`).toString('base64')}`;
  const response = await fetch(
    `${rabbit.MANAGEMENT_URL}/api/queues/${encodeURIComponent(vhost)}/${TAP}/get`,
    {
      method: 'POST',
      headers: { authorization: auth, 'content-type': 'application/json' },
      body: JSON.stringify({ count: 100, ackmode: 'ack_requeue_false', encoding: 'auto' }),
    },
  );
  if (!response.ok) throw new Error(`management get answered ${response.status}`);
  const messages = (await response.json()) as { payload: string; properties: { headers?: object } }[];
  for (const message of messages) {
    published.push({
      body: JSON.parse(message.payload) as Record<string, unknown>,
      headers: (message.properties.headers ?? {}) as Record<string, unknown>,
    });
  }
  return published;
}

/** Every span that names the tenant: its decisions, commands, deliveries and appends. */
function tenantSpans(tenantId: string): ExportedSpan[] {
  return receiver.spans.filter(
    (span) =>
      span.attributes['provisioning.tenant.id'] === tenantId ||
      span.attributes['event_store.stream'] === tenantStream(tenantId),
  );
}

/**
 * The whole chain of one tenant in its trace: the webhook's server span is the only root; the intake append is
 * its child; every provisioning step's command is published under a decision, consumed in its service under
 * that publish, reaches its outside system there, and appends its result there; every decision is a child of
 * the append of the event that caused it.
 */
function checkTenantTrace(tenantId: string, stored: readonly RecordedEvent[], k8s = GITOPS): Trace {
  const traceIds = new Set(tenantSpans(tenantId).map((span) => span.traceId));
  expect(traceIds.size).toBe(1);
  const trace = new Trace(receiver.spans.filter((span) => span.traceId === [...traceIds][0]));

  // Parented correctly: one root, and every other span's parent exported in the same trace.
  const roots = trace.spans.filter((span) => span.parentSpanId === undefined);
  expect(roots).toHaveLength(1);
  const [root] = roots;
  expect(root).toMatchObject({ service: 'provisioning-api', kind: SPAN_KIND.SERVER });
  expect(root.attributes).toMatchObject({
    'http.request.method': 'POST',
    'url.path': '/api/v1/provisioning/webhooks/subscription-created',
    'http.response.status_code': 202,
  });
  const orphans = trace.spans.filter((span) => span !== root && !trace.parentOf(span));
  expect(orphans.map((span) => `${span.service}: ${span.name}`)).toEqual([]);

  const [intake] = trace.where('intake append', (span) => appended(span, 'TenantRequested'));
  expect(intake).toMatchObject({ service: 'provisioning-api', parentSpanId: root.spanId });
  expect(intake.attributes['event_store.stream']).toBe(tenantStream(tenantId));

  const decisions = trace.where('decision', (span) => span.name === 'decide tenant');
  for (const decision of decisions) {
    expect(decision.service).toBe('orchestrator');
    expect(decision.attributes['provisioning.tenant.id']).toBe(tenantId);
    expect(isAppend(trace.parentOf(decision)!)).toBe(true);
  }
  expect(decisions.some((decision) => trace.parentOf(decision) === intake)).toBe(true);
  // Result appends in the resource services lead to the next decisions.
  const fromResults = decisions.filter((decision) => trace.parentOf(decision)!.service.endsWith('-service'));
  expect(fromResults.length).toBeGreaterThan(3);

  const adapters = adapterSpans(k8s);
  const started = stored.filter((event) => event.type === 'StepStarted');
  expect(new Set(started.map((event) => (event.data as { step: string }).step))).toEqual(
    new Set(PROVISIONING_STEPS.map((step) => step.name)),
  );
  for (const event of started) {
    const { commandId, commandType, service } = event.data as {
      commandId: string;
      commandType: CommandType;
      service: string;
    };
    const what = `${commandType} (${commandId})`;
    const publishes = trace.where(
      `publish of ${what}`,
      (span) => span.kind === SPAN_KIND.PRODUCER && span.attributes['messaging.message.id'] === commandId,
    );
    for (const publish of publishes) {
      expect(publish).toMatchObject({ service: 'orchestrator', name: 'publish provisioning.commands' });
      expect(publish.attributes).toMatchObject({
        'messaging.system': 'rabbitmq',
        'messaging.destination.name': 'provisioning.commands',
        'messaging.rabbitmq.destination.routing_key': commandRoutingKey(commandType),
        'provisioning.tenant.id': tenantId,
        ...broker(),
      });
      expect(trace.parentOf(publish)?.name).toBe('decide tenant');
    }
    const [consume] = trace.where(
      `delivery of ${what}`,
      (span) =>
        span.kind === SPAN_KIND.CONSUMER && publishes.some((publish) => span.parentSpanId === publish.spanId),
    );
    expect(consume).toMatchObject({ service: `${service}-service`, name: 'process provisioning.commands' });
    expect(consume.attributes).toMatchObject({
      'messaging.system': 'rabbitmq',
      'messaging.operation.type': 'process',
      'messaging.message.id': commandId,
      'provisioning.delivery.outcome': 'handled',
      ...broker(),
    });
    const under = trace.childrenOf(consume);
    const result = COMMAND_CATALOG[commandType].succeeded;
    expect(under.filter((span) => appended(span, result)).map((span) => span.service)).toEqual([
      `${service}-service`,
    ]);
    const adapter = adapters[commandType];
    expect(adapter).toBeDefined();
    if (adapter !== 'git') {
      const checks = [adapter].flat();
      expect({ [what]: checks.map((check) => under.some(check)) }).toEqual({
        [what]: checks.map(() => true),
      });
    }
  }

  // Each stored event keeps the context of the append span that wrote it.
  for (const event of stored) {
    const [, traceId, spanId] = String(event.metadata.traceparent).split('-');
    expect({ event: event.type, traceId }).toEqual({ event: event.type, traceId: trace.spans[0].traceId });
    const writer = trace.spans.find((span) => span.spanId === spanId);
    expect(writer && appended(writer, event.type)).toBe(true);
  }
  return trace;
}

describe('one trace per tenant across every process', () => {
  it('provisions two tenants side by side, each one trace from the webhook to the welcome e-mail', async () => {
    const tenantIds = await Promise.all(
      [0, 1].map(async (index) => {
        const payload = specSubscriptionCreated(`sub_trace_${run}_${index}`, `Trace${run} ${index}`);
        const response = await stack.postWebhook('subscription-created', payload);
        expect(response.status).toBe(202);
        return ((await response.json()) as { tenant_id: string }).tenant_id;
      }),
    );
    const streams = new Map<string, RecordedEvent[]>();
    for (const tenantId of tenantIds) {
      const view = await waitUntilDone(tenantId);
      const stored = await events.readStream(tenantStream(tenantId));
      const requested = stored.find((event) => event.type === 'TenantRequested');
      if (requested) profiles.push((requested.data as { tenant: TenantProfile }).tenant);
      expect(view.state).toBe('active');
      streams.set(tenantId, stored);
    }

    const traces = new Map<string, Trace>();
    await eventually(() => {
      for (const tenantId of tenantIds)
        traces.set(tenantId, checkTenantTrace(tenantId, streams.get(tenantId)!));
    });
    const [first, second] = tenantIds.map((tenantId) => traces.get(tenantId)!.spans[0].traceId);
    expect(first).not.toBe(second);
    // Every app exported under its own name.
    expect(new Set(receiver.spans.map((span) => span.service))).toEqual(new Set(APPS));
    // Git processes are CLIENT spans of both GitOps writers, inside a tenant's trace: a group commit runs in the
    // context of the change that started it, so they hang under that change's delivery, not necessarily each.
    const traceIds = new Set([first, second]);
    const gitSpans = receiver.spans.filter(
      (span) => span.kind === SPAN_KIND.CLIENT && span.name.startsWith('git ') && traceIds.has(span.traceId),
    );
    expect(new Set(gitSpans.map((span) => span.service))).toEqual(
      new Set(['k8s-service', 'monitoring-service']),
    );
    expect(gitSpans.map((span) => span.name)).toContain('git push');

    // Each tenant.activated names its tenant's trace twice over: the AMQP `traceparent` of its publish span,
    // and the CloudEvents Distributed Tracing extension, the context TenantActivated was appended in.
    for (const tenantId of tenantIds) {
      const activated = streams.get(tenantId)!.find((event) => event.type === 'TenantActivated')!;
      const traceId = traces.get(tenantId)!.spans[0].traceId;
      const until = Date.now() + 20_000;
      const isActivation = (message: (typeof published)[number]) =>
        message.body.subject === tenantId && message.body.type === 'com.collectverything.tenant.activated';
      let event = (await drainTap()).find(isActivation);
      while (!event && Date.now() < until) {
        await new Promise((r) => setTimeout(r, 250));
        event = (await drainTap()).find(isActivation);
      }
      if (!event) throw new Error(`no tenant.activated for ${tenantId} on tenant.events`);
      expect(event.body.traceparent).toBe(activated.metadata.traceparent);
      expect(String(event.body.traceparent).split('-')[1]).toBe(traceId);
      expect(event.headers['cloudEvents:traceparent']).toBe(activated.metadata.traceparent);
      const [, headerTrace, headerSpan] = String(event.headers.traceparent).split('-');
      expect(headerTrace).toBe(traceId);
      const publish = receiver.spans.find((span) => span.spanId === headerSpan);
      expect(publish).toMatchObject({
        service: 'orchestrator',
        name: 'publish tenant.events',
        kind: SPAN_KIND.PRODUCER,
      });
    }
  });

  it("continues billing's own trace for a tenant requested as a CloudEvent on billing.events", async () => {
    // Billing traces its side: its span's context arrives in the message's AMQP headers (W3C traceparent).
    const billingTrace = randomBytes(16).toString('hex');
    const billingSpan = randomBytes(8).toString('hex');
    const subscriptionId = `sub_trace_${run}_bus`;
    const company = `Trace${run} Bus`;
    const id = randomUUID();
    const event = {
      specversion: '1.0',
      id,
      source: '/billing',
      type: 'com.collectverything.billing.subscription.created',
      subject: subscriptionId,
      time: new Date().toISOString(),
      datacontenttype: 'application/json',
      data: specSubscriptionCreated(subscriptionId, company),
    };
    const auth = `Basic ${Buffer.from(`${rabbit.ADMIN_USER}:${rabbit.ADMIN_PASSWORD}`).toString('base64')}`;
    const published = await fetch(
      `${rabbit.MANAGEMENT_URL}/api/exchanges/${encodeURIComponent(vhost)}/billing.events/publish`,
      {
        method: 'POST',
        headers: { authorization: auth, 'content-type': 'application/json' },
        body: JSON.stringify({
          routing_key: 'subscription.created',
          payload: JSON.stringify(event),
          payload_encoding: 'string',
          properties: {
            content_type: 'application/cloudevents+json; charset=utf-8',
            message_id: id,
            delivery_mode: 2,
            headers: { traceparent: `00-${billingTrace}-${billingSpan}-01` },
          },
        }),
      },
    );
    expect(await published.json()).toEqual({ routed: true });
    const tenantId = await eventually(async () => {
      const page = await stack.getJson<{ items: { tenant_id: string }[] }>(
        `/api/v1/tenants?q=${encodeURIComponent(company)}`,
      );
      if (page.items.length === 0) throw new Error(`no tenant for ${company} yet`);
      return page.items[0].tenant_id;
    });
    const view = await waitUntilDone(tenantId);
    const stored = await events.readStream(tenantStream(tenantId));
    const requested = stored.find((e) => e.type === 'TenantRequested')!;
    profiles.push((requested.data as { tenant: TenantProfile }).tenant);
    expect(view.state).toBe('active');

    await eventually(() => {
      // One trace, billing's: every span naming the tenant, and every event's stored context.
      expect([...new Set(tenantSpans(tenantId).map((span) => span.traceId))]).toEqual([billingTrace]);
      for (const recorded of stored)
        expect(String(recorded.metadata.traceparent).split('-')[1]).toBe(billingTrace);
      const trace = new Trace(receiver.spans.filter((span) => span.traceId === billingTrace));
      // Its root here is the API's delivery, child of billing's span (remote: billing exports its own).
      const [consume] = trace.where(
        'the delivery of the billing CloudEvent',
        (span) => span.kind === SPAN_KIND.CONSUMER && span.parentSpanId === billingSpan,
      );
      expect(consume).toMatchObject({ service: 'provisioning-api', name: 'process billing.events' });
      expect(consume.attributes).toMatchObject({ 'messaging.message.id': id, ...broker() });
      const [intake] = trace.where('the intake append', (span) => appended(span, 'TenantRequested'));
      expect(trace.parentOf(intake)).toBe(consume);
      const orphans = trace.spans.filter((span) => span !== consume && !trace.parentOf(span));
      expect(orphans.map((span) => `${span.service}: ${span.name}`)).toEqual([]);
      expect(trace.where('a decision', (span) => span.name === 'decide tenant').length).toBeGreaterThan(3);
    });
  });

  it('traces direct delivery: every Kubernetes API call of a step is a CLIENT span under its delivery', async () => {
    // The k8s-service restarted against the API double, applying the tenant itself (the double plays the
    // Deployment, Job and cert-manager controllers VerifyKubernetes reads back); monitoring stays GitOps.
    const apiServer = await kube.start();
    const token = serviceAccountUser('k8s-service');
    Object.assign(stack.envs.get('k8s-service')!, {
      K8S_DELIVERY: 'direct',
      KUBE_API_SERVER: apiServer,
      KUBE_TOKEN: token,
    });
    await stack.kill('k8s-service', 'SIGTERM');
    await stack.startApp('k8s-service');

    const payload = specSubscriptionCreated(`sub_trace_${run}_direct`, `Trace${run} direct`);
    const response = await stack.postWebhook('subscription-created', payload);
    expect(response.status).toBe(202);
    const { tenant_id: tenantId } = (await response.json()) as { tenant_id: string };
    const view = await waitUntilDone(tenantId);
    const stored = await events.readStream(tenantStream(tenantId));
    const requested = stored.find((event) => event.type === 'TenantRequested');
    if (requested) profiles.push((requested.data as { tenant: TenantProfile }).tenant);
    expect(view.state).toBe('active');

    const trace = await eventually(() => checkTenantTrace(tenantId, stored, { mode: 'direct', apiServer }));
    // Direct for real: the service's token reached the double, applying, and no git process ran for it.
    const applies = kube.requests.filter((request) => request.user === token && request.method === 'PATCH');
    expect(applies.length).toBeGreaterThan(0);
    expect(
      trace.spans.filter((span) => span.service === 'k8s-service' && span.name.startsWith('git ')),
    ).toEqual([]);
    // Each apply the double received left its span in this trace, and every API call (discovery included)
    // hangs directly under a k8s-service delivery.
    const kubeCalls = trace.spans.filter(kubeApiCall(apiServer));
    expect(kubeCalls.filter((span) => span.attributes['http.request.method'] === 'PATCH')).toHaveLength(
      applies.length,
    );
    expect(new Set(kubeCalls.map((span) => `${span.service}: ${trace.parentOf(span)?.name}`))).toEqual(
      new Set(['k8s-service: process provisioning.commands']),
    );
    // The bearer token travels in the Authorization header only: no header, nor the token, is exported.
    const exported = receiver.spans.flatMap((span) => Object.entries(span.attributes));
    expect(exported.filter(([key]) => /authorization|http\.request\.header\./i.test(key))).toEqual([]);
    expect(JSON.stringify(receiver.spans).includes(token)).toBe(false);
  });

  it('puts the trace and span ids in the log lines written inside spans', () => {
    const traceIds = new Set(receiver.spans.map((span) => span.traceId));
    const spanIds = new Set(receiver.spans.map((span) => span.spanId));
    const report = APPS.map((app) => {
      const lines = readFileSync(join(stack.logDir, `${app}.log`), 'utf8')
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      const traced = lines.filter((line) => typeof line.trace_id === 'string');
      return {
        app,
        traced: traced.length,
        // The consumer's lines about one delivery (they carry its message id and attempt) are written in its span.
        deliveryLinesWithoutTrace: lines.filter(
          (line) => line.messageId !== undefined && line.attempt !== undefined && line.trace_id === undefined,
        ).length,
        unknownTraceOrSpan: traced.filter(
          (line) => !traceIds.has(String(line.trace_id)) || !spanIds.has(String(line.span_id)),
        ).length,
      };
    });
    for (const { app, traced } of report) expect({ app, traced: traced > 0 }).toEqual({ app, traced: true });
    expect(
      report.map(({ app, deliveryLinesWithoutTrace, unknownTraceOrSpan }) => ({
        app,
        deliveryLinesWithoutTrace,
        unknownTraceOrSpan,
      })),
    ).toEqual(APPS.map((app) => ({ app, deliveryLinesWithoutTrace: 0, unknownTraceOrSpan: 0 })));
  });

  it('never exports a secret: no stack credential in any attribute, SQL statements masked', async () => {
    // An operator's billing export URL carries its token in the query string: the API fetches it inside the
    // request's span, and the client span must not take the token along.
    const exportToken = randomBytes(16).toString('hex');
    const billing = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' }).end('[]');
    });
    await new Promise<void>((ready) => billing.listen(0, '127.0.0.1', ready));
    const port = (billing.address() as AddressInfo).port;
    try {
      const answer = await fetch(`${stack.apiUrl}/api/v1/reconciliations`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${stack.operatorToken}` },
        body: JSON.stringify({ source: `http://127.0.0.1:${port}/exports/active.json?token=${exportToken}` }),
      });
      expect(answer.status).toBe(200);
    } finally {
      await new Promise<void>((done) => billing.close(() => done()));
    }
    const fetched = await eventually(() => {
      const found = receiver.spans.find(
        (span) => span.kind === SPAN_KIND.CLIENT && span.attributes['server.port'] === port,
      );
      if (!found) throw new Error('no client span of the export fetch yet');
      return found;
    });
    expect(fetched.attributes['url.full']).toBe(
      `http://127.0.0.1:${port}/exports/active.json?token=REDACTED`,
    );

    const secrets = [
      exportToken,
      stack.webhookSecret,
      stack.webhookSigningSecret,
      stack.operatorToken,
      stack.auditorToken,
      stack.grafanaToken,
      stack.websitesToken,
      stack.secretStoreKey,
    ];
    const exported = JSON.stringify(receiver.spans);
    for (const secret of secrets) expect(exported.includes(secret)).toBe(false);
    const statements = receiver.spans
      .map((span) => span.attributes['db.query.text'])
      .filter((text): text is string => typeof text === 'string');
    expect(statements.some((text) => /IDENTIFIED BY/i.test(text))).toBe(true);
    expect(statements.filter((text) => /IDENTIFIED BY\s+'/i.test(text))).toEqual([]);
  });
});

describe('with tracing off', () => {
  /** Loads the built @app/platform in a fresh process and reports what tracing left behind. */
  function loadPlatform(env: Record<string, string>): {
    sdkModules: number;
    recording: boolean;
    injected: string[];
  } {
    const script = `
      const api = require('@opentelemetry/api');
      require('./dist/libs/platform/src/index.js');
      const sdkModules = Object.keys(require.cache).filter((file) =>
        /@opentelemetry[\\\\/](sdk-|instrumentation|exporter-|otlp-)/.test(file)).length;
      const span = api.trace.getTracer('probe').startSpan('probe');
      const carrier = {};
      api.propagation.inject(api.trace.setSpan(api.context.active(), span), carrier);
      const recording = span.isRecording();
      span.end();
      process.stdout.write(JSON.stringify({ sdkModules, recording, injected: Object.keys(carrier) }));
      process.exit(0);`;
    const result = spawnSync(process.execPath, ['-e', script], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', ...env },
      encoding: 'utf8',
      timeout: 30_000,
    });
    if (result.status !== 0) throw new Error(`probe failed (${result.status}): ${result.stderr}`);
    return JSON.parse(result.stdout) as { sdkModules: number; recording: boolean; injected: string[] };
  }

  it('loads no SDK, no exporter and no instrumentation without OTEL_*, and records nothing', () => {
    expect(loadPlatform({})).toEqual({ sdkModules: 0, recording: false, injected: [] });
    expect(
      loadPlatform({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9', OTEL_SDK_DISABLED: 'true' }),
    ).toEqual({
      sdkModules: 0,
      recording: false,
      injected: [],
    });
    // The same probe sees the SDK when the variables ask for it.
    const on = loadPlatform({
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9',
    });
    expect(on.sdkModules).toBeGreaterThan(0);
    expect(on).toMatchObject({ recording: true, injected: ['traceparent'] });
  });
});
