import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RECONCILIATION_STREAM_CATEGORY, tenantStream } from '@app/contracts';
import type { RecordedEvent } from '@app/event-store';
import { TenantStreamBuilder } from '@app/tenancy';
import { eventually } from '@app/testing';
import { startTestApi, type TestApi } from '../testing/test-api.test-helpers';

const NOW = new Date('2025-02-01T09:00:00.000Z');
const hex = () => randomBytes(3).toString('hex');
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

let api: TestApi;
const sub = (tenantId: string) => `sub_${tenantId.replace(/-/g, '_')}`;
const FAILURE = { code: 'K8S.QUOTA_REFUSED', message: 'quota refused', retryable: false };

const agreeing = new TenantStreamBuilder(`agree-${hex()}`, '2025-01-10T10:00:00Z').activeTenant();
/** Downgraded to standard since; billing still bills business. */
const standard = new TenantStreamBuilder(`tier-${hex()}`, '2025-01-11T10:00:00Z')
  .activeTenant()
  .lifecycle('TierChangeRequested', { fromTier: 'premium', toTier: 'standard', requestedBy: 'billing' })
  .lifecycle('TierChanged', { fromTier: 'premium', toTier: 'standard' });
const orphan = new TenantStreamBuilder(`orphan-${hex()}`, '2025-01-12T10:00:00Z').activeTenant();
const failed = new TenantStreamBuilder(`failed-${hex()}`, '2025-01-13T10:00:00Z')
  .requested()
  .started('namespace', 'ProvisionNamespace')
  .failed('namespace', FAILURE)
  .lifecycle('RollbackStarted', { failedStep: 'namespace', reason: FAILURE })
  .lifecycle('TenantProvisioningFailed', { failedStep: 'namespace', reason: FAILURE, compensatedSteps: [] });
const leaving = new TenantStreamBuilder(`leaving-${hex()}`, '2025-01-14T10:00:00Z').activeTenant().lifecycle(
  'CancellationRequested',
  {
    subscriptionId: 'sub_x',
    reason: 'customer left',
    requestedAt: '2025-01-20T00:00:00.000Z',
    deletionDate: '2025-02-19T00:00:00.000Z',
    requestedBy: 'billing',
  },
  'provisioning-api',
);
const provisioning = new TenantStreamBuilder(`young-${hex()}`, '2025-01-31T10:00:00Z')
  .requested({ tier: 'business' })
  .started('namespace', 'ProvisionNamespace');

/** Billing's view: agrees on one, says business for the standard tenant, still bills the failed one. */
const BILLING = [
  { subscription_id: sub(agreeing.tenantId), tier: 'premium' },
  { subscription_id: sub(standard.tenantId), tier: 'business', tenant_id: standard.tenantId },
  { subscription_id: sub(failed.tenantId), tier: 'premium' },
  { subscription_id: sub(provisioning.tenantId), tier: 'business' },
];

let billing: Server;
let billingUrl: string;

async function reconciliationEvents(): Promise<RecordedEvent[]> {
  return api.store.readAll({ filter: { category: RECONCILIATION_STREAM_CATEGORY } });
}

async function lastEvent(tenantId: string): Promise<RecordedEvent> {
  const [last] = await api.store.readStream(tenantStream(tenantId), { direction: 'backwards', limit: 1 });
  return last;
}

beforeAll(async () => {
  api = await startTestApi({
    schemaPrefix: 'rc',
    overrides: { clock: () => NOW },
    seed: async (eventStore) => {
      for (const builder of [agreeing, standard, orphan, failed, leaving, provisioning])
        await builder.appendTo(eventStore);
    },
  });
  await eventually(async () => {
    const response = await api.http.get('/api/v1/tenants').set(bearer(api.secrets.auditor));
    return response.body.total === 6 &&
      response.body.items.every((t: { status: string }) => t.status !== 'requested')
      ? true
      : undefined;
  }, 'the read model to hold the six tenants');
  billing = createServer((_, response) => {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ subscriptions: BILLING }));
  });
  await new Promise<void>((resolve) => billing.listen(0, '127.0.0.1', resolve));
  billingUrl = `http://127.0.0.1:${(billing.address() as AddressInfo).port}/active`;
});

afterAll(async () => {
  await api?.close();
  billing?.closeAllConnections();
  await new Promise((resolve) => billing?.close(resolve));
});

describe('POST /api/v1/reconciliations on PostgreSQL', () => {
  it('needs an operator token', async () => {
    expect((await api.http.post('/api/v1/reconciliations').send(BILLING)).status).toBe(401);
    expect(
      (await api.http.post('/api/v1/reconciliations').set(bearer(api.secrets.auditor)).send(BILLING)).status,
    ).toBe(403);
  });

  it('reports orphans, missing tenants and tier mismatches without recording anything', async () => {
    const response = await api.http
      .post('/api/v1/reconciliations')
      .set(bearer(api.secrets.operator))
      .send(BILLING)
      .expect(200);
    expect(response.body).toMatchObject({
      reconciliation_id: null,
      source: 'inline',
      subscriptions: 4,
      tenants_compared: 6,
      read_model_checkpoint: expect.any(String),
      counts: { orphan: 1, missing: 1, tier_mismatch: 1, tenant_mismatch: 0 },
    });
    expect(response.body.findings).toEqual([
      expect.objectContaining({
        kind: 'orphan',
        tenant_id: orphan.tenantId,
        action: 'cancel-tenant',
        action_id: null,
      }),
      expect.objectContaining({
        kind: 'missing',
        tenant_id: failed.tenantId,
        tenant_status: 'failed',
        action: 'follow-up',
      }),
      expect.objectContaining({
        kind: 'tier_mismatch',
        tenant_id: standard.tenantId,
        tenant_tier: 'standard',
        billing_tier: 'business',
        action: 'change-tier',
      }),
    ]);
    expect(await reconciliationEvents()).toEqual([]);
  });

  it('names the bad records and fields', async () => {
    const response = await api.http
      .post('/api/v1/reconciliations')
      .set(bearer(api.secrets.operator))
      .send({ subscriptions: [BILLING[0], { subscription_id: 'sub_1', tier: 'gold', tenant_id: 'X' }] })
      .expect(400);
    expect(response.body).toMatchObject({ error: 'VALIDATION_FAILED' });
    expect(response.body.violations.map((v: { field: string }) => v.field)).toEqual([
      'subscriptions[1].tier',
      'subscriptions[1].tenant_id',
    ]);
    const extra = await api.http
      .post('/api/v1/reconciliations')
      .set(bearer(api.secrets.operator))
      .send({ subs: [] })
      .expect(400);
    expect(extra.body.violations[0].messages[0]).toContain('unknown field(s) subs');
  });

  it('fetches the list from a source URL and refuses one that is not http(s)', async () => {
    const response = await api.http
      .post('/api/v1/reconciliations')
      .set(bearer(api.secrets.operator))
      .send({ source: `${billingUrl}?key=k` })
      .expect(200);
    expect(response.body).toMatchObject({
      source: billingUrl,
      counts: { orphan: 1, missing: 1, tier_mismatch: 1 },
    });
    const refused = await api.http
      .post('/api/v1/reconciliations')
      .set(bearer(api.secrets.operator))
      .send({ source: 'file:///etc/passwd' })
      .expect(400);
    expect(refused.body.violations[0]).toMatchObject({ field: 'source' });
  });

  it('records proposals that operators accept (carried out on the tenant) or dismiss', async () => {
    const run = await api.http
      .post('/api/v1/reconciliations')
      .set(bearer(api.secrets.operator))
      .send({ subscriptions: BILLING, propose: true })
      .expect(200);
    const id: string = run.body.reconciliation_id;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const open = await api.http
      .get('/api/v1/reconciliations/actions')
      .set(bearer(api.secrets.auditor))
      .expect(200);
    expect(open.body.items.map((a: { action: string }) => a.action).sort()).toEqual([
      'cancel-tenant',
      'change-tier',
      'follow-up',
    ]);
    const actionOf = (kind: string) =>
      run.body.findings.find((f: { kind: string }) => f.kind === kind).action_id;
    const path = (kind: string, verb: string) =>
      `/api/v1/reconciliations/${id}/actions/${actionOf(kind)}/${verb}`;

    const cancel = await api.http
      .post(path('orphan', 'accept'))
      .set(bearer(api.secrets.operator))
      .send({ reason: 'no subscription in billing, checked with finance' })
      .expect(200);
    expect(cancel.body).toMatchObject({ state: 'accepted', duplicate: false });
    const cancellation = await lastEvent(orphan.tenantId);
    expect(cancellation).toMatchObject({
      id: cancel.body.tenant_event.event_id,
      type: 'CancellationRequested',
      data: {
        requestedBy: 'operator:alice',
        reason: `billing reconciliation ${id}: no subscription in billing, checked with finance`,
      },
      metadata: { actor: 'operator:alice' },
    });
    const again = await api.http
      .post(path('orphan', 'accept'))
      .set(bearer(api.secrets.operator))
      .send({ reason: 'again' });
    expect(again.body).toMatchObject({ state: 'accepted', duplicate: true });
    expect((await lastEvent(orphan.tenantId)).id).toBe(cancellation.id);
    const contrary = await api.http
      .post(path('orphan', 'dismiss'))
      .set(bearer(api.secrets.operator))
      .send({ reason: 'r' });
    expect(contrary.status).toBe(409);
    expect(contrary.body.error).toBe('RECONCILIATION.ACTION_ALREADY_DECIDED');

    await api.http
      .post(path('tier_mismatch', 'accept'))
      .set(bearer(api.secrets.operator))
      .send({ reason: 'billing is right' })
      .expect(200);
    expect(await lastEvent(standard.tenantId)).toMatchObject({
      type: 'TierChangeRequested',
      data: { fromTier: 'standard', toTier: 'business', requestedBy: 'operator:alice' },
    });
    await api.http
      .post(path('missing', 'dismiss'))
      .set(bearer(api.secrets.operator))
      .send({ reason: 'billing to close it' })
      .expect(200);
    expect(
      (await api.http.get('/api/v1/reconciliations/actions').set(bearer(api.secrets.auditor))).body.items,
    ).toEqual([]);

    const decided = await api.http
      .get(`/api/v1/reconciliations/actions?state=all&reconciliation_id=${id}`)
      .set(bearer(api.secrets.auditor))
      .expect(200);
    expect(decided.body.items.map((a: { state: string }) => a.state).sort()).toEqual([
      'accepted',
      'accepted',
      'dismissed',
    ]);
    expect((await reconciliationEvents()).map((e) => e.type)).toEqual([
      'ReconciliationRecorded',
      'ReconciliationActionProposed',
      'ReconciliationActionProposed',
      'ReconciliationActionProposed',
      'ReconciliationActionAccepted',
      'ReconciliationActionAccepted',
      'ReconciliationActionDismissed',
    ]);
  });

  it('refuses decisions on unknown actions and without a reason', async () => {
    const unknown = `/api/v1/reconciliations/${'0'.repeat(8)}-0000-4000-8000-${'0'.repeat(12)}/actions/${'1'.repeat(8)}-1111-4111-8111-${'1'.repeat(12)}/accept`;
    const missing = await api.http.post(unknown).set(bearer(api.secrets.operator)).send({ reason: 'r' });
    expect(missing.status).toBe(404);
    const invalid = await api.http
      .post('/api/v1/reconciliations/nope/actions/nope/dismiss')
      .set(bearer(api.secrets.operator))
      .send({});
    expect(invalid.status).toBe(400);
    expect(invalid.body.violations.map((v: { field: string }) => v.field)).toEqual([
      'reconciliation_id',
      'action_id',
      'reason',
    ]);
  });
});
