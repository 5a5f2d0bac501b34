import { Counter, Registry } from 'prom-client';
import { closeHealthServer, startHealthServer } from './health-server';

describe('startHealthServer', () => {
  it('answers /health while running, /ready from its check, and nothing else', async () => {
    let ready: boolean | Error = false;
    const started = await startHealthServer({ HEALTH_PORT: 0, HEALTH_HOST: '127.0.0.1' }, async () => {
      if (ready instanceof Error) throw ready;
      return ready;
    });
    const { server, port } = started!;
    const get = async (path: string, method = 'GET') => {
      const response = await fetch(`http://127.0.0.1:${port}${path}`, { method });
      return { status: response.status, body: await response.text() };
    };
    try {
      expect(port).toBeGreaterThan(0);
      expect(await get('/health')).toEqual({ status: 200, body: '{"status":"ok"}' });
      expect(await get('/ready')).toEqual({ status: 503, body: '{"status":"unavailable"}' });
      ready = true;
      expect(await get('/ready')).toEqual({ status: 200, body: '{"status":"ok"}' });
      // A check that throws is a dependency that is not there: not ready, and nothing of the error leaks.
      ready = new Error('password=hunter2 refused');
      expect(await get('/ready')).toEqual({ status: 503, body: '{"status":"unavailable"}' });
      // No registry given: no /metrics.
      expect((await get('/metrics')).status).toBe(404);
      expect((await get('/health', 'POST')).status).toBe(405);
    } finally {
      await closeHealthServer(server);
    }
    expect(server.listening).toBe(false);
  });

  it('serves the registry on /metrics in the Prometheus text format, and a failed collection as a 500', async () => {
    const registry = new Registry();
    let fail = false;
    new Counter({
      name: 'probe_things_total',
      help: 'things',
      registers: [registry],
      collect() {
        if (fail) throw new Error('store down: password=hunter2');
        this.inc(3);
      },
    });
    const { server, port } = (await startHealthServer(
      { HEALTH_PORT: 0, HEALTH_HOST: '127.0.0.1' },
      async () => true,
      registry,
    ))!;
    try {
      const response = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe(registry.contentType);
      const body = await response.text();
      expect(body).toContain('# TYPE probe_things_total counter');
      expect(body).toContain('probe_things_total 3');
      fail = true;
      const failed = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(failed.status).toBe(500);
      expect(await failed.text()).not.toContain('hunter2');
      expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
    } finally {
      await closeHealthServer(server);
    }
  });

  it('fails to start on a port already taken, naming the port', async () => {
    const first = (await startHealthServer({ HEALTH_PORT: 0, HEALTH_HOST: '127.0.0.1' }, async () => true))!;
    try {
      await expect(
        startHealthServer({ HEALTH_PORT: first.port, HEALTH_HOST: '127.0.0.1' }, async () => true),
      ).rejects.toThrow(String(first.port));
    } finally {
      await closeHealthServer(first.server);
    }
  });

  it('serves nothing when HEALTH_PORT is unset', async () => {
    expect(await startHealthServer({ HEALTH_HOST: '127.0.0.1' }, async () => true)).toBeUndefined();
  });
});
