import { randomBytes } from 'node:crypto';
import { tenantStream, type FailureReason } from '@app/contracts';
import type { RecordedEvent } from '@app/event-store';
import { eventually } from '@app/testing';
import { TenantStreamBuilder } from '@app/tenancy';
import { startTestApi, type TestApi } from '../testing/test-api.test-helpers';

const NOW = new Date('2025-02-01T09:00:00.000Z');
const CREATED = '/api/v1/provisioning/webhooks/subscription-created';
const QUOTA: FailureReason = { code: 'DATABASE.QUOTA', message: 'quota exceeded', retryable: false };
const hex = () => randomBytes(3).toString('hex');
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

let api: TestApi;

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
  await builder.appendTo(api.store);
  return builder.tenantId;
}

async function streamOf(tenantId: string): Promise<RecordedEvent[]> {
  return api.store.readStream(tenantStream(tenantId));
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
  api = await startTestApi({ schemaPrefix: 'rp', overrides: { clock: () => NOW } });
});

afterAll(async () => {
  await api?.close();
});

describe('POST /api/v1/tenants/:id/reprovision', () => {
  it('answers 401 without a token and 403 to an auditor; nothing is appended', async () => {
    const tenantId = await seedFailed();
    const path = `/api/v1/tenants/${tenantId}/reprovision`;
    const before = (await streamOf(tenantId)).length;
    expect((await api.http.post(path).send({ reason: 'r' })).status).toBe(401);
    const auditor = await api.http.post(path).set(bearer(api.secrets.auditor)).send({ reason: 'r' });
    expect(auditor.status).toBe(403);
    expect(await streamOf(tenantId)).toHaveLength(before);
  });

  it('starts run 2 of a failed tenant: ReprovisioningRequested by the operator, the failed run kept', async () => {
    const tenantId = await seedFailed();
    const response = await api.http
      .post(`/api/v1/tenants/${tenantId}/reprovision`)
      .set(bearer(api.secrets.operator))
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
      const res = await api.http
        .get(`/api/v1/tenants/${tenantId}`)
        .set(bearer(api.secrets.operator))
        .expect(200);
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
    const history = await api.http
      .get(`/api/v1/tenants/${tenantId}/events`)
      .set(bearer(api.secrets.auditor))
      .expect(200);
    const types = (history.body.events as { type: string }[]).map((event) => event.type);
    expect(types).toEqual(expect.arrayContaining(['TenantProvisioningFailed', 'ReprovisioningRequested']));

    // The same request again: the same answer, nothing new; another request: the run is under way.
    const again = await api.http
      .post(`/api/v1/tenants/${tenantId}/reprovision`)
      .set(bearer(api.secrets.operator))
      .set('Idempotency-Key', 'ticket-4711')
      .send({ reason: 'MySQL quota raised, ticket 4711' })
      .expect(202);
    expect(again.body).toMatchObject({ run: 2, event_id: response.body.event_id, duplicate: true });
    const other = await api.http
      .post(`/api/v1/tenants/${tenantId}/reprovision`)
      .set(bearer(api.secrets.operator))
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
    for (const builder of [back, parked, active]) await builder.appendTo(api.store);
    const cases: [string, object, number, string, string?][] = [
      [back.tenantId, { reason: 'r' }, 409, 'OPERATION.ROLLBACK_NOT_COMPLETE', 'rolling back run 1'],
      [parked.tenantId, { reason: 'r' }, 409, 'OPERATION.ROLLBACK_NOT_COMPLETE', 'compensate:databases'],
      [active.tenantId, { reason: 'r' }, 409, 'OPERATION.TENANT_ACTIVE'],
      [`rp-nobody-${hex()}`, { reason: 'r' }, 404, 'OPERATION.TENANT_NOT_FOUND'],
      [back.tenantId, { reason: ' ' }, 400, 'VALIDATION_FAILED'],
    ];
    for (const [tenantId, body, status, code, message] of cases) {
      const before = await api.store.readStream(tenantStream(tenantId)).catch(() => []);
      const response = await api.http
        .post(`/api/v1/tenants/${tenantId}/reprovision`)
        .set(bearer(api.secrets.operator))
        .send(body);
      expect([response.status, response.body.error]).toEqual([status, code]);
      if (message) expect(response.body.message).toContain(message);
      expect(await api.store.readStream(tenantStream(tenantId)).catch(() => [])).toHaveLength(before.length);
    }
  });
});

describe("billing's repeated subscription.created", () => {
  /** A tenant created through the webhook, then its first run failed (as the orchestrator and services write it). */
  async function createdTenant(): Promise<{ tenantId: string; payload: ReturnType<typeof createdPayload> }> {
    const payload = createdPayload(`sub_rp_${hex()}`, `owner-${hex()}@retry.example.com`);
    const response = await api.http
      .post(CREATED)
      .set(bearer(api.secrets.webhookBearer))
      .send(payload)
      .expect(202);
    return { tenantId: response.body.tenant_id as string, payload };
  }

  it('starts a fresh run of the same tenant and domain once the failed run is rolled back, once', async () => {
    const { tenantId, payload } = await createdTenant();
    const [requested] = await streamOf(tenantId);
    const builder = rollingBack(new TenantStreamBuilder(tenantId, '2025-01-15T10:01:00Z'));
    await builder.appendTo(api.store);

    // Still rolling back: billing is told to send it again later; nothing is appended.
    const early = await api.http
      .post(CREATED)
      .set(bearer(api.secrets.webhookBearer))
      .send(payload)
      .expect(409);
    expect(early.body).toMatchObject({ error: 'INTAKE.ROLLBACK_NOT_COMPLETE' });
    const failedLength = (await streamOf(tenantId)).length + 3;

    await rolledBack(builder).appendTo(api.store);
    const resent = await api.http
      .post(CREATED)
      .set(bearer(api.secrets.webhookBearer))
      .send(payload)
      .expect(202);
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
      [1, 2].map(() =>
        api.http.post(CREATED).set(bearer(api.secrets.webhookBearer)).send(payload).expect(202),
      ),
    );
    expect(await streamOf(tenantId)).toHaveLength(failedLength + 1);
  });
});
