import { randomBytes } from 'node:crypto';
import { tenantStream } from '@app/contracts';
import { createEventStore, type EventStore, type RecordedEvent } from '@app/event-store';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Client } from 'pg';
import pino from 'pino';
import request from 'supertest';
import { createApp } from '../app.factory';
import { loadProvisioningApiConfig } from '../config';
import { TenantStreamBuilder } from '@app/tenancy';

const DATABASE_URL =
  process.env['PROVISIONING_TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/provisioning_test';
if (!/_test$/.test(new URL(DATABASE_URL).pathname)) {
  throw new Error(`refusing to run against ${new URL(DATABASE_URL).pathname}: not a test database`);
}

const suffix = randomBytes(4).toString('hex');
const EVENT_SCHEMA = `po_es_${suffix}`;
const READ_SCHEMA = `po_rm_${suffix}`;
const OPERATOR = `op_${randomBytes(12).toString('hex')}`;
const AUDITOR = `au_${randomBytes(12).toString('hex')}`;
const WEBHOOK_SECRET = `whsec_${randomBytes(16).toString('hex')}`;
const NOW = new Date('2025-02-01T09:00:00.000Z');
const silent = pino({ level: 'silent' });
const hex = () => randomBytes(3).toString('hex');
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
const BROKEN = { code: 'DATABASE.DROP_REFUSED', message: 'DROP USER refused', retryable: false };

let store: EventStore;
let app: NestExpressApplication;
let http: ReturnType<typeof request>;

async function seedActive(): Promise<string> {
  const builder = new TenantStreamBuilder(`op-active-${hex()}`, '2025-01-15T10:00:00Z').activeTenant();
  await builder.appendTo(store);
  return builder.tenantId;
}

async function seedParked(): Promise<string> {
  const builder = new TenantStreamBuilder(`op-parked-${hex()}`, '2025-01-15T10:00:00Z')
    .activeTenant()
    .started('welcome-email', 'SendWelcomeEmail')
    .failed('welcome-email', { code: 'SMTP.REJECTED', message: 'mailbox unavailable', retryable: false })
    .parked('welcome-email', { code: 'SMTP.REJECTED', message: 'mailbox unavailable', retryable: false })
    .started('grafana-viewer', 'CreateGrafanaViewer')
    .failed('grafana-viewer', BROKEN);
  await builder.appendTo(store);
  return builder.tenantId;
}

async function streamOf(tenantId: string): Promise<RecordedEvent[]> {
  return store.readStream(tenantStream(tenantId));
}

beforeAll(async () => {
  store = await createEventStore(DATABASE_URL, { schema: EVENT_SCHEMA, logger: silent, pollIntervalMs: 100 });
  const config = loadProvisioningApiConfig({
    EVENTSTORE_URL: DATABASE_URL,
    EVENTSTORE_SCHEMA: EVENT_SCHEMA,
    READ_MODEL_URL: DATABASE_URL,
    READ_MODEL_SCHEMA: READ_SCHEMA,
    WEBHOOK_BEARER_SECRET: WEBHOOK_SECRET,
    WEBHOOK_SIGNING_SECRET: `whsig_${randomBytes(16).toString('hex')}`,
    OPERATOR_TOKENS: `alice:${OPERATOR}`,
    AUDITOR_TOKENS: `audrey:${AUDITOR}`,
    GRACE_PERIOD_DAYS: '30',
    LOG_LEVEL: 'silent',
  });
  app = await createApp(config, { eventStore: store, logger: silent, clock: () => NOW });
  await app.listen(0, '127.0.0.1');
  http = request(app.getHttpServer());
});

afterAll(async () => {
  await app?.close();
  await store?.close();
  const client = new Client({ connectionString: DATABASE_URL });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS "${EVENT_SCHEMA}" CASCADE`);
  await client.query(`DROP SCHEMA IF EXISTS "${READ_SCHEMA}" CASCADE`);
  await client.end();
});

describe('operator actions over HTTP', () => {
  it('answers 401 without an operator or auditor token and 403 to an auditor; nothing is appended', async () => {
    const tenantId = await seedParked();
    const before = (await streamOf(tenantId)).length;
    const calls = [
      { path: `/api/v1/tenants/${tenantId}/retry`, body: { step: 'welcome-email', reason: 'r' } },
      { path: `/api/v1/tenants/${tenantId}/cancel`, body: { reason: 'r' } },
    ];
    for (const { path, body } of calls) {
      const none = await http.post(path).send(body);
      expect(none.status).toBe(401);
      expect(none.body).toEqual({ statusCode: 401 });
      const auditor = await http.post(path).set(bearer(AUDITOR)).send(body);
      expect(auditor.status).toBe(403);
      expect(auditor.text).not.toContain(AUDITOR);
    }
    expect(await streamOf(tenantId)).toHaveLength(before);
  });

  it('appends OperatorRetryRequested for a parked step, with the token name and the reason', async () => {
    const tenantId = await seedParked();
    const response = await http
      .post(`/api/v1/tenants/${tenantId}/retry`)
      .set(bearer(OPERATOR))
      .send({ step: 'welcome-email', reason: 'mailbox recreated by support' })
      .expect(202);
    expect(response.body).toEqual({
      tenant_id: tenantId,
      step: 'welcome-email',
      event_id: expect.any(String),
      duplicate: false,
      status_url: `/api/v1/tenants/${tenantId}`,
    });
    const events = await streamOf(tenantId);
    expect(events[events.length - 1]).toMatchObject({
      id: response.body.event_id,
      type: 'OperatorRetryRequested',
      data: { step: 'welcome-email', reason: 'mailbox recreated by support', operator: 'alice' },
      metadata: { actor: 'operator:alice', occurredAt: NOW.toISOString() },
    });
    expect(JSON.stringify(events)).not.toContain(OPERATOR);

    const history = await http.get(`/api/v1/tenants/${tenantId}/events`).query({ from: events.length - 1 });
    expect(history.status).toBe(401);
    const audited = await http
      .get(`/api/v1/tenants/${tenantId}/events`)
      .query({ from: events.length - 1 })
      .set(bearer(AUDITOR))
      .expect(200);
    expect(audited.body.events[0]).toMatchObject({ type: 'OperatorRetryRequested', actor: 'operator:alice' });
  });

  it('refuses with 409 a step that is failed (not parked) or unknown, and 400 a missing reason', async () => {
    const tenantId = await seedParked();
    const before = (await streamOf(tenantId)).length;
    const failed = await http
      .post(`/api/v1/tenants/${tenantId}/retry`)
      .set(bearer(OPERATOR))
      .send({ step: 'grafana-viewer', reason: 'please' });
    expect(failed.status).toBe(409);
    expect(failed.body).toMatchObject({ statusCode: 409, error: 'OPERATION.STEP_NOT_RETRYABLE' });
    expect(failed.body.message).toContain('grafana-viewer is failed');
    expect(failed.body.message).toContain('retryable now: welcome-email');

    const unknown = await http
      .post(`/api/v1/tenants/${tenantId}/retry`)
      .set(bearer(OPERATOR))
      .send({ step: 'ingress', reason: 'please' });
    expect(unknown.status).toBe(409);

    const invalid = await http
      .post(`/api/v1/tenants/${tenantId}/retry`)
      .set(bearer(OPERATOR))
      .send({ step: 'welcome-email' });
    expect(invalid.status).toBe(400);
    expect(invalid.body.violations.map((v: { field: string }) => v.field)).toEqual(['reason']);
    expect(await streamOf(tenantId)).toHaveLength(before);

    const missing = await http
      .post('/api/v1/tenants/nobody-000000/retry')
      .set(bearer(OPERATOR))
      .send({ step: 'welcome-email', reason: 'r' });
    expect(missing.status).toBe(404);
  });

  it('cancels an active tenant once per Idempotency-Key, then refuses a second cancellation', async () => {
    const tenantId = await seedActive();
    const send = (key?: string) => {
      const call = http.post(`/api/v1/tenants/${tenantId}/cancel`).set(bearer(OPERATOR));
      return (key ? call.set('Idempotency-Key', key) : call).send({ reason: 'chargeback fraud' });
    };
    const first = await send('ticket-4711');
    expect(first.status).toBe(202);
    expect(first.body).toMatchObject({
      tenant_id: tenantId,
      status: 'deprovisioning',
      deletion_date: '2025-03-03T09:00:00.000Z',
      duplicate: false,
    });
    const repeat = await send('ticket-4711');
    expect(repeat.status).toBe(202);
    expect(repeat.body).toEqual({ ...first.body, duplicate: true });

    const events = await streamOf(tenantId);
    const cancellations = events.filter((event) => event.type === 'CancellationRequested');
    expect(cancellations).toHaveLength(1);
    expect(cancellations[0]).toMatchObject({
      id: first.body.event_id,
      data: {
        reason: 'chargeback fraud',
        requestedBy: 'operator:alice',
        requestedAt: NOW.toISOString(),
        deletionDate: '2025-03-03T09:00:00.000Z',
      },
      metadata: { actor: 'operator:alice' },
    });

    const second = await send();
    expect(second.status).toBe(409);
    expect(second.body).toMatchObject({ error: 'OPERATION.NOT_CANCELLABLE' });
    expect(second.body.message).toContain('is deprovisioning');
    const badKey = await send('not a key!');
    expect(badKey.status).toBe(400);
  });

  it('purges a cancelled tenant early on an operator request with a reason, audited; refuses it otherwise', async () => {
    const tenantId = await seedActive();
    const purge = (body: unknown, token?: string) => {
      const call = http.post(`/api/v1/tenants/${tenantId}/purge`);
      return (token ? call.set(bearer(token)) : call).send(body as object);
    };
    expect((await purge({ reason: 'erasure' })).status).toBe(401);
    expect((await purge({ reason: 'erasure' }, AUDITOR)).status).toBe(403);
    const active = await purge({ reason: 'erasure' }, OPERATOR);
    expect(active.status).toBe(409);
    expect(active.body).toMatchObject({ error: 'OPERATION.NOT_IN_GRACE_PERIOD' });
    expect(active.body.message).toContain('is active');

    await http
      .post(`/api/v1/tenants/${tenantId}/cancel`)
      .set(bearer(OPERATOR))
      .send({ reason: 'contract ended' })
      .expect(202);
    const noReason = await purge({}, OPERATOR);
    expect(noReason.status).toBe(400);
    expect(noReason.body.violations.map((v: { field: string }) => v.field)).toEqual(['reason']);
    expect((await streamOf(tenantId)).map((e) => e.type)).not.toContain('OperatorPurgeRequested');

    const accepted = await purge({ reason: 'customer asked for erasure, ticket 4711' }, OPERATOR);
    expect(accepted.status).toBe(202);
    expect(accepted.body).toEqual({
      tenant_id: tenantId,
      status: 'deprovisioning',
      deletion_date: '2025-03-03T09:00:00.000Z',
      purge_requested_at: NOW.toISOString(),
      event_id: expect.any(String),
      duplicate: false,
      status_url: `/api/v1/tenants/${tenantId}`,
    });
    const events = await streamOf(tenantId);
    expect(events.at(-1)).toMatchObject({
      id: accepted.body.event_id,
      type: 'OperatorPurgeRequested',
      data: {
        operator: 'alice',
        reason: 'customer asked for erasure, ticket 4711',
        requestedAt: NOW.toISOString(),
      },
      metadata: { actor: 'operator:alice' },
    });
    const audited = await http
      .get(`/api/v1/tenants/${tenantId}/events`)
      .query({ from: events.length - 1 })
      .set(bearer(AUDITOR))
      .expect(200);
    expect(audited.body.events[0]).toMatchObject({ type: 'OperatorPurgeRequested', actor: 'operator:alice' });

    const twice = await purge({ reason: 'again' }, OPERATOR);
    expect(twice.status).toBe(409);
    expect(twice.body).toMatchObject({ error: 'OPERATION.PURGE_ALREADY_REQUESTED' });
  });

  it('answers a cancellation webhook with a past effective_date with the clamped deletion date and why', async () => {
    const builder = new TenantStreamBuilder(`op-clamp-${hex()}`, '2025-01-15T10:00:00Z').activeTenant();
    await builder.appendTo(store);
    const response = await http
      .post('/api/v1/provisioning/webhooks/subscription-cancelled')
      .set(bearer(WEBHOOK_SECRET))
      .send({
        event: 'subscription.cancelled',
        timestamp: NOW.toISOString(),
        data: {
          subscription_id: `sub_${builder.tenantId.replace(/-/g, '_')}`,
          tenant_id: builder.tenantId,
          effective_date: '2025-01-01T00:00:00Z',
        },
      });
    expect(response.status).toBe(202);
    expect(response.body).toMatchObject({
      deletion_date: '2025-03-03T09:00:00.000Z', // received at NOW, 2025-02-01T09:00Z: exactly 30 × 24 h later
      requested_effective_date: '2025-01-01T00:00:00Z',
      clamped_reason: expect.stringContaining('is before the end of the grace period'),
    });
  });

  it('documents every action in the OpenAPI document', async () => {
    const doc = await http.get('/api/docs-json').expect(200);
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/tenants/{id}/retry',
        '/api/v1/tenants/{id}/cancel',
        '/api/v1/tenants/{id}/purge',
      ]),
    );
    const purge = doc.body.paths['/api/v1/tenants/{id}/purge'].post;
    expect(purge.requestBody.content['application/json'].schema.required).toEqual(['reason']);
    expect(Object.keys(purge.responses)).toEqual(expect.arrayContaining(['202', '400', '401', '403', '409']));
    const cancelled = doc.body.paths['/api/v1/provisioning/webhooks/subscription-cancelled'].post;
    expect(Object.keys(cancelled.responses['202'].content['application/json'].schema.properties)).toEqual(
      expect.arrayContaining(['deletion_date', 'requested_effective_date', 'clamped_reason']),
    );
  });
});
