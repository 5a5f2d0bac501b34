import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The small probe endpoint of a control-plane process without an HTTP API of its own (none when HEALTH_PORT is
 * unset): `GET /health` answers 200 while the process runs (liveness), `GET /ready` 200 or 503 from `ready()`
 * (readiness). Nothing else is served, and nothing in the answers names a dependency, so it may listen on
 * every interface for the kubelet's probes.
 */
export async function startHealthServer(
  config: { HEALTH_PORT?: number; HEALTH_HOST: string },
  ready: () => Promise<boolean>,
): Promise<{ server: Server; port: number } | undefined> {
  if (config.HEALTH_PORT === undefined) return undefined;
  const server = createServer((req, res) => {
    const json = (status: number, body: object) =>
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (req.method !== 'GET' && req.method !== 'HEAD') return json(405, { status: 'method not allowed' });
    if (req.url === '/health') return json(200, { status: 'ok' });
    if (req.url === '/ready') {
      void ready()
        .catch(() => false)
        .then((ok) => json(ok ? 200 : 503, { status: ok ? 'ok' : 'unavailable' }));
      return;
    }
    json(404, { status: 'not found' });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.HEALTH_PORT, config.HEALTH_HOST, () => resolve());
  });
  return { server, port: (server.address() as AddressInfo).port };
}

export function closeHealthServer(server: Server | undefined): Promise<void> {
  return new Promise((resolve) => (server ? server.close(() => resolve()) : resolve()));
}
