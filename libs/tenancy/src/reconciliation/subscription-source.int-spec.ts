import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { UseCaseError } from '../errors';
import { describeSource, fetchSubscriptions, validSourceUrl } from './subscription-source';

type Route = (request: IncomingMessage, response: ServerResponse) => void;
const routes = new Map<string, Route>();
let server: Server;
let base: string;
const LIMITS = { timeoutMs: 300, maxBytes: 4096 };

function json(body: string, type = 'application/json'): Route {
  return (_, response) => {
    response.writeHead(200, { 'content-type': type });
    response.end(body);
  };
}

beforeAll(async () => {
  server = createServer((request, response) => {
    const route = routes.get(new URL(request.url ?? '/', 'http://x').pathname);
    if (route) return route(request, response);
    response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  routes.set('/ok.json', json(JSON.stringify([{ subscription_id: 'sub_1', tier: 'premium' }])));
  routes.set('/ok.csv', json('subscription_id,tier\nsub_2,business\n', 'text/csv; charset=utf-8'));
  routes.set('/bad.json', json('[{"subscription_id": "sub_1", '));
  routes.set(
    '/bad-record.json',
    json(JSON.stringify({ subscriptions: [{ subscription_id: 'sub_1', tier: 'gold' }] })),
  );
  routes.set('/html', json('<html></html>', 'text/html'));
  routes.set('/large.json', json(JSON.stringify([{ subscription_id: 'x'.repeat(8000), tier: 'premium' }])));
  // Chunked, no Content-Length: the limit must hold while the body streams in.
  routes.set('/stream.json', (_, response) => {
    response.writeHead(200, { 'content-type': 'application/json' });
    for (let i = 0; i < 10; i++) response.write(' '.repeat(1000));
    response.end('[]');
  });
  routes.set('/slow', () => undefined);
  routes.set('/stalls-mid-body', (_, response) => {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.write('[');
  });
  routes.set('/redirect', (_, response) => response.writeHead(302, { location: `${base}/ok.json` }).end());
  routes.set('/down', (_, response) => response.writeHead(503).end());
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

async function failure(path: string): Promise<UseCaseError> {
  const error = await fetchSubscriptions(new URL(`${base}${path}?token=s3cret`), LIMITS).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UseCaseError);
  expect((error as Error).message).not.toContain('s3cret');
  return error as UseCaseError;
}

describe('fetchSubscriptions against a local HTTP server', () => {
  it('reads JSON and CSV by content type', async () => {
    expect(await fetchSubscriptions(new URL(`${base}/ok.json`), LIMITS)).toEqual([
      { subscriptionId: 'sub_1', tier: 'premium' },
    ]);
    expect(await fetchSubscriptions(new URL(`${base}/ok.csv`), LIMITS)).toEqual([
      { subscriptionId: 'sub_2', tier: 'business' },
    ]);
  });

  it('gives up after the timeout, before the headers or in the middle of the body', async () => {
    for (const path of ['/slow', '/stalls-mid-body']) {
      const error = await failure(path);
      expect(error).toMatchObject({ code: 'RECONCILIATION.SOURCE_TIMEOUT', status: 504 });
      expect(error.message).toBe(`source ${base}${path} did not answer within 300 ms`);
    }
  });

  it('refuses a body over the size limit, declared or streamed', async () => {
    for (const path of ['/large.json', '/stream.json']) {
      expect(await failure(path)).toMatchObject({ code: 'RECONCILIATION.SOURCE_TOO_LARGE', status: 502 });
    }
  });

  it('refuses bad JSON, invalid records, other content types, redirects and error statuses', async () => {
    expect((await failure('/bad.json')).message).toBe(
      `source ${base}/bad.json answered a body that is not valid JSON`,
    );
    const records = await failure('/bad-record.json');
    expect(records.code).toBe('RECONCILIATION.SOURCE_INVALID');
    expect(records.violations.flatMap((v) => v.messages)).toEqual([
      'subscription #1: tier must be one of standard, premium, business (got "gold")',
    ]);
    expect((await failure('/html')).message).toContain(
      'answered text/html, expected application/json or text/csv',
    );
    expect(await failure('/redirect')).toMatchObject({ code: 'RECONCILIATION.SOURCE_UNAVAILABLE' });
    expect((await failure('/down')).message).toBe(`source ${base}/down answered HTTP 503`);
  });
});

describe('validSourceUrl', () => {
  it.each([
    ['ftp://billing/export', 'http or https'],
    ['https://user:pw@billing/export', 'credentials'],
    ['http://169.254.169.254/latest/meta-data', 'link-local'],
    ['http://[fe80::1]/x', 'link-local'],
    ['not a url', 'not a valid URL'],
    [42, 'URL of 1-2048'],
  ])('refuses %p', (value, message) => {
    expect(() => validSourceUrl(value)).toThrow(
      expect.objectContaining({
        code: 'VALIDATION_FAILED',
        violations: [expect.objectContaining({ field: 'source' })],
      }),
    );
    try {
      validSourceUrl(value);
    } catch (error) {
      expect((error as UseCaseError).violations[0].messages[0]).toContain(message);
    }
  });

  it('records the source without its query string', () => {
    expect(describeSource(validSourceUrl('https://billing.example.com/v1/active?token=abc'))).toBe(
      'https://billing.example.com/v1/active',
    );
  });
});
