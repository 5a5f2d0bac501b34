import { randomBytes } from 'node:crypto';
import { tenantStream } from '@app/contracts';
import type { RecordedEvent } from '@app/event-store';
import { TenantStreamBuilder } from '@app/tenancy';
import { startTestApi, type TestApi } from '../testing/test-api.test-helpers';

const NOW = new Date('2025-02-01T09:00:00.000Z');
const hex = () => randomBytes(3).toString('hex');
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

let api: TestApi;
const BROKEN = { code: 'DATABASE.DROP_REFUSED', message: 'DROP USER refused', retryable: false };

async function seedActive(): Promise<string> {
  const builder = new TenantStreamBuilder(`op-active-${hex()}`, '2025-01-15T10:00:00Z').activeTenant();
  await builder.appendTo(api.store);
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
  await builder.appendTo(api.store);
  return builder.tenantId;
}

async function streamOf(tenantId: string): Promise<RecordedEvent[]> {
  return api.store.readStream(tenantStream(tenantId));
}

beforeAll(async () => {
  api = await startTestApi({ schemaPrefix: 'po', overrides: { clock: () => NOW } });
});

afterAll(async () => {
  await api?.close();
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
      const none = await api.http.post(path).send(body);
      expect(none.status).toBe(401);
      expect(none.body).toEqual({ statusCode: 401 });
      const auditor = await api.http.post(path).set(bearer(api.secrets.auditor)).send(body);
      expect(auditor.status).toBe(403);
      expect(auditor.text).not.toContain(api.secrets.auditor);
    }
    expect(await streamOf(tenantId)).toHaveLength(before);
  });

  it('appends OperatorRetryRequested for a parked step, with the token name and the reason', async () => {
    const tenantId = await seedParked();
    const response = await api.http
      .post(`/api/v1/tenants/${tenantId}/retry`)
      .set(bearer(api.secrets.operator))
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
    expect(JSON.stringify(events)).not.toContain(api.secrets.operator);

    const history = await api.http
      .get(`/api/v1/tenants/${tenantId}/events`)
      .query({ from: events.length - 1 });
    expect(history.status).toBe(401);
    const audited = await api.http
      .get(`/api/v1/tenants/${tenantId}/events`)
      .query({ from: events.length - 1 })
      .set(bearer(api.secrets.auditor))
      .expect(200);
    expect(audited.body.events[0]).toMatchObject({ type: 'OperatorRetryRequested', actor: 'operator:alice' });
  });

  it('refuses with 409 a step that is failed (not parked) or unknown, and 400 a missing reason', async () => {
    const tenantId = await seedParked();
    const before = (await streamOf(tenantId)).length;
    const failed = await api.http
      .post(`/api/v1/tenants/${tenantId}/retry`)
      .set(bearer(api.secrets.operator))
      .send({ step: 'grafana-viewer', reason: 'please' });
    expect(failed.status).toBe(409);
    expect(failed.body).toMatchObject({ statusCode: 409, error: 'OPERATION.STEP_NOT_RETRYABLE' });
    expect(failed.body.message).toContain('grafana-viewer is failed');
    expect(failed.body.message).toContain('retryable now: welcome-email');

    const unknown = await api.http
      .post(`/api/v1/tenants/${tenantId}/retry`)
      .set(bearer(api.secrets.operator))
      .send({ step: 'ingress', reason: 'please' });
    expect(unknown.status).toBe(409);

    const invalid = await api.http
      .post(`/api/v1/tenants/${tenantId}/retry`)
      .set(bearer(api.secrets.operator))
      .send({ step: 'welcome-email' });
    expect(invalid.status).toBe(400);
    expect(invalid.body.violations.map((v: { field: string }) => v.field)).toEqual(['reason']);
    expect(await streamOf(tenantId)).toHaveLength(before);

    const missing = await api.http
      .post('/api/v1/tenants/nobody-000000/retry')
      .set(bearer(api.secrets.operator))
      .send({ step: 'welcome-email', reason: 'r' });
    expect(missing.status).toBe(404);
  });

  it('cancels an active tenant once per Idempotency-Key, then refuses a second cancellation', async () => {
    const tenantId = await seedActive();
    const send = (key?: string) => {
      const call = api.http.post(`/api/v1/tenants/${tenantId}/cancel`).set(bearer(api.secrets.operator));
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
      const call = api.http.post(`/api/v1/tenants/${tenantId}/purge`);
      return (token ? call.set(bearer(token)) : call).send(body as object);
    };
    expect((await purge({ reason: 'erasure' })).status).toBe(401);
    expect((await purge({ reason: 'erasure' }, api.secrets.auditor)).status).toBe(403);
    const active = await purge({ reason: 'erasure' }, api.secrets.operator);
    expect(active.status).toBe(409);
    expect(active.body).toMatchObject({ error: 'OPERATION.NOT_IN_GRACE_PERIOD' });
    expect(active.body.message).toContain('is active');

    await api.http
      .post(`/api/v1/tenants/${tenantId}/cancel`)
      .set(bearer(api.secrets.operator))
      .send({ reason: 'contract ended' })
      .expect(202);
    const noReason = await purge({}, api.secrets.operator);
    expect(noReason.status).toBe(400);
    expect(noReason.body.violations.map((v: { field: string }) => v.field)).toEqual(['reason']);
    expect((await streamOf(tenantId)).map((e) => e.type)).not.toContain('OperatorPurgeRequested');

    const accepted = await purge({ reason: 'customer asked for erasure, ticket 4711' }, api.secrets.operator);
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
    const audited = await api.http
      .get(`/api/v1/tenants/${tenantId}/events`)
      .query({ from: events.length - 1 })
      .set(bearer(api.secrets.auditor))
      .expect(200);
    expect(audited.body.events[0]).toMatchObject({ type: 'OperatorPurgeRequested', actor: 'operator:alice' });

    const twice = await purge({ reason: 'again' }, api.secrets.operator);
    expect(twice.status).toBe(409);
    expect(twice.body).toMatchObject({ error: 'OPERATION.PURGE_ALREADY_REQUESTED' });
  });

  it('answers a cancellation webhook with a past effective_date with the clamped deletion date and why', async () => {
    const builder = new TenantStreamBuilder(`op-clamp-${hex()}`, '2025-01-15T10:00:00Z').activeTenant();
    await builder.appendTo(api.store);
    const response = await api.http
      .post('/api/v1/provisioning/webhooks/subscription-cancelled')
      .set(bearer(api.secrets.webhookBearer))
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
    const doc = await api.http.get('/api/docs-json').expect(200);
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
