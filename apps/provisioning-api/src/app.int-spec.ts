import { randomBytes } from 'node:crypto';
import { buildMetadata, deterministicId, tenantIdFromStream, tenantStream } from '@app/contracts';
import { createEventStore, type EventStore } from '@app/event-store';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { eventually, readAllWhenVisible } from '@app/testing';
import { Client } from 'pg';
import pino from 'pino';
import request from 'supertest';
import { createApp } from './app.factory';
import { loadProvisioningApiConfig } from './config';
import { signWebhook } from './http/auth';
import { TenantProjector } from './tenants/tenant-projector';
import { TestOidcProvider } from './testing/oidc-provider.test-helpers';

const DATABASE_URL =
  process.env['PROVISIONING_TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/provisioning_test';
if (!/_test(\?|$)/.test(new URL(DATABASE_URL).pathname + '?')) {
  throw new Error(`refusing to run against ${new URL(DATABASE_URL).pathname}: not a test database`);
}

const suffix = randomBytes(4).toString('hex');
const EVENT_SCHEMA = `pa_es_${suffix}`;
const READ_SCHEMA = `pa_rm_${suffix}`;
/** Billing's bearer secret (spec 1.1); the signing secret is another. */
const WEBHOOK_SECRET = `whbearer_${randomBytes(16).toString('hex')}`;
const SIGNING_SECRET = `whsec_${randomBytes(16).toString('hex')}`;
const OPERATOR = `op_${randomBytes(12).toString('hex')}`;
const AUDITOR = `au_${randomBytes(12).toString('hex')}`;
const silent = pino({ level: 'silent' });

let store: EventStore;
let app: NestExpressApplication;
let http: ReturnType<typeof request>;
const broker = { healthy: true, isHealthy: async () => broker.healthy };
const oidc = new TestOidcProvider();

/** Unique company names (letters and spaces only) so tenants of different tests never meet. */
let companyCounter = 0;
function company(label: string): string {
  companyCounter += 1;
  const tag = `${suffix}${companyCounter}`.replace(/[0-9]/g, (d) => 'abcdefghij'[Number(d)]);
  return `${label} ${tag}`;
}

function createdPayload(overrides: { subscriptionId?: string; name?: string; email?: string } = {}) {
  return {
    event: 'subscription.created',
    timestamp: '2025-01-15T10:00:00Z',
    data: {
      subscription_id: overrides.subscriptionId ?? `sub_${randomBytes(6).toString('hex')}`,
      customer: {
        name: overrides.name ?? 'ABC Corporation',
        email: overrides.email ?? `admin-${randomBytes(4).toString('hex')}@abc-corp.com`,
        billing_email: 'billing@abc-corp.com',
      },
      plan: { tier: 'premium', price: 124.99, currency: 'EUR', billing_period: 'monthly' },
      metadata: { company_size: '50-200', industry: 'retail', region: 'us-east' },
    },
  };
}

const CREATED = '/api/v1/provisioning/webhooks/subscription-created';
const CANCELLED = '/api/v1/provisioning/webhooks/subscription-cancelled';
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

async function provision(name = company('Tenant')): Promise<{ tenantId: string; subscriptionId: string }> {
  const payload = createdPayload({ name });
  const response = await http.post(CREATED).set(bearer(WEBHOOK_SECRET)).send(payload).expect(202);
  return { tenantId: response.body.tenant_id as string, subscriptionId: payload.data.subscription_id };
}

beforeAll(async () => {
  store = await createEventStore(DATABASE_URL, { schema: EVENT_SCHEMA, logger: silent, pollIntervalMs: 100 });
  const config = loadProvisioningApiConfig({
    EVENTSTORE_URL: DATABASE_URL,
    EVENTSTORE_SCHEMA: EVENT_SCHEMA,
    READ_MODEL_URL: DATABASE_URL,
    READ_MODEL_SCHEMA: READ_SCHEMA,
    WEBHOOK_SIGNING_SECRET: SIGNING_SECRET,
    WEBHOOK_BEARER_SECRET: WEBHOOK_SECRET,
    OPERATOR_TOKENS: `alice:${OPERATOR}`,
    AUDITOR_TOKENS: `audrey:${AUDITOR}`,
    LOG_LEVEL: 'silent',
    OIDC_ISSUER: await oidc.start(),
    OIDC_AUDIENCE: 'provisioning-api',
  });
  app = await createApp(config, { eventStore: store, logger: silent, brokerHealth: broker });
  await app.listen(0, '127.0.0.1');
  http = request(app.getHttpServer());
});

afterAll(async () => {
  await app?.close();
  await oidc.stop();
  await store?.close();
  const client = new Client({ connectionString: DATABASE_URL });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS "${EVENT_SCHEMA}" CASCADE`);
  await client.query(`DROP SCHEMA IF EXISTS "${READ_SCHEMA}" CASCADE`);
  await client.end();
});

describe('POST subscription-created', () => {
  it("accepts the spec's example with 202 and a status URL that answers", async () => {
    const payload = createdPayload();
    const response = await http.post(CREATED).set(bearer(WEBHOOK_SECRET)).send(payload).expect(202);

    expect(response.body).toEqual({
      tenant_id: expect.stringMatching(/^abc-corporation-[0-9a-f]{6}$/),
      domain: expect.stringMatching(/^abc-corporation(-\d+)?\.collectverything\.com$/),
      status: 'provisioning',
      status_url: `/api/v1/tenants/${response.body.tenant_id}`,
    });
    const [requested] = await store.readStream(tenantStream(response.body.tenant_id));
    expect(requested.type).toBe('TenantRequested');

    const status = await http.get(response.body.status_url).set(bearer(OPERATOR)).expect(200);
    expect(status.body).toMatchObject({
      tenant_id: response.body.tenant_id,
      state: 'requested',
      tier: 'premium',
    });
  });

  it('refuses missing or wrong credentials with a bare 401 and writes nothing', async () => {
    const payload = createdPayload();
    const attempts = [
      http.post(CREATED).send(payload),
      http.post(CREATED).set(bearer('wrong-secret-with-enough-length')).send(payload),
      http
        .post(CREATED)
        .set(bearer(WEBHOOK_SECRET.slice(0, 10)))
        .send(payload),
      http
        .post(CREATED)
        .set({ Authorization: `Basic ${WEBHOOK_SECRET}` })
        .send(payload),
      http.post(CREATED).set(bearer(SIGNING_SECRET)).send(payload),
    ];
    for (const response of await Promise.all(attempts)) {
      expect(response.status).toBe(401);
      expect(response.body).toEqual({ statusCode: 401 });
    }
    await expect(store.readStream(`subscription-${payload.data.subscription_id}`)).rejects.toMatchObject({
      code: 'EVENT_STORE.STREAM_NOT_FOUND',
    });
  });

  it('accepts an HMAC-signed request and refuses a replay of an old one', async () => {
    const body = JSON.stringify(createdPayload({ name: company('Signed') }));
    const now = String(Math.floor(Date.now() / 1000));
    await http
      .post(CREATED)
      .set({
        'Content-Type': 'application/json',
        'X-Signature-Timestamp': now,
        'X-Signature': signWebhook(SIGNING_SECRET, now, body),
      })
      .send(body)
      .expect(202);

    const old = String(Math.floor(Date.now() / 1000) - 3600);
    const replay = await http
      .post(CREATED)
      .set({
        'Content-Type': 'application/json',
        'X-Signature-Timestamp': old,
        'X-Signature': signWebhook(SIGNING_SECRET, old, body),
      })
      .send(body);
    expect(replay.status).toBe(401);
    expect(replay.body).toEqual({ statusCode: 401 });

    const tampered = await http
      .post(CREATED)
      .set({
        'Content-Type': 'application/json',
        'X-Signature-Timestamp': now,
        'X-Signature': signWebhook(SIGNING_SECRET, now, body),
      })
      .send(body.replace('premium', 'business'));
    expect(tampered.status).toBe(401);
  });

  it('answers 400 listing every violated rule', async () => {
    const payload = createdPayload();
    payload.data.customer.name = 'A!';
    payload.data.customer.email = 'not-an-email';
    payload.data.plan.tier = 'gold';
    payload.data.metadata.region = 'mars';
    const response = await http.post(CREATED).set(bearer(WEBHOOK_SECRET)).send(payload).expect(400);

    expect(response.body.error).toBe('VALIDATION_FAILED');
    const fields = (response.body.violations as { field: string; rules: string[]; messages: string[] }[]).map(
      (v) => v.field,
    );
    expect(fields.sort()).toEqual([
      'data.customer.email',
      'data.customer.name',
      'data.metadata.region',
      'data.plan.tier',
    ]);
    for (const violation of response.body.violations) {
      expect(violation.rules.length).toBeGreaterThan(0);
      expect(violation.messages.length).toBeGreaterThan(0);
    }
  });

  it('answers 413 for a 2 MB body, 415 for a non-JSON type, 400 for malformed or non-object JSON', async () => {
    const big = JSON.stringify({ ...createdPayload(), padding: 'x'.repeat(2 * 1024 * 1024) });
    const tooLarge = await http
      .post(CREATED)
      .set(bearer(WEBHOOK_SECRET))
      .set('Content-Type', 'application/json')
      .send(big);
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.body).toMatchObject({ statusCode: 413, error: 'PAYLOAD_TOO_LARGE' });

    const text = await http
      .post(CREATED)
      .set(bearer(WEBHOOK_SECRET))
      .set('Content-Type', 'text/plain')
      .send('hello');
    expect(text.status).toBe(415);

    const form = await http.post(CREATED).set(bearer(WEBHOOK_SECRET)).type('form').send({ a: 'b' });
    expect(form.status).toBe(415);

    const malformed = await http
      .post(CREATED)
      .set(bearer(WEBHOOK_SECRET))
      .set('Content-Type', 'application/json')
      .send(`{"event": "subscription.created", "secret": "${WEBHOOK_SECRET}"`);
    expect(malformed.status).toBe(400);
    expect(malformed.body).toMatchObject({ statusCode: 400, error: 'MALFORMED_JSON' });
    expect(malformed.text).not.toContain(WEBHOOK_SECRET);

    const primitive = await http
      .post(CREATED)
      .set(bearer(WEBHOOK_SECRET))
      .set('Content-Type', 'application/json')
      .send('"text"');
    expect(primitive.status).toBe(400);

    const array = await http.post(CREATED).set(bearer(WEBHOOK_SECRET)).send([1, 2]);
    expect(array.status).toBe(400);
    expect(array.body.error).toBe('VALIDATION_FAILED');
  });

  it('turns 50 concurrent deliveries of one subscription into one tenant and one read-model row', async () => {
    const name = company('Concurrent');
    const payload = createdPayload({ name });
    const responses = await Promise.all(
      Array.from({ length: 50 }, () => http.post(CREATED).set(bearer(WEBHOOK_SECRET)).send(payload)),
    );

    expect(responses.map((r) => r.status)).toEqual(Array(50).fill(202));
    const bodies = new Set(responses.map((r) => JSON.stringify(r.body)));
    expect(bodies.size).toBe(1);
    const tenantId = responses[0].body.tenant_id as string;

    const slug = tenantId.slice(0, -7);
    const tenantEvents = await readAllWhenVisible(store, { streamPrefix: `tenant-${slug}-` }, 1);
    const streams = new Set(tenantEvents.map((e) => e.streamName));
    expect([...streams]).toEqual([tenantStream(tenantId)]);
    expect(await store.readStream(tenantStream(tenantId))).toHaveLength(1);

    const page = await eventually(async () => {
      const res = await http.get('/api/v1/tenants').query({ q: name }).set(bearer(AUDITOR)).expect(200);
      return res.body.total > 0 ? res.body : undefined;
    }, 'the read model row');
    expect(page.total).toBe(1);
    expect(page.items[0]).toMatchObject({ tenant_id: tenantId, company_name: name, state: 'requested' });
  });
});

describe('POST subscription-cancelled', () => {
  it('accepts a cancellation (202, idempotent) and refuses unknown tenants and foreign subscriptions', async () => {
    const { tenantId, subscriptionId } = await provision();
    // Billing's clock a minute ahead: the deletion date is exactly 30 × 24 h after its timestamp. An older one, even
    // by a millisecond, is clamped to receipt + 30 days (a late message never shortens the grace period).
    const timestamp = new Date(Date.now() + 60_000).toISOString();
    const payload = {
      event: 'subscription.cancelled',
      timestamp,
      data: { subscription_id: subscriptionId, tenant_id: tenantId, cancellation_reason: 'downgrade' },
    };
    const first = await http.post(CANCELLED).set(bearer(WEBHOOK_SECRET)).send(payload).expect(202);
    const again = await http.post(CANCELLED).set(bearer(WEBHOOK_SECRET)).send(payload).expect(202);
    // The tenant was only requested, never activated: provisioning stops and rolls back, then it is cancelled.
    expect(first.body).toEqual({
      tenant_id: tenantId,
      status: 'cancelling',
      deletion_date: new Date(Date.parse(timestamp) + 30 * 86_400_000).toISOString(),
      status_url: `/api/v1/tenants/${tenantId}`,
    });
    expect(again.body).toEqual(first.body);
    const events = await store.readStream(tenantStream(tenantId));
    expect(events.map((e) => e.type)).toEqual(['TenantRequested', 'CancellationRequested']);

    const unknown = { ...payload, data: { ...payload.data, tenant_id: 'nobody-000000' } };
    expect((await http.post(CANCELLED).set(bearer(WEBHOOK_SECRET)).send(unknown)).status).toBe(404);
    const foreign = { ...payload, data: { ...payload.data, subscription_id: 'sub_other' } };
    const conflict = await http.post(CANCELLED).set(bearer(WEBHOOK_SECRET)).send(foreign);
    expect(conflict.status).toBe(409);
    expect(conflict.body.error).toBe('INTAKE.SUBSCRIPTION_MISMATCH');
    expect((await http.post(CANCELLED).send(payload)).status).toBe(401);
  });
});

describe('tenant queries', () => {
  it('requires an operator or auditor token', async () => {
    for (const path of [
      '/api/v1/tenants',
      '/api/v1/tenants/abc-corporation-7f3a9c',
      '/api/v1/tenants/abc-corporation-7f3a9c/events',
    ]) {
      const none = await http.get(path);
      expect(none.status).toBe(401);
      expect(none.body).toEqual({ statusCode: 401 });
      expect((await http.get(path).set(bearer(WEBHOOK_SECRET))).status).toBe(401);
    }
    await http.get('/api/v1/tenants').set(bearer(OPERATOR)).expect(200);
    await http.get('/api/v1/tenants').set(bearer(AUDITOR)).expect(200);
  });

  it('shows per-step status from the projection and filters the list', async () => {
    const name = company('Stepper');
    const { tenantId } = await provision(name);
    const commandId = deterministicId('int', tenantId, 'databases');
    const meta = (at: string) =>
      buildMetadata(
        { tenantId, actor: 'orchestrator', correlationId: deterministicId('c', tenantId) },
        commandId,
        new Date(at),
      );
    await store.append(
      tenantStream(tenantId),
      [
        {
          id: deterministicId('started', commandId),
          type: 'StepStarted',
          data: {
            step: 'databases',
            commandId,
            commandType: 'ProvisionDatabases',
            service: 'database',
            attempt: 1,
            deadline: '2025-01-15T10:03:00Z',
            params: {},
          },
          metadata: meta('2025-01-15T10:00:01.000Z'),
        },
        {
          id: deterministicId('failed', commandId),
          type: 'DatabasesProvisioningFailed',
          data: {
            commandId,
            step: 'databases',
            attempts: 3,
            error: { code: 'DATABASE.GRANT_REFUSED', message: 'refused', retryable: false },
          },
          metadata: meta('2025-01-15T10:00:03.500Z'),
        },
      ],
      { expectedRevision: 0 },
    );

    const detail = await eventually(async () => {
      const res = await http.get(`/api/v1/tenants/${tenantId}`).set(bearer(OPERATOR)).expect(200);
      return res.body.revision === 2 ? res.body : undefined;
    }, 'the projected steps');
    expect(detail).toMatchObject({
      tenant_id: tenantId,
      state: 'provisioning',
      current_step: 'databases',
      company_name: name,
    });
    expect(detail.steps).toEqual([
      expect.objectContaining({
        step: 'databases',
        status: 'failed',
        attempt: 1,
        started_at: '2025-01-15T10:00:01.000Z',
        finished_at: '2025-01-15T10:00:03.500Z',
        duration_ms: 2500,
        error: { code: 'DATABASE.GRANT_REFUSED', message: 'refused', retryable: false },
      }),
    ]);

    // The detail may come from folding the stream; the list only from the read model, which follows it.
    const filtered = await eventually(async () => {
      const res = await http
        .get('/api/v1/tenants')
        .query({ q: name, state: 'provisioning', tier: 'premium' })
        .set(bearer(AUDITOR))
        .expect(200);
      return res.body.items.length > 0 ? res.body : undefined;
    }, 'the projected list');
    expect(filtered.items.map((t: { tenant_id: string }) => t.tenant_id)).toEqual([tenantId]);
    const none = await http
      .get('/api/v1/tenants')
      .query({ q: name, state: 'active' })
      .set(bearer(AUDITOR))
      .expect(200);
    expect(none.body).toMatchObject({ items: [], total: 0 });
  });

  it('answers 400 for a bad id or filter and 404 for an unknown tenant', async () => {
    const badId = await http.get('/api/v1/tenants/Not_A_Tenant').set(bearer(OPERATOR));
    expect(badId.status).toBe(400);
    expect((await http.get('/api/v1/tenants/nobody-000000').set(bearer(OPERATOR))).status).toBe(404);
    expect((await http.get('/api/v1/tenants/nobody-000000/events').set(bearer(OPERATOR))).status).toBe(404);
    const badFilter = await http
      .get('/api/v1/tenants')
      .query({ state: 'gone', tier: 'gold', limit: '0' })
      .set(bearer(OPERATOR));
    expect(badFilter.status).toBe(400);
    expect(badFilter.body.violations.map((v: { field: string }) => v.field).sort()).toEqual([
      'limit',
      'state',
      'tier',
    ]);
  });

  it('pages the audit history and redacts secret-looking keys', async () => {
    const { tenantId } = await provision();
    const extra = Array.from({ length: 4 }, (_, i) => ({
      id: deterministicId('audit', tenantId, String(i)),
      type: 'OperatorRetryRequested',
      data: {
        step: `s${i}`,
        reason: 'r',
        operator: 'alice',
        password: 'hunter2-should-not-leak',
        secretPath: '/e-commerce/x',
      },
      metadata: buildMetadata(
        { tenantId, actor: 'operator:alice', correlationId: 'corr', causationId: 'cause' },
        deterministicId('audit', tenantId, String(i)),
        new Date('2025-01-16T00:00:00.000Z'),
      ),
    }));
    await store.append(tenantStream(tenantId), extra, { expectedRevision: 0 });

    const first = await http
      .get(`/api/v1/tenants/${tenantId}/events`)
      .query({ from: 0, limit: 2 })
      .set(bearer(AUDITOR))
      .expect(200);
    expect(first.body.events.map((e: { revision: number }) => e.revision)).toEqual([0, 1]);
    expect(first.body.next_from).toBe(2);
    expect(first.body.events[0]).toMatchObject({
      type: 'TenantRequested',
      actor: 'provisioning-api',
      revision: 0,
    });
    expect(first.body.events[1]).toMatchObject({
      type: 'OperatorRetryRequested',
      actor: 'operator:alice',
      correlation_id: 'corr',
      causation_id: 'cause',
      data: { password: '[redacted]', secretPath: '/e-commerce/x' },
    });
    const rest = await http
      .get(`/api/v1/tenants/${tenantId}/events`)
      .query({ from: 2, limit: 10 })
      .set(bearer(AUDITOR))
      .expect(200);
    expect(rest.body.events.map((e: { revision: number }) => e.revision)).toEqual([2, 3, 4]);
    expect(rest.body.next_from).toBeNull();
    expect(first.text + rest.text).not.toContain('hunter2');
  });

  it('rebuilds the read model from scratch by replaying the streams', async () => {
    // The streams are the truth: every tenant stream that starts with TenantRequested must come back as a row.
    // Both sides follow the store's visibility horizon, so compare them until they agree (bounded).
    const requestedTenants = async () =>
      new Set(
        (await store.readAll({ filter: { category: 'tenant' }, limit: 100_000 }))
          .filter((e) => e.type === 'TenantRequested')
          .map((e) => tenantIdFromStream(e.streamName)),
      );
    expect((await requestedTenants()).size).toBeGreaterThan(0);
    await app.get(TenantProjector).rebuild();
    let expected = new Set<string>();
    const after = await eventually(async () => {
      expected = await requestedTenants();
      const res = await http.get('/api/v1/tenants').query({ limit: 200 }).set(bearer(OPERATOR)).expect(200);
      const ids = new Set<string>(res.body.items.map((t: { tenant_id: string }) => t.tenant_id));
      return ids.size === expected.size && [...ids].every((id) => expected.has(id)) ? ids : undefined;
    }, 'the rebuilt read model');
    expect(after).toEqual(expected);
  });
});

describe('health, readiness, metrics, OpenAPI', () => {
  it('reports liveness and per-dependency readiness without details', async () => {
    expect((await http.get('/health').expect(200)).body).toEqual({ status: 'ok' });
    expect((await http.get('/ready').expect(200)).body).toEqual({
      status: 'ok',
      checks: { eventStore: 'ok', readModel: 'ok', broker: 'ok' },
    });
    broker.healthy = false;
    try {
      const down = await http.get('/ready');
      expect(down.status).toBe(503);
      expect(down.body).toEqual({
        status: 'fail',
        checks: { eventStore: 'ok', readModel: 'ok', broker: 'fail' },
      });
    } finally {
      broker.healthy = true;
    }
  });

  it('exposes Prometheus metrics fed by the projection, without secrets', async () => {
    const { tenantId } = await provision();
    await store.append(
      tenantStream(tenantId),
      [
        {
          id: deterministicId('activated', tenantId),
          type: 'TenantActivated',
          data: { activatedAt: new Date().toISOString() },
          metadata: buildMetadata(
            { tenantId, actor: 'orchestrator', correlationId: 'c' },
            deterministicId('activated', tenantId),
            new Date(),
          ),
        },
      ],
      { expectedRevision: 0 },
    );
    const text = await eventually(async () => {
      const res = await http.get('/metrics').expect(200);
      return /provisioning_outcomes_total\{outcome="activated"\} [1-9]/.test(res.text) ? res.text : undefined;
    }, 'the activation to be counted');
    expect(text).toMatch(/provisioning_duration_seconds_count [1-9]/);
    expect(text).toMatch(/provisioning_tenants\{state="active"\} [1-9]/);
    expect(text).toContain(
      'event_store_subscription_lag_seconds{subscription="provisioning-api.tenant-summaries"}',
    );
    for (const secret of [WEBHOOK_SECRET, SIGNING_SECRET, OPERATOR, AUDITOR])
      expect(text).not.toContain(secret);
  });

  it('serves the OpenAPI document', async () => {
    const doc = await http.get('/api/docs-json').expect(200);
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining([
        CREATED,
        CANCELLED,
        '/api/v1/tenants',
        '/api/v1/tenants/{id}',
        '/api/v1/tenants/{id}/events',
        '/api/v1/rollouts',
        '/api/v1/rollouts/{id}',
        '/api/v1/rollouts/{id}/pause',
      ]),
    );
  });
});

describe('OpenID Connect access tokens (OIDC_ISSUER)', () => {
  it("names the caller from the provider's token and lets the roles claim decide what it may do", async () => {
    const operator = await oidc.token({ roles: ['provisioning-operator'], preferred_username: 'olivia' });
    const auditor = await oidc.token({ roles: ['provisioning-auditor'], preferred_username: 'arthur' });
    expect((await http.get('/api/v1/console/session').set(bearer(operator)).expect(200)).body).toEqual({
      name: 'oidc:olivia',
      role: 'operator',
    });
    await http.get('/api/v1/tenants').set(bearer(auditor)).expect(200);
    // Acting needs the operator role: the auditor is refused, the operator reaches the action itself.
    const reset = '/api/v1/guardrails/purge-breaker/reset';
    await http.post(reset).set(bearer(auditor)).send({ reason: 'x' }).expect(403);
    const refused = await http.post(reset).set(bearer(operator)).send({ reason: 'x' });
    expect(refused.status).toBe(409);
  });

  it('lets an OIDC operator named by an e-mail address cancel a tenant and ask for a retry', async () => {
    const { tenantId } = await provision();
    const activated = deterministicId('activated', tenantId);
    const commandId = deterministicId('command', tenantId);
    const meta = (id: string) =>
      buildMetadata({ tenantId, actor: 'orchestrator', correlationId: 'c' }, id, new Date());
    // The lifecycle's fold needs the tenant provisioned (a gating step started) before its activation.
    await store.append(
      tenantStream(tenantId),
      [
        {
          id: deterministicId('started', commandId),
          type: 'StepStarted',
          data: {
            step: 'databases',
            commandId,
            commandType: 'ProvisionDatabases',
            service: 'database',
            attempt: 1,
            deadline: new Date(Date.now() + 60_000).toISOString(),
            params: {},
          },
          metadata: meta(commandId),
        },
        {
          id: activated,
          type: 'TenantActivated',
          data: { activatedAt: new Date().toISOString() },
          metadata: meta(activated),
        },
      ],
      { expectedRevision: 0 },
    );
    const operator = await oidc.token({
      roles: ['provisioning-operator'],
      preferred_username: 'olivia@example.com',
    });
    const cancelled = await http
      .post(`/api/v1/tenants/${tenantId}/cancel`)
      .set(bearer(operator))
      .send({ reason: 'chargeback fraud' });
    expect(cancelled.status).toBe(202);
    const events = await store.readStream(tenantStream(tenantId));
    expect(events.find((event) => event.type === 'CancellationRequested')).toMatchObject({
      data: { requestedBy: 'operator:oidc:olivia@example.com' },
      metadata: { actor: 'operator:oidc:olivia@example.com' },
    });
    // Past the operator check: the unknown tenant is what the retry is refused for.
    const retry = await http
      .post('/api/v1/tenants/nobody-000000/retry')
      .set(bearer(operator))
      .send({ step: 'welcome-email', reason: 'r' });
    expect(retry.status).toBe(404);
  });

  it('answers 401 to a token without a role, for another audience, or expired', async () => {
    for (const token of [
      await oidc.token({ roles: ['billing'] }),
      await oidc.token({ roles: ['provisioning-operator'] }, { audience: 'another-client' }),
      await oidc.token(
        { roles: ['provisioning-operator'] },
        { expiresIn: Math.floor(Date.now() / 1000) - 120 },
      ),
    ]) {
      await http.get('/api/v1/tenants').set(bearer(token)).expect(401);
    }
    // The static tokens keep working beside OIDC.
    await http.get('/api/v1/tenants').set(bearer(OPERATOR)).expect(200);
  });
});
