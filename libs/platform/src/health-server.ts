import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

/**
 * The small endpoint of a control-plane process without an HTTP API of its own (none when HEALTH_PORT is
 * unset): `GET /health` answers 200 while the process runs (liveness), `GET /ready` 200 or 503 from `ready()`
 * (readiness), and, when a registry is given, `GET /metrics` its Prometheus text exposition. Nothing else is
 * served. No answer names a dependency, and the metrics carry no tenant data nor secret (bounded labels:
 * app, queue, reason, subscription, command type), so it may listen on every interface, unauthenticated, for
 * the kubelet's probes and Prometheus's scrapes.
 */
export async function startHealthServer(
  config: { HEALTH_PORT?: number; HEALTH_HOST: string },
  ready: () => Promise<boolean>,
  metrics?: Registry,
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
    if (req.url === '/metrics' && metrics) {
      void metrics.metrics().then(
        (body) =>
          res.writeHead(200, { 'content-type': metrics.contentType, 'cache-control': 'no-store' }).end(body),
        // A collector that failed (e.g. a store read) fails the scrape, which Prometheus records as `up` 0.
        () => json(500, { status: 'metrics unavailable' }),
      );
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
