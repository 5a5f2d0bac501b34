import { randomBytes } from 'node:crypto';
import { Parser } from '@asyncapi/parser';
import { COMMAND_TYPES } from '@app/contracts';
import type { NestExpressApplication } from '@nestjs/platform-express';
import pino from 'pino';
import { createApp } from '../app.factory';
import { loadProvisioningApiConfig } from '../config';
import { ASYNCAPI_PATH } from './asyncapi.route';

// The API as main.ts runs it, listening on a real port; in-memory stores, since what is under test is the route.
const METRICS = `metrics_${randomBytes(16).toString('hex')}`;
const OPERATOR = `op_${randomBytes(16).toString('hex')}`;
const AUDITOR = `au_${randomBytes(16).toString('hex')}`;
const BEARER = `bearer_${randomBytes(16).toString('hex')}`;

async function start(
  nodeEnv: 'development' | 'production',
): Promise<{ app: NestExpressApplication; url: string }> {
  const config = loadProvisioningApiConfig({
    NODE_ENV: nodeEnv,
    EVENTSTORE_URL: 'memory:',
    READ_MODEL_URL: 'memory:',
    WEBHOOK_SIGNING_SECRET: `whsec_${randomBytes(16).toString('hex')}`,
    WEBHOOK_BEARER_SECRET: BEARER,
    METRICS_TOKEN: METRICS,
    OPERATOR_TOKENS: `alice:${OPERATOR}`,
    AUDITOR_TOKENS: `audrey:${AUDITOR}`,
    LOG_LEVEL: 'silent',
  });
  const app = await createApp(config, { logger: pino({ level: 'silent' }) });
  await app.listen(0, '127.0.0.1');
  return { app, url: (await app.getUrl()).replace('[::1]', '127.0.0.1') };
}

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

describe(`GET ${ASYNCAPI_PATH}`, () => {
  let development: { app: NestExpressApplication; url: string };
  let production: { app: NestExpressApplication; url: string };

  beforeAll(async () => {
    development = await start('development');
    production = await start('production');
  });
  afterAll(async () => {
    await development?.app.close();
    await production?.app.close();
  });

  it('serves the AsyncAPI document beside the OpenAPI document, valid for the AsyncAPI parser', async () => {
    const response = await fetch(`${development.url}${ASYNCAPI_PATH}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const document = (await response.json()) as { asyncapi: string; components: { messages: object } };
    expect(document.asyncapi).toMatch(/^3\./);
    expect(Object.keys(document.components.messages)).toEqual(expect.arrayContaining([...COMMAND_TYPES]));
    const errors = (await new Parser().validate(document as never)).filter((d) => d.severity === 0);
    expect(errors).toEqual([]);
    const openApi = await fetch(`${development.url}/api/docs-json`);
    expect(openApi.status).toBe(200);
  });

  it('under NODE_ENV=production answers only METRICS_TOKEN, an operator or an auditor token', async () => {
    for (const headers of [
      {},
      bearer(BEARER),
      bearer(`${OPERATOR}x`),
      { Authorization: `Basic ${METRICS}` },
    ]) {
      const response = await fetch(`${production.url}${ASYNCAPI_PATH}`, { headers });
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer');
      expect(await response.text()).not.toContain('provisioning.commands');
    }
    for (const token of [METRICS, OPERATOR, AUDITOR]) {
      const response = await fetch(`${production.url}${ASYNCAPI_PATH}`, { headers: bearer(token) });
      expect(response.status).toBe(200);
      expect(await response.text()).toContain('provisioning.commands');
    }
  });
});
