import { randomBytes, randomUUID } from 'node:crypto';
import { TENANT_STREAM_CATEGORY } from '@app/contracts';
import { createEventStore, type EventStore } from '@app/event-store';
import { TenantStreamBuilder } from '@app/tenancy';
import { readAllWhenVisible } from '@app/testing';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Client } from 'pg';
import pino from 'pino';
import request from 'supertest';
import { createApp } from '../app.factory';
import { loadProvisioningApiConfig } from '../config';
import type { RolloutConsoleDetail, RolloutConsoleItem } from './rollout-console-views';

const DATABASE_URL =
  process.env['PROVISIONING_TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/provisioning_test';
if (!/_test$/.test(new URL(DATABASE_URL).pathname)) {
  throw new Error(`refusing to run against ${new URL(DATABASE_URL).pathname}: not a test database`);
}

const suffix = randomBytes(4).toString('hex');
const EVENT_SCHEMA = `rco_es_${suffix}`;
const READ_SCHEMA = `rco_rm_${suffix}`;
const OPERATOR = `op_${randomBytes(12).toString('hex')}`;
const AUDITOR = `au_${randomBytes(12).toString('hex')}`;
const NOW = new Date('2025-06-01T10:00:00.000Z');
const silent = pino({ level: 'silent' });
const hex = () => randomBytes(3).toString('hex');
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

let store: EventStore;
let app: NestExpressApplication;
let http: ReturnType<typeof request>;
const alpha = new TenantStreamBuilder(`alpha-${hex()}`, '2025-05-01T10:00:00Z').activeTenant();
const bravo = new TenantStreamBuilder(`bravo-${hex()}`, '2025-05-01T10:00:00Z').activeTenant();

beforeAll(async () => {
  store = await createEventStore(DATABASE_URL, { schema: EVENT_SCHEMA, logger: silent, pollIntervalMs: 100 });
  const config = loadProvisioningApiConfig({
    EVENTSTORE_URL: DATABASE_URL,
    EVENTSTORE_SCHEMA: EVENT_SCHEMA,
    READ_MODEL_URL: DATABASE_URL,
    READ_MODEL_SCHEMA: READ_SCHEMA,
    WEBHOOK_BEARER_SECRET: `whsec_${randomBytes(16).toString('hex')}`,
    WEBHOOK_SIGNING_SECRET: `whsig_${randomBytes(16).toString('hex')}`,
    OPERATOR_TOKENS: `olivia:${OPERATOR}`,
    AUDITOR_TOKENS: `audrey:${AUDITOR}`,
    GRACE_PERIOD_DAYS: '30',
    LOG_LEVEL: 'silent',
  });
  app = await createApp(config, { eventStore: store, logger: silent, clock: () => NOW });
  await app.listen(0, '127.0.0.1');
  http = request(app.getHttpServer());
  await alpha.appendTo(store);
  await bravo.appendTo(store);
  await readAllWhenVisible(
    store,
    { category: TENANT_STREAM_CATEGORY },
    alpha.events.length + bravo.events.length,
  );
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

describe('the console rollout pages on PostgreSQL', () => {
  it("lists and shows a rollout to an auditor, and follows an operator's pause through the rollouts API", async () => {
    const started = await http
      .post('/api/v1/rollouts')
      .set(bearer(OPERATOR))
      .send({
        image_tag: 'v2.4.0',
        reason: 'release 2.4',
        selection: { tenant_ids: [alpha.tenantId, bravo.tenantId] },
      })
      .expect(202);
    const rolloutId = (started.body as { rollout_id: string }).rollout_id;

    const detail = await http.get(`/api/v1/console/rollouts/${rolloutId}`).set(bearer(AUDITOR)).expect(200);
    expect(detail.body as RolloutConsoleDetail).toMatchObject({
      rollout_id: rolloutId,
      image_tag: 'v2.4.0',
      status: 'running',
      badge: { level: 'progress', label: 'Running' },
      requested_by: 'operator:olivia',
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
    await http
      .post(`/api/v1/rollouts/${rolloutId}/pause`)
      .set({ ...bearer(OPERATOR), 'Idempotency-Key': randomUUID() })
      .send({ reason: 'error rate up' })
      .expect(202);
    const paused = await http.get(`/api/v1/console/rollouts/${rolloutId}`).set(bearer(OPERATOR)).expect(200);
    expect(paused.body as RolloutConsoleDetail).toMatchObject({
      status: 'paused',
      actions: ['resume', 'abort'],
      decisions: [
        { action: 'paused', by: 'operator:olivia', reason: 'error rate up', at: NOW.toISOString() },
      ],
    });

    // The list reads the rollout category: wait until PostgreSQL shows both events to readers.
    await readAllWhenVisible(store, { category: 'rollout' }, 2);
    const list = await http.get('/api/v1/console/rollouts').set(bearer(AUDITOR)).expect(200);
    const items = (list.body as { items: RolloutConsoleItem[] }).items;
    expect(items.find((item) => item.rollout_id === rolloutId)).toMatchObject({
      status: 'paused',
      badge: { level: 'warning', label: 'Paused' },
      progress: { pending: 2, total: 2 },
    });
  });

  it('refuses a reader without a token, and names a malformed or unknown rollout', async () => {
    await http.get('/api/v1/console/rollouts').expect(401);
    const missing = randomUUID();
    const unknown = await http.get(`/api/v1/console/rollouts/${missing}`).set(bearer(AUDITOR)).expect(404);
    expect(unknown.body).toMatchObject({ error: 'ROLLOUT.NOT_FOUND', message: `no rollout ${missing}` });
    const malformed = await http
      .get('/api/v1/console/rollouts/not-a-rollout')
      .set(bearer(AUDITOR))
      .expect(400);
    expect(malformed.body).toMatchObject({ error: 'VALIDATION_FAILED' });
  });
});
