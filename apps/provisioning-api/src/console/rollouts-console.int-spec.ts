import { randomBytes, randomUUID } from 'node:crypto';
import { TENANT_STREAM_CATEGORY } from '@app/contracts';
import { TenantStreamBuilder } from '@app/tenancy';
import { readAllWhenVisible } from '@app/testing';
import type { RolloutConsoleDetail, RolloutConsoleItem } from './rollout-console-views';
import { startTestApi, type TestApi } from '../testing/test-api.test-helpers';

const NOW = new Date('2025-06-01T10:00:00.000Z');
const hex = () => randomBytes(3).toString('hex');
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

let api: TestApi;

const alpha = new TenantStreamBuilder(`alpha-${hex()}`, '2025-05-01T10:00:00Z').activeTenant();
const bravo = new TenantStreamBuilder(`bravo-${hex()}`, '2025-05-01T10:00:00Z').activeTenant();

beforeAll(async () => {
  api = await startTestApi({ schemaPrefix: 'rco', overrides: { clock: () => NOW } });
  await alpha.appendTo(api.store);
  await bravo.appendTo(api.store);
  await readAllWhenVisible(
    api.store,
    { category: TENANT_STREAM_CATEGORY },
    alpha.events.length + bravo.events.length,
  );
});

afterAll(async () => {
  await api?.close();
});

describe('the console rollout pages on PostgreSQL', () => {
  it("lists and shows a rollout to an auditor, and follows an operator's pause through the rollouts API", async () => {
    const started = await api.http
      .post('/api/v1/rollouts')
      .set(bearer(api.secrets.operator))
      .send({
        image_tag: 'v2.4.0',
        reason: 'release 2.4',
        selection: { tenant_ids: [alpha.tenantId, bravo.tenantId] },
      })
      .expect(202);
    const rolloutId = (started.body as { rollout_id: string }).rollout_id;

    const detail = await api.http
      .get(`/api/v1/console/rollouts/${rolloutId}`)
      .set(bearer(api.secrets.auditor))
      .expect(200);
    expect(detail.body as RolloutConsoleDetail).toMatchObject({
      rollout_id: rolloutId,
      image_tag: 'v2.4.0',
      status: 'running',
      badge: { level: 'progress', label: 'Running' },
      requested_by: 'operator:alice',
      selection: 'Active tenants of 2 listed tenant(s)',
      wave: { current: null, total: 2, label: 'Not started' },
      progress: { pending: 2, total: 2, done: 0 },
      actions: ['pause', 'abort'],
      waves: [
        { label: 'Canary', tenants: [{ tenant_id: alpha.tenantId, status: 'pending' }] },
        { label: 'Batch 1', tenants: [{ tenant_id: bravo.tenantId, status: 'pending' }] },
      ],
    });

    // What the console's Pause button posts, with the key of its dialog.
    await api.http
      .post(`/api/v1/rollouts/${rolloutId}/pause`)
      .set({ ...bearer(api.secrets.operator), 'Idempotency-Key': randomUUID() })
      .send({ reason: 'error rate up' })
      .expect(202);
    const paused = await api.http
      .get(`/api/v1/console/rollouts/${rolloutId}`)
      .set(bearer(api.secrets.operator))
      .expect(200);
    expect(paused.body as RolloutConsoleDetail).toMatchObject({
      status: 'paused',
      actions: ['resume', 'abort'],
      decisions: [{ action: 'paused', by: 'operator:alice', reason: 'error rate up', at: NOW.toISOString() }],
    });

    // The list reads the rollout category: wait until PostgreSQL shows both events to readers.
    await readAllWhenVisible(api.store, { category: 'rollout' }, 2);
    const list = await api.http.get('/api/v1/console/rollouts').set(bearer(api.secrets.auditor)).expect(200);
    const items = (list.body as { items: RolloutConsoleItem[] }).items;
    expect(items.find((item) => item.rollout_id === rolloutId)).toMatchObject({
      status: 'paused',
      badge: { level: 'warning', label: 'Paused' },
      progress: { pending: 2, total: 2 },
    });
  });

  it('refuses a reader without a token, and names a malformed or unknown rollout', async () => {
    await api.http.get('/api/v1/console/rollouts').expect(401);
    const missing = randomUUID();
    const unknown = await api.http
      .get(`/api/v1/console/rollouts/${missing}`)
      .set(bearer(api.secrets.auditor))
      .expect(404);
    expect(unknown.body).toMatchObject({ error: 'ROLLOUT.NOT_FOUND', message: `no rollout ${missing}` });
    const malformed = await api.http
      .get('/api/v1/console/rollouts/not-a-rollout')
      .set(bearer(api.secrets.auditor))
      .expect(400);
    expect(malformed.body).toMatchObject({ error: 'VALIDATION_FAILED' });
  });
});
