import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { probeAmqpAccess } from '@app/messaging';
import { RabbitManagementClient, RabbitManagementError } from './index';
import { rabbit } from '@app/testing';

const { ADMIN_PASSWORD, ADMIN_USER, AMQP_HOST, createTestVhost, management, MANAGEMENT_URL, uniqueName } =
  rabbit;

jest.setTimeout(30_000);

describe('RabbitManagementClient against the local RabbitMQ', () => {
  const client = management();

  it('creates and deletes a vhost whose name holds a slash and spaces (every path segment encoded)', async () => {
    const vhost = `${uniqueName('test-mgmt')}/tenant a`;
    try {
      await client.createVhost(vhost);
      expect(await client.vhostExists(vhost)).toBe(true);
      expect(await client.listQueues(vhost)).toEqual([]);
    } finally {
      await client.deleteVhost(vhost);
    }
    expect(await client.vhostExists(vhost)).toBe(false);
    await expect(client.deleteVhost(vhost)).resolves.toBe(false);
  });

  it('declares and reads back exchanges, queues with arguments, bindings, users and permissions', async () => {
    const vhost = uniqueName('test-mgmt-topology');
    const user = uniqueName('test-mgmt-user');
    const exchange = 'tenant.events';
    const queue = 'tenant auth/q';
    try {
      await client.createVhost(vhost, 'management test, safe to delete');
      const created = await client.getVhost(vhost);
      expect(created).toEqual({
        name: vhost,
        description: 'management test, safe to delete',
        clusterState: expect.any(Object),
      });
      const nodes = Object.keys(created!.clusterState);
      expect(nodes.length).toBeGreaterThan(0);
      expect(Object.values(created!.clusterState).every((state) => state === 'running')).toBe(true);
      // Starting a running vhost changes nothing.
      for (const node of nodes) await client.startVhost(vhost, node);
      expect((await client.getVhost(vhost))?.clusterState).toEqual(created!.clusterState);
      expect((await client.listVhosts()).map((v) => v.name)).toContain(vhost);

      await client.declareExchange(vhost, { name: exchange, type: 'topic' });
      await client.declareExchange(vhost, { name: exchange, type: 'topic' });
      expect(await client.getExchange(vhost, exchange)).toEqual({
        name: exchange,
        vhost,
        type: 'topic',
        durable: true,
        autoDelete: false,
        internal: false,
        arguments: {},
      });
      expect(await client.getExchange(vhost, 'missing.exchange')).toBeUndefined();
      expect((await client.listExchanges(vhost)).map((x) => x.name).sort()).toEqual([
        '',
        'amq.direct',
        'amq.fanout',
        'amq.headers',
        'amq.match',
        'amq.rabbitmq.trace',
        'amq.topic',
        exchange,
      ]);

      const args = { 'x-message-ttl': 86_400_000, 'x-max-length': 10_000 };
      await client.declareQueue(vhost, { name: queue, arguments: args });
      await client.declareQueue(vhost, { name: queue, arguments: args });
      expect(await client.findQueue(vhost, queue)).toMatchObject({
        name: queue,
        durable: true,
        autoDelete: false,
        arguments: args,
      });
      expect(await client.findQueue(vhost, 'missing-queue')).toBeUndefined();
      // Same name, other arguments: RabbitMQ's PRECONDITION_FAILED, a permanent 400 with its reason.
      await expect(
        client.declareQueue(vhost, { name: queue, arguments: { 'x-max-length': 5 } }),
      ).rejects.toMatchObject({
        code: 'MANAGEMENT.BAD_REQUEST',
        status: 400,
        retryable: false,
        reason: expect.stringMatching(/PRECONDITION_FAILED|inequivalent/),
      });

      expect(await client.listBindings(vhost, exchange, queue)).toEqual([]);
      await client.createBinding(vhost, { source: exchange, destination: queue, routingKey: 'user.*' });
      await client.createBinding(vhost, { source: exchange, destination: queue, routingKey: 'user.*' });
      expect(await client.listBindings(vhost, exchange, queue)).toEqual([
        {
          source: exchange,
          destination: queue,
          destinationType: 'queue',
          routingKey: 'user.*',
          arguments: {},
        },
      ]);

      await client.putUser(user, `pw-${uniqueName('x')}`);
      expect(await client.getUser(user)).toEqual({ name: user, tags: [] });
      expect((await client.listUsers()).map((u) => u.name)).toContain(user);
      expect(await client.getPermissions(vhost, user)).toBeUndefined();
      const permissions = { configure: '^tenant\\.', write: '.*', read: '.*' };
      await client.setPermissions(vhost, user, permissions);
      expect(await client.getPermissions(vhost, user)).toEqual(permissions);
      expect(await client.listUserPermissions(user)).toEqual([{ user, vhost, ...permissions }]);
      expect(await client.listPermissions()).toContainEqual({ user, vhost, ...permissions });
      expect(await client.deletePermissions(vhost, user)).toBe(true);
      expect(await client.deletePermissions(vhost, user)).toBe(false);
      expect(await client.listUserPermissions(user)).toEqual([]);

      expect(await client.deleteQueue(vhost, queue)).toBe(true);
      expect(await client.deleteQueue(vhost, queue)).toBe(false);
    } finally {
      await client.deleteUser(user);
      await client.deleteVhost(vhost);
    }
    expect(await client.getUser(user)).toBeUndefined();
    expect(await client.deleteUser(user)).toBe(false);
    expect(await client.getVhost(vhost)).toBeUndefined();
    expect(await client.listUserPermissions(user)).toEqual([]);
  });

  it('retries a management API answering 500 until it passes, and gives up after its attempts', async () => {
    let failures = 0;
    let seen = 0;
    const upstream = new URL(MANAGEMENT_URL);
    const proxy = createServer((req, res) => {
      seen += 1;
      if (failures > 0) {
        failures -= 1;
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: 'injected', reason: 'injected 500' }));
        return;
      }
      const forward = httpRequest(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: req.url,
          headers: req.headers,
        },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      forward.on('error', () => {
        res.writeHead(502);
        res.end();
      });
      req.pipe(forward);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const vhost = uniqueName('test-mgmt-retry');
    try {
      const { port } = proxy.address() as AddressInfo;
      const retrying = new RabbitManagementClient({
        baseUrl: `http://127.0.0.1:${port}`,
        username: ADMIN_USER,
        password: ADMIN_PASSWORD,
        attempts: 3,
        backoffMs: 10,
      });
      failures = 2;
      await retrying.createVhost(vhost);
      expect(seen).toBe(3);
      expect(await client.vhostExists(vhost)).toBe(true);

      failures = 3;
      seen = 0;
      await expect(retrying.getVhost(vhost)).rejects.toMatchObject({
        code: 'MANAGEMENT.HTTP_ERROR',
        status: 500,
        retryable: true,
      });
      expect(seen).toBe(3);
    } finally {
      proxy.closeAllConnections();
      proxy.close();
      await client.deleteVhost(vhost);
    }
  });

  it('reports typed errors: not found, bad credentials, unreachable, timeout', async () => {
    await expect(client.getQueue(uniqueName('test-missing'), 'q')).rejects.toMatchObject({
      code: 'MANAGEMENT.NOT_FOUND',
      status: 404,
    });
    const wrong = new RabbitManagementClient({
      baseUrl: `http://${AMQP_HOST}:15672`,
      username: 'guest',
      password: 'nope',
    });
    const refused = await wrong.overview().catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(RabbitManagementError);
    expect(refused).toMatchObject({ code: 'MANAGEMENT.UNAUTHORIZED' });
    expect(String((refused as Error).message)).not.toContain('nope');
    const down = new RabbitManagementClient({ baseUrl: 'http://127.0.0.1:1', username: 'u', password: 'p' });
    await expect(down.overview()).rejects.toMatchObject({ code: 'MANAGEMENT.UNREACHABLE', retryable: true });
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = silent.address() as AddressInfo;
      const slow = new RabbitManagementClient({
        baseUrl: `http://127.0.0.1:${port}`,
        username: 'u',
        password: 'p',
        timeoutMs: 200,
      });
      await expect(slow.overview()).rejects.toMatchObject({ code: 'MANAGEMENT.TIMEOUT' });
    } finally {
      silent.closeAllConnections();
      silent.close();
    }
    await expect(client.createVhost('')).rejects.toMatchObject({ code: 'MANAGEMENT.INVALID_NAME' });
  });

  it('lets probeAmqpAccess prove a tenant user can use its vhost, and is refused elsewhere', async () => {
    const own = await createTestVhost('test-probe-own');
    const other = await createTestVhost('test-probe-other');
    const user = uniqueName('test-probe-user');
    const password = `pw-${uniqueName('x')}`;
    try {
      await client.putUser(user, password);
      await client.setPermissions(own.vhost, user, { configure: '.*', write: '.*', read: '.*' });
      // The tenant's topology, as the broker-service would declare it.
      const setup = await probeAmqpAccess({
        url: `amqp://${AMQP_HOST}:5672`,
        vhost: own.vhost,
        user,
        password,
        exchange: 'amq.topic',
        routingKey: 'tenant.auth',
      });
      expect(setup).toMatchObject({
        ok: true,
        steps: [{ step: 'connect' }, { step: 'publish' }, { step: 'consume' }],
      });

      const refused = await probeAmqpAccess({
        url: `amqp://${AMQP_HOST}:5672`,
        vhost: other.vhost,
        user,
        password,
        exchange: 'amq.topic',
        routingKey: 'tenant.auth',
      });
      expect(refused).toMatchObject({ ok: false, failure: { step: 'connect', code: 'ACCESS_REFUSED' } });

      const badPassword = await probeAmqpAccess({
        url: `amqp://${AMQP_HOST}:5672`,
        vhost: own.vhost,
        user,
        password: 'wrong-password',
        exchange: 'amq.topic',
        routingKey: 'x',
      });
      expect(badPassword).toMatchObject({ ok: false, failure: { step: 'connect', code: 'ACCESS_REFUSED' } });
      expect(JSON.stringify(badPassword)).not.toContain('wrong-password');

      const missingExchange = await probeAmqpAccess({
        url: `amqp://${AMQP_HOST}:5672`,
        vhost: own.vhost,
        user,
        password,
        exchange: 'does.not.exist',
        routingKey: 'x',
      });
      expect(missingExchange).toMatchObject({ ok: false, failure: { step: 'publish', code: 'NOT_FOUND' } });
    } finally {
      await client.deleteUser(user);
      await own.cleanup();
      await other.cleanup();
    }
  });
});
