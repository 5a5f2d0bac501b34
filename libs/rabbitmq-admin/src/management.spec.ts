import { isRetryable } from '@app/messaging';
import {
  managementBackoffMs,
  RabbitManagementClient,
  RabbitManagementError,
  type ManagementFetch,
} from './index';

interface Call {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: unknown;
}

type Answer = { status: number; body?: unknown } | Error;

/** A fake management API: answers from `answers` in order (the last one repeats) and records each call. */
function fakeApi(...answers: Answer[]): { fetch: ManagementFetch; calls: Call[] } {
  const calls: Call[] = [];
  const fetch: ManagementFetch = async (url, init) => {
    calls.push({
      method: init.method,
      url,
      headers: init.headers,
      body: init.body === undefined ? undefined : (JSON.parse(init.body) as unknown),
    });
    const answer = answers[Math.min(calls.length, answers.length) - 1];
    if (answer instanceof Error) throw answer;
    const text = answer.body === undefined ? '' : JSON.stringify(answer.body);
    return { ok: answer.status < 400, status: answer.status, text: async () => text };
  };
  return { fetch, calls };
}

function client(api: { fetch: ManagementFetch }, attempts = 1): RabbitManagementClient {
  return new RabbitManagementClient({
    baseUrl: 'http://mgmt.test:15672/',
    username: 'admin',
    password: 's3cret-pw',
    attempts,
    backoffMs: 0,
    fetch: api.fetch,
  });
}

const connectionRefused = Object.assign(new TypeError('fetch failed'), {
  cause: { message: 'connect ECONNREFUSED 127.0.0.1:15672' },
});
const timedOut = Object.assign(new Error('The operation was aborted due to timeout'), {
  name: 'TimeoutError',
});

describe('RabbitManagementClient requests (fake API, no I/O)', () => {
  it('encodes every path segment and sends the declared topology in the API shapes', async () => {
    const api = fakeApi({ status: 201 });
    const mgmt = client(api);
    await mgmt.createVhost('/tenant a');
    await mgmt.declareExchange('/tenant a', { name: 'ev/ents', type: 'topic' });
    await mgmt.declareQueue('/tenant a', { name: 'q 1', arguments: { 'x-max-length': 10 } });
    await mgmt.createBinding('/tenant a', { source: 'ev/ents', destination: 'q 1', routingKey: 'user.*' });
    await mgmt.createBinding('v', {
      source: 'a',
      destination: 'b',
      destinationType: 'exchange',
      routingKey: '#',
    });
    await mgmt.setPermissions('/tenant a', 'u@x', { configure: '.*', write: '.*', read: '.*' });
    expect(api.calls.map((c) => `${c.method} ${c.url}`)).toEqual([
      'PUT http://mgmt.test:15672/api/vhosts/%2Ftenant%20a',
      'PUT http://mgmt.test:15672/api/exchanges/%2Ftenant%20a/ev%2Fents',
      'PUT http://mgmt.test:15672/api/queues/%2Ftenant%20a/q%201',
      'POST http://mgmt.test:15672/api/bindings/%2Ftenant%20a/e/ev%2Fents/q/q%201',
      'POST http://mgmt.test:15672/api/bindings/v/e/a/e/b',
      'PUT http://mgmt.test:15672/api/permissions/%2Ftenant%20a/u%40x',
    ]);
    expect(api.calls.map((c) => c.body)).toEqual([
      {},
      { type: 'topic', durable: true, auto_delete: false, internal: false, arguments: {} },
      { durable: true, auto_delete: false, arguments: { 'x-max-length': 10 } },
      { routing_key: 'user.*', arguments: {} },
      { routing_key: '#', arguments: {} },
      { configure: '.*', write: '.*', read: '.*' },
    ]);
    expect(api.calls[0].headers.authorization).toBe(
      `Basic ${Buffer.from('admin:s3cret-pw').toString('base64')}`,
    );
  });

  it('sends a user with empty tags and keeps the password out of URLs and errors', async () => {
    const api = fakeApi({ status: 400, body: { error: 'bad_request', reason: 'nope' } });
    const failure = await client(api)
      .putUser('tenant-app-user', 'user-pw-123')
      .catch((error: unknown) => error);
    expect(api.calls[0]).toMatchObject({
      method: 'PUT',
      url: 'http://mgmt.test:15672/api/users/tenant-app-user',
      body: { password: 'user-pw-123', tags: '' },
    });
    expect(failure).toBeInstanceOf(RabbitManagementError);
    expect(failure).toMatchObject({
      code: 'MANAGEMENT.BAD_REQUEST',
      status: 400,
      reason: 'nope',
      retryable: false,
    });
    expect(JSON.stringify({ ...(failure as object), message: (failure as Error).message })).not.toMatch(
      /user-pw-123|s3cret-pw/,
    );
  });

  it('refuses names that cannot be a path segment before any request', async () => {
    const api = fakeApi({ status: 200 });
    await expect(client(api).getExchange('v', 'a\nb')).rejects.toMatchObject({
      code: 'MANAGEMENT.INVALID_NAME',
    });
    await expect(client(api).declareQueue('', { name: 'q' })).rejects.toMatchObject({
      code: 'MANAGEMENT.INVALID_NAME',
    });
    expect(api.calls).toHaveLength(0);
  });

  it.each([
    [404, 'MANAGEMENT.NOT_FOUND', false],
    [401, 'MANAGEMENT.UNAUTHORIZED', false],
    [403, 'MANAGEMENT.UNAUTHORIZED', false],
    [400, 'MANAGEMENT.BAD_REQUEST', false],
    [409, 'MANAGEMENT.HTTP_ERROR', false],
    [500, 'MANAGEMENT.HTTP_ERROR', true],
    [503, 'MANAGEMENT.HTTP_ERROR', true],
  ])('maps HTTP %i to %s (retryable %p)', async (status, code, retryable) => {
    const api = fakeApi({ status, body: { error: 'x', reason: 'why' } });
    await expect(client(api).overview()).rejects.toMatchObject({ code, status, retryable, reason: 'why' });
  });

  it('maps connection errors and timeouts to retryable codes', async () => {
    await expect(client(fakeApi(connectionRefused)).overview()).rejects.toMatchObject({
      code: 'MANAGEMENT.UNREACHABLE',
      retryable: true,
      message: expect.stringContaining('ECONNREFUSED'),
    });
    await expect(client(fakeApi(timedOut)).overview()).rejects.toMatchObject({
      code: 'MANAGEMENT.TIMEOUT',
      retryable: true,
    });
  });

  it("tells @app/messaging's consumer whether to retry or park (its retryable getter is read)", () => {
    expect(isRetryable(new RabbitManagementError('MANAGEMENT.BAD_REQUEST', 'bad', 400))).toBe(false);
    expect(isRetryable(new RabbitManagementError('MANAGEMENT.TIMEOUT', 'slow'))).toBe(true);
  });

  it('answers undefined / false / [] for missing objects, but getQueue throws NOT_FOUND', async () => {
    const mgmt = client(fakeApi({ status: 404, body: { error: 'Object Not Found', reason: 'Not Found' } }));
    expect(await mgmt.getVhost('v')).toBeUndefined();
    expect(await mgmt.vhostExists('v')).toBe(false);
    expect(await mgmt.getUser('u')).toBeUndefined();
    expect(await mgmt.getExchange('v', 'x')).toBeUndefined();
    expect(await mgmt.findQueue('v', 'q')).toBeUndefined();
    expect(await mgmt.getPermissions('v', 'u')).toBeUndefined();
    expect(await mgmt.listUserPermissions('u')).toEqual([]);
    expect(await mgmt.deleteVhost('v')).toBe(false);
    expect(await mgmt.deleteUser('u')).toBe(false);
    expect(await mgmt.deletePermissions('v', 'u')).toBe(false);
    expect(await mgmt.deleteQueue('v', 'q')).toBe(false);
    await expect(mgmt.getQueue('v', 'q')).rejects.toMatchObject({
      code: 'MANAGEMENT.NOT_FOUND',
      status: 404,
    });
    expect(await client(fakeApi({ status: 204 })).deleteVhost('v')).toBe(true);
  });

  it('reads objects into camelCase shapes, normalising user tags', async () => {
    const exchange = fakeApi({
      status: 200,
      body: {
        name: 'x',
        vhost: 'v',
        type: 'topic',
        durable: true,
        auto_delete: false,
        internal: false,
        arguments: {},
      },
    });
    expect(await client(exchange).getExchange('v', 'x')).toEqual({
      name: 'x',
      vhost: 'v',
      type: 'topic',
      durable: true,
      autoDelete: false,
      internal: false,
      arguments: {},
    });
    expect(await client(fakeApi({ status: 200, body: { name: 'u', tags: '' } })).getUser('u')).toEqual({
      name: 'u',
      tags: [],
    });
    expect(await client(fakeApi({ status: 200, body: { name: 'u', tags: 'a,b' } })).getUser('u')).toEqual({
      name: 'u',
      tags: ['a', 'b'],
    });
    expect(
      await client(fakeApi({ status: 200, body: { name: 'u', tags: ['monitoring'] } })).getUser('u'),
    ).toEqual({
      name: 'u',
      tags: ['monitoring'],
    });
    const bindings = fakeApi({
      status: 200,
      body: [{ source: 'x', destination: 'q', destination_type: 'queue', routing_key: 'k', arguments: {} }],
    });
    expect(await client(bindings).listBindings('v', 'x', 'q')).toEqual([
      { source: 'x', destination: 'q', destinationType: 'queue', routingKey: 'k', arguments: {} },
    ]);
    expect(bindings.calls[0].url).toBe('http://mgmt.test:15672/api/bindings/v/e/x/q/q');
  });

  it('reads a vhost with its per-node state, lists its exchanges and starts it on a node', async () => {
    const vhost = fakeApi({
      status: 200,
      body: {
        name: '/t a',
        description: 'd',
        cluster_state: { 'rabbit@a': 'running', 'rabbit@b': 'stopped' },
      },
    });
    expect(await client(vhost).getVhost('/t a')).toEqual({
      name: '/t a',
      description: 'd',
      clusterState: { 'rabbit@a': 'running', 'rabbit@b': 'stopped' },
    });
    expect(vhost.calls[0].url).toBe('http://mgmt.test:15672/api/vhosts/%2Ft%20a');
    const vhosts = fakeApi({ status: 200, body: [{ name: 'v' }] });
    expect(await client(vhosts).listVhosts()).toEqual([{ name: 'v', description: '', clusterState: {} }]);
    expect(vhosts.calls[0].url).toBe(
      'http://mgmt.test:15672/api/vhosts?columns=name,description,cluster_state',
    );

    const exchanges = fakeApi({
      status: 200,
      body: [
        { name: '', vhost: '/t a', type: 'direct', durable: true, auto_delete: false, internal: false },
        {
          name: 'amq.rabbitmq.trace',
          vhost: '/t a',
          type: 'topic',
          durable: true,
          auto_delete: false,
          internal: true,
          arguments: {},
        },
      ],
    });
    expect(await client(exchanges).listExchanges('/t a')).toEqual([
      {
        name: '',
        vhost: '/t a',
        type: 'direct',
        durable: true,
        autoDelete: false,
        internal: false,
        arguments: {},
      },
      {
        name: 'amq.rabbitmq.trace',
        vhost: '/t a',
        type: 'topic',
        durable: true,
        autoDelete: false,
        internal: true,
        arguments: {},
      },
    ]);
    expect(exchanges.calls[0].url).toBe('http://mgmt.test:15672/api/exchanges/%2Ft%20a');

    const start = fakeApi({ status: 204 });
    await client(start).startVhost('/t a', 'rabbit@b');
    expect(start.calls).toEqual([
      expect.objectContaining({
        method: 'POST',
        url: 'http://mgmt.test:15672/api/vhosts/%2Ft%20a/start/rabbit%40b',
      }),
    ]);
    await expect(client(start).startVhost('v', '')).rejects.toMatchObject({
      code: 'MANAGEMENT.INVALID_NAME',
    });
  });

  it('throws NOT_FOUND when listing the exchanges of a missing vhost', async () => {
    const mgmt = client(fakeApi({ status: 404, body: { error: 'Object Not Found', reason: 'Not Found' } }));
    await expect(mgmt.listExchanges('v')).rejects.toMatchObject({
      code: 'MANAGEMENT.NOT_FOUND',
      status: 404,
    });
  });
});

describe('RabbitManagementClient retries (fake API, no I/O)', () => {
  it('does not retry by default', async () => {
    const api = fakeApi({ status: 500 }, { status: 204 });
    await expect(client(api).createVhost('v')).rejects.toMatchObject({ code: 'MANAGEMENT.HTTP_ERROR' });
    expect(api.calls).toHaveLength(1);
  });

  it('retries idempotent requests on 5xx, timeouts and connection errors until one passes', async () => {
    const api = fakeApi({ status: 502 }, timedOut, connectionRefused, { status: 204 });
    await client(api, 4).declareQueue('v', { name: 'q' });
    expect(api.calls.map((c) => c.method)).toEqual(['PUT', 'PUT', 'PUT', 'PUT']);
    const binding = fakeApi({ status: 500 }, { status: 201 });
    await client(binding, 2).createBinding('v', { source: 'x', destination: 'q', routingKey: 'k' });
    expect(binding.calls).toHaveLength(2);
    // Starting a running vhost changes nothing: retried like a PUT.
    const start = fakeApi({ status: 503 }, { status: 204 });
    await client(start, 2).startVhost('v', 'rabbit@a');
    expect(start.calls).toHaveLength(2);
  });

  it('gives up after the configured attempts with the last error', async () => {
    const api = fakeApi({ status: 500 }, { status: 500 }, { status: 503, body: { reason: 'last' } });
    await expect(client(api, 3).getVhost('v')).rejects.toMatchObject({ status: 503, reason: 'last' });
    expect(api.calls).toHaveLength(3);
  });

  it('never retries a 4xx', async () => {
    const api = fakeApi({ status: 400, body: { reason: 'PRECONDITION_FAILED - inequivalent arg' } });
    await expect(client(api, 5).declareQueue('v', { name: 'q' })).rejects.toMatchObject({
      code: 'MANAGEMENT.BAD_REQUEST',
      reason: 'PRECONDITION_FAILED - inequivalent arg',
    });
    expect(api.calls).toHaveLength(1);
  });

  it('never retries a peek (a repeat would requeue the messages again)', async () => {
    const api = fakeApi({ status: 500 }, { status: 200, body: [] });
    await expect(client(api, 3).peekMessages('v', 'q', 1)).rejects.toMatchObject({ status: 500 });
    expect(api.calls).toHaveLength(1);
  });

  it('doubles the backoff from one attempt to the next, up to the cap', () => {
    expect([1, 2, 3, 4, 5].map((attempt) => managementBackoffMs(attempt, 100, 1_000))).toEqual([
      100, 200, 400, 800, 1_000,
    ]);
    expect(managementBackoffMs(3, 0, 1_000)).toBe(0);
  });

  it.each([{ attempts: 0 }, { attempts: 1.5 }, { backoffMs: -1 }, { timeoutMs: 0 }])(
    'refuses options %p',
    (options) => {
      expect(
        () => new RabbitManagementClient({ baseUrl: 'http://x', username: 'u', password: 'p', ...options }),
      ).toThrow(expect.objectContaining({ code: 'MANAGEMENT.INVALID_OPTIONS' }));
    },
  );
});
