import { randomBytes } from 'node:crypto';
import type { NestExpressApplication } from '@nestjs/platform-express';
import pino from 'pino';
import request from 'supertest';
import { createApp } from '../app.factory';
import { loadProvisioningApiConfig } from '../config';

// In-memory stores: what is under test is the HTTP edge under NODE_ENV=production, not persistence.
const METRICS = `metrics_${randomBytes(16).toString('hex')}`;
const OPERATOR = `op_${randomBytes(16).toString('hex')}`;
const AUDITOR = `au_${randomBytes(16).toString('hex')}`;
const SIGNING = `whsec_${randomBytes(16).toString('hex')}`;
const BEARER = `bearer_${randomBytes(16).toString('hex')}`;
const DOCS = ['/api/docs', '/api/docs/', '/api/docs-json', '/api/docs-yaml', '/api/docs/swagger-ui-init.js'];

let app: NestExpressApplication;
let http: ReturnType<typeof request>;

beforeAll(async () => {
  const config = loadProvisioningApiConfig({
    NODE_ENV: 'production',
    EVENTSTORE_URL: 'memory:',
    READ_MODEL_URL: 'memory:',
    WEBHOOK_SIGNING_SECRET: SIGNING,
    WEBHOOK_BEARER_SECRET: BEARER,
    METRICS_TOKEN: METRICS,
    OPERATOR_TOKENS: `alice:${OPERATOR}`,
    AUDITOR_TOKENS: `audrey:${AUDITOR}`,
    LOG_LEVEL: 'silent',
  });
  app = await createApp(config, { logger: pino({ level: 'silent' }) });
  await app.init();
  http = request(app.getHttpServer());
});

afterAll(async () => {
  await app?.close();
});

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

describe('NODE_ENV=production: /metrics and /api/docs', () => {
  it('refuses /metrics without METRICS_TOKEN or with another token', async () => {
    for (const headers of [
      {},
      bearer(OPERATOR),
      bearer(`${METRICS}x`),
      { Authorization: `Basic ${METRICS}` },
    ]) {
      const response = await http.get('/metrics').set(headers);
      expect(response.status).toBe(401);
      expect(response.text).not.toContain('provisioning_');
    }
    const scraped = await http.get('/metrics').set(bearer(METRICS)).expect(200);
    expect(scraped.text).toContain('# HELP');
  });

  it('refuses the OpenAPI UI and document without a token, with no route leaked', async () => {
    for (const path of DOCS) {
      for (const headers of [{}, bearer(BEARER), bearer(SIGNING), bearer('not-a-known-token-000000')]) {
        const response = await http.get(path).set(headers);
        expect({ path, status: response.status }).toEqual({ path, status: 401 });
        expect(response.text).not.toContain('/api/v1/');
      }
    }
  });

  it('serves the OpenAPI document to METRICS_TOKEN, an operator or an auditor token', async () => {
    for (const token of [METRICS, OPERATOR, AUDITOR]) {
      const doc = await http.get('/api/docs-json').set(bearer(token)).expect(200);
      expect(doc.body.paths).toHaveProperty(['/api/v1/provisioning/webhooks/subscription-created']);
    }
    await http.get('/api/docs').set(bearer(OPERATOR)).expect(200);
  });

  it('refuses the webhook bearer form: signatures are required by default', async () => {
    const response = await http
      .post('/api/v1/provisioning/webhooks/subscription-created')
      .set(bearer(BEARER))
      .send({ event: 'subscription.created' });
    expect(response.status).toBe(401);
  });
});
