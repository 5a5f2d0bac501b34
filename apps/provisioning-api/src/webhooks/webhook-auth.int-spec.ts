import { randomBytes } from 'node:crypto';
import { MemoryEventStore } from '@app/event-store';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Client } from 'pg';
import pino from 'pino';
import request from 'supertest';
import { createApp } from '../app.factory';
import { loadProvisioningApiConfig } from '../config';
import { signWebhook } from '../http/auth';
import { MemoryTenantReadModel } from '@app/tenancy';

// Two API replicas over one event store, sharing the replay table in PostgreSQL (the read model's database).
const DATABASE_URL =
  process.env['PROVISIONING_TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/provisioning_test';
if (!/_test(\?|$)/.test(new URL(DATABASE_URL).pathname + '?')) {
  throw new Error(`refusing to run against ${new URL(DATABASE_URL).pathname}: not a test database`);
}

const SCHEMA = `pa_wh_${randomBytes(4).toString('hex')}`;
// The deprecated name on purpose: existing deployments keep starting, their secret now signs only.
const SIGNING = `whsec_${randomBytes(16).toString('hex')}`;
const PREVIOUS = `whsec_${randomBytes(16).toString('hex')}`;
const BEARER = `bearer_${randomBytes(16).toString('hex')}`;
const CREATED = '/api/v1/provisioning/webhooks/subscription-created';
const silent = pino({ level: 'silent' });
const store = new MemoryEventStore();
const apps: NestExpressApplication[] = [];

type Http = ReturnType<typeof request>;
let replicaA: Http;
let replicaB: Http;
let strict: Http;

async function start(env: Record<string, string>): Promise<Http> {
  const config = loadProvisioningApiConfig({
    EVENTSTORE_URL: 'memory:',
    READ_MODEL_URL: DATABASE_URL,
    READ_MODEL_SCHEMA: SCHEMA,
    WEBHOOK_SECRET: SIGNING,
    WEBHOOK_BEARER_SECRET: BEARER,
    LOG_LEVEL: 'silent',
    ...env,
  });
  const app = await createApp(config, {
    eventStore: store,
    readModel: new MemoryTenantReadModel(),
    logger: silent,
  });
  apps.push(app);
  await app.init();
  return request(app.getHttpServer());
}

beforeAll(async () => {
  replicaA = await start({});
  replicaB = await start({});
  strict = await start({ WEBHOOK_REQUIRE_SIGNATURE: 'true' });
});

afterAll(async () => {
  for (const app of apps) await app.close();
  const client = new Client({ connectionString: DATABASE_URL });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS "${SCHEMA}" CASCADE`);
  await client.end();
});

function createdBody(): string {
  const tag = randomBytes(4)
    .toString('hex')
    .replace(/[0-9]/g, (d) => 'ghijklmnop'[Number(d)]);
  return JSON.stringify({
    event: 'subscription.created',
    timestamp: '2025-01-15T10:00:00Z',
    data: {
      subscription_id: `sub_${randomBytes(6).toString('hex')}`,
      customer: { name: `Webhook ${tag}`, email: `admin-${tag}@example.com` },
      plan: { tier: 'premium', price: 124.99, currency: 'EUR', billing_period: 'monthly' },
      metadata: { region: 'us-east' },
    },
  });
}

const nowSeconds = (offset = 0) => String(Math.floor(Date.now() / 1000) + offset);
const v1 = (secret: string, t: string, body: string) => `v1=${signWebhook(secret, t, body)}`;

function post(http: Http, body: string, headers: Record<string, string>) {
  return http
    .post(CREATED)
    .set({ 'Content-Type': 'application/json', ...headers })
    .send(body);
}

describe('webhook bearer form', () => {
  it('accepts WEBHOOK_BEARER_SECRET when signatures are not required', async () => {
    await post(replicaA, createdBody(), { Authorization: `Bearer ${BEARER}` }).expect(202);
  });

  it('refuses the signing secret as a bearer token', async () => {
    const response = await post(replicaA, createdBody(), { Authorization: `Bearer ${SIGNING}` });
    expect(response.status).toBe(401);
    expect(response.body).toEqual({ statusCode: 401 });
  });

  it('refuses every bearer token under WEBHOOK_REQUIRE_SIGNATURE, and still takes a signature', async () => {
    for (const token of [BEARER, SIGNING]) {
      const response = await post(strict, createdBody(), { Authorization: `Bearer ${token}` });
      expect(response.status).toBe(401);
    }
    const body = createdBody();
    const t = nowSeconds();
    await post(strict, body, { 'Stripe-Signature': `t=${t},${v1(SIGNING, t, body)}` }).expect(202);
  });
});

describe('Stripe-Signature', () => {
  it('accepts one v1, and two v1 during a secret rotation', async () => {
    const one = createdBody();
    const t = nowSeconds();
    await post(replicaA, one, { 'Stripe-Signature': `t=${t},${v1(SIGNING, t, one)}` }).expect(202);
    const two = createdBody();
    const header = `t=${t},${v1(PREVIOUS, t, two)},${v1(SIGNING, t, two)}`;
    await post(replicaA, two, { 'Stripe-Signature': header }).expect(202);
  });

  it('refuses wrong v1 values, another body, and a timestamp outside the tolerance', async () => {
    const body = createdBody();
    const t = nowSeconds();
    const stale = nowSeconds(-301);
    for (const header of [
      `t=${t},${v1(PREVIOUS, t, body)}`,
      `t=${t},${v1(PREVIOUS, t, body)},${v1(BEARER, t, body)}`,
      `t=${t},${v1(SIGNING, t, createdBody())}`,
      `t=${stale},${v1(SIGNING, stale, body)}`,
      `t=${t},v0=${signWebhook(SIGNING, t, body)}`,
    ]) {
      const response = await post(replicaA, body, { 'Stripe-Signature': header });
      expect({ header, status: response.status }).toEqual({ header, status: 401 });
    }
  });
});

describe('replays inside the tolerance window', () => {
  it('refuses the same signed request a second time, on the same replica or another, in either form', async () => {
    const body = createdBody();
    const t = nowSeconds();
    const stripe = { 'Stripe-Signature': `t=${t},${v1(SIGNING, t, body)}` };
    await post(replicaA, body, stripe).expect(202);

    const again = await post(replicaA, body, stripe);
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ error: 'WEBHOOK.REPLAYED' });
    expect((await post(replicaB, body, stripe)).status).toBe(409);
    const other = { 'X-Signature-Timestamp': t, 'X-Signature': signWebhook(SIGNING, t, body) };
    expect((await post(replicaB, body, other)).status).toBe(409);
  });

  it('accepts a retry signed anew (new timestamp) as the same delivery', async () => {
    const body = createdBody();
    const first = nowSeconds();
    const accepted = await post(replicaA, body, {
      'Stripe-Signature': `t=${first},${v1(SIGNING, first, body)}`,
    }).expect(202);
    const retry = nowSeconds(1);
    const retried = await post(replicaB, body, {
      'Stripe-Signature': `t=${retry},${v1(SIGNING, retry, body)}`,
    }).expect(202);
    expect(retried.body.tenant_id).toBe(accepted.body.tenant_id);
  });

  it('lets exactly one of concurrent copies of a signed request in', async () => {
    const body = createdBody();
    const t = nowSeconds();
    const headers = { 'X-Signature-Timestamp': t, 'X-Signature': signWebhook(SIGNING, t, body) };
    const statuses = await Promise.all(
      [replicaA, replicaB, replicaA, replicaB].map(async (http) => (await post(http, body, headers)).status),
    );
    expect(statuses.sort()).toEqual([202, 409, 409, 409]);
  });
});
