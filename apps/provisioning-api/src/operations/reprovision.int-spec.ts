import { randomBytes } from 'node:crypto';
import { tenantStream, type FailureReason } from '@app/contracts';
import { createEventStore, type EventStore, type RecordedEvent } from '@app/event-store';
import { eventually } from '@app/testing';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Client } from 'pg';
import pino from 'pino';
import request from 'supertest';
import { TenantStreamBuilder } from '@app/tenancy';
import { createApp } from '../app.factory';
import { loadProvisioningApiConfig } from '../config';

const DATABASE_URL =
  process.env['PROVISIONING_TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/provisioning_test';
if (!/_test$/.test(new URL(DATABASE_URL).pathname)) {
  throw new Error(`refusing to run against ${new URL(DATABASE_URL).pathname}: not a test database`);
}

const suffix = randomBytes(4).toString('hex');
const EVENT_SCHEMA = `rp_es_${suffix}`;
const READ_SCHEMA = `rp_rm_${suffix}`;
const OPERATOR = `op_${randomBytes(12).toString('hex')}`;
const AUDITOR = `au_${randomBytes(12).toString('hex')}`;
const WEBHOOK_SECRET = `whsec_${randomBytes(16).toString('hex')}`;
const NOW = new Date('2025-02-01T09:00:00.000Z');
const CREATED = '/api/v1/provisioning/webhooks/subscription-created';
const QUOTA: FailureReason = { code: 'DATABASE.QUOTA', message: 'quota exceeded', retryable: false };
const silent = pino({ level: 'silent' });
const hex = () => randomBytes(3).toString('hex');
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

let store: EventStore;
let app: NestExpressApplication;
let http: ReturnType<typeof request>;

/** Run 1 of a tenant up to its rollback: namespace done, databases failed for good, rollback started. */
function rollingBack(builder: TenantStreamBuilder): TenantStreamBuilder {
  return builder
    .started('namespace', 'ProvisionNamespace')
    .started('databases', 'ProvisionDatabases')
    .succeeded('namespace')
    .failed('databases', QUOTA)
    .lifecycle('RollbackStarted', { failedStep: 'databases', reason: QUOTA })
    .started('compensate:namespace', 'RemoveNamespace')
    .started('compensate:databases', 'RemoveDatabases');
}

/** The rollback completes: both compensations succeeded, the run failed. */
function rolledBack(builder: TenantStreamBuilder): TenantStreamBuilder {
  return builder
    .succeeded('compensate:namespace')
    .succeeded('compensate:databases')
    .lifecycle('TenantProvisioningFailed', {
      failedStep: 'databases',
      reason: QUOTA,
      compensatedSteps: ['namespace', 'databases'],
    });
}

async function seedFailed(label = 'rp-failed'): Promise<string> {
  const builder = rolledBack(
    rollingBack(new TenantStreamBuilder(`${label}-${hex()}`, '2025-01-15T10:00:00Z').requested()),
  );
  await builder.appendTo(store);
  return builder.tenantId;
}

async function streamOf(tenantId: string): Promise<RecordedEvent[]> {
  return store.readStream(tenantStream(tenantId));
}

function createdPayload(subscriptionId: string, email: string) {
  return {
    event: 'subscription.created',
    timestamp: '2025-01-15T10:00:00Z',
    data: {
      subscription_id: subscriptionId,
      customer: { name: 'Retry Shop', email, billing_email: email },
      plan: { tier: 'premium', price: 124.99, currency: 'EUR', billing_period: 'monthly' },
      metadata: { company_size: '50-200', industry: 'retail', region: 'us-east' },
    },
  };
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

describe('POST /api/v1/tenants/:id/reprovision', () => {
  it('answers 401 without a token and 403 to an auditor; nothing is appended', async () => {
    const tenantId = await seedFailed();
    const path = `/api/v1/tenants/${tenantId}/reprovision`;
    const before = (await streamOf(tenantId)).length;
    expect((await http.post(path).send({ reason: 'r' })).status).toBe(401);
    const auditor = await http.post(path).set(bearer(AUDITOR)).send({ reason: 'r' });
    expect(auditor.status).toBe(403);
    expect(await streamOf(tenantId)).toHaveLength(before);
  });

  it('starts run 2 of a failed tenant: ReprovisioningRequested by the operator, the failed run kept', async () => {
    const tenantId = await seedFailed();
    const response = await http
      .post(`/api/v1/tenants/${tenantId}/reprovision`)
      .set(bearer(OPERATOR))
      .set('Idempotency-Key', 'ticket-4711')
      .send({ reason: 'MySQL quota raised, ticket 4711' })
      .expect(202);
    expect(response.body).toEqual({
      tenant_id: tenantId,
      status: 'requested',
      run: 2,
      event_id: expect.any(String),
      duplicate: false,
      status_url: `/api/v1/tenants/${tenantId}`,
    });
    const events = await streamOf(tenantId);
    expect(events.map((event) => event.type).slice(-2)).toEqual([
      'TenantProvisioningFailed',
      'ReprovisioningRequested',
    ]);
    expect(events[events.length - 1]).toMatchObject({
      id: response.body.event_id,
      data: {
        run: 2,
        reason: 'MySQL quota raised, ticket 4711',
        requestedBy: 'operator:alice',
        requestedAt: NOW.toISOString(),
      },
      metadata: { actor: 'operator:alice' },
    });

    // The read model starts the new run; the history keeps the failure.
    const detail = await eventually(async () => {
      const res = await http.get(`/api/v1/tenants/${tenantId}`).set(bearer(OPERATOR)).expect(200);
      return res.body.state === 'requested' ? (res.body as Record<string, unknown>) : undefined;
    }, 'the read model to start run 2');
    expect(detail).toMatchObject({ state: 'requested', failure_reason: null, steps: [], run: 2 });
    // The failed run stays visible in the detail, with who asked for the next one and why.
    expect(detail.failed_runs).toEqual([
      expect.objectContaining({
        run: 1,
        reprovisioned_by: 'operator:alice',
        reason: 'MySQL quota raised, ticket 4711',
        failure_reason: expect.objectContaining({ step: expect.any(String) }),
      }),
    ]);
    const history = await http.get(`/api/v1/tenants/${tenantId}/events`).set(bearer(AUDITOR)).expect(200);
    const types = (history.body.events as { type: string }[]).map((event) => event.type);
    expect(types).toEqual(expect.arrayContaining(['TenantProvisioningFailed', 'ReprovisioningRequested']));

    // The same request again: the same answer, nothing new; another request: the run is under way.
    const again = await http
      .post(`/api/v1/tenants/${tenantId}/reprovision`)
      .set(bearer(OPERATOR))
      .set('Idempotency-Key', 'ticket-4711')
      .send({ reason: 'MySQL quota raised, ticket 4711' })
      .expect(202);
    expect(again.body).toMatchObject({ run: 2, event_id: response.body.event_id, duplicate: true });
    const other = await http
      .post(`/api/v1/tenants/${tenantId}/reprovision`)
      .set(bearer(OPERATOR))
      .send({ reason: 'once more' })
      .expect(409);
    expect(other.body).toMatchObject({ error: 'OPERATION.PROVISIONING_IN_PROGRESS' });
    expect(await streamOf(tenantId)).toHaveLength(events.length);
  });

  it('refuses with a code per reason: rolling back, a parked compensation, active, unknown, invalid', async () => {
    const back = rollingBack(new TenantStreamBuilder(`rp-back-${hex()}`, '2025-01-15T10:00:00Z').requested());
    const parked = rollingBack(
      new TenantStreamBuilder(`rp-parked-${hex()}`, '2025-01-15T10:00:00Z').requested(),
    )
      .succeeded('compensate:namespace')
      .failed('compensate:databases', QUOTA)
      .parked('compensate:databases', QUOTA, true)
      .lifecycle('TenantProvisioningFailed', {
        failedStep: 'databases',
        reason: QUOTA,
        compensatedSteps: ['namespace'],
      });
    const active = new TenantStreamBuilder(`rp-active-${hex()}`, '2025-01-15T10:00:00Z').activeTenant();
    for (const builder of [back, parked, active]) await builder.appendTo(store);
    const cases: [string, object, number, string, string?][] = [
      [back.tenantId, { reason: 'r' }, 409, 'OPERATION.ROLLBACK_NOT_COMPLETE', 'rolling back run 1'],
      [parked.tenantId, { reason: 'r' }, 409, 'OPERATION.ROLLBACK_NOT_COMPLETE', 'compensate:databases'],
      [active.tenantId, { reason: 'r' }, 409, 'OPERATION.TENANT_ACTIVE'],
      [`rp-nobody-${hex()}`, { reason: 'r' }, 404, 'OPERATION.TENANT_NOT_FOUND'],
      [back.tenantId, { reason: ' ' }, 400, 'VALIDATION_FAILED'],
    ];
    for (const [tenantId, body, status, code, message] of cases) {
      const before = await store.readStream(tenantStream(tenantId)).catch(() => []);
      const response = await http
        .post(`/api/v1/tenants/${tenantId}/reprovision`)
        .set(bearer(OPERATOR))
        .send(body);
      expect([response.status, response.body.error]).toEqual([status, code]);
      if (message) expect(response.body.message).toContain(message);
      expect(await store.readStream(tenantStream(tenantId)).catch(() => [])).toHaveLength(before.length);
    }
  });
});

describe("billing's repeated subscription.created", () => {
  /** A tenant created through the webhook, then its first run failed (as the orchestrator and services write it). */
  async function createdTenant(): Promise<{ tenantId: string; payload: ReturnType<typeof createdPayload> }> {
    const payload = createdPayload(`sub_rp_${hex()}`, `owner-${hex()}@retry.example.com`);
    const response = await http.post(CREATED).set(bearer(WEBHOOK_SECRET)).send(payload).expect(202);
    return { tenantId: response.body.tenant_id as string, payload };
  }

  it('starts a fresh run of the same tenant and domain once the failed run is rolled back, once', async () => {
    const { tenantId, payload } = await createdTenant();
    const [requested] = await streamOf(tenantId);
    const builder = rollingBack(new TenantStreamBuilder(tenantId, '2025-01-15T10:01:00Z'));
    await builder.appendTo(store);

    // Still rolling back: billing is told to send it again later; nothing is appended.
    const early = await http.post(CREATED).set(bearer(WEBHOOK_SECRET)).send(payload).expect(409);
    expect(early.body).toMatchObject({ error: 'INTAKE.ROLLBACK_NOT_COMPLETE' });
    const failedLength = (await streamOf(tenantId)).length + 3;

    await rolledBack(builder).appendTo(store);
    const resent = await http.post(CREATED).set(bearer(WEBHOOK_SECRET)).send(payload).expect(202);
    expect(resent.body).toMatchObject({
      tenant_id: tenantId,
      domain: (requested.data as { tenant: { domain: string } }).tenant.domain,
      status: 'provisioning',
    });
    const events = await streamOf(tenantId);
    expect(events).toHaveLength(failedLength + 1);
    expect(events[events.length - 1]).toMatchObject({
      type: 'ReprovisioningRequested',
      data: { run: 2, requestedBy: 'billing' },
      metadata: { actor: 'provisioning-api' },
    });

    // The same delivery again, and one racing it: the run is under way, nothing more is appended.
    await Promise.all(
      [1, 2].map(() => http.post(CREATED).set(bearer(WEBHOOK_SECRET)).send(payload).expect(202)),
    );
    expect(await streamOf(tenantId)).toHaveLength(failedLength + 1);
  });
});
