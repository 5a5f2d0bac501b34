import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * NOT A PRODUCTION SERVICE. Stand-ins for docker-compose.yml only, for the two things a compose host lacks:
 * - the websites-service API of spec 9.1 (`POST/GET/PATCH/DELETE /api/v1/websites`, internal bearer token),
 *   kept in memory, which the notification-service calls through WEBSITES_API_URL;
 * - the tenant's public `GET /health` (spec 10.1), answered 200 for every host, which the k8s-service checks
 *   through TENANT_HEALTH_BASE_URL since no cluster runs the tenant's workloads under compose.
 * It behaves as the tests' stand-ins do (test/support/standins.ts) but imports nothing beyond Node, so it runs
 * from the production image (no dev dependencies). In a real deployment both URLs point at the real services.
 */

interface WebsiteRecord {
  id: number;
  tenant_id?: string;
  created_at: string;
  updated_at: string;
  [field: string]: unknown;
}

export interface ComposeStandIns {
  websitesPort: number;
  tenantHealthPort: number;
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, body?: unknown): void {
  res
    .writeHead(status, { 'content-type': 'application/json' })
    .end(body === undefined ? '' : JSON.stringify(body));
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (text === '') return {};
  const parsed: unknown = JSON.parse(text);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new Error('not an object');
  return parsed as Record<string, unknown>;
}

/** The websites-service API, in memory, behind `Authorization: Bearer <token>`. */
export function websitesApi(token: string): Server {
  const records = new Map<number, WebsiteRecord>();
  let nextId = 1;
  return createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://stand-in');
      if (url.pathname === '/health') return send(res, 200, { ok: true });
      if (req.headers.authorization !== `Bearer ${token}`) return send(res, 401, { message: 'unauthorized' });
      const idMatch = /^\/api\/v1\/websites\/(\d+)$/.exec(url.pathname);
      const record = idMatch ? records.get(Number(idMatch[1])) : undefined;
      if (url.pathname === '/api/v1/websites' && req.method === 'GET') {
        const tenant = url.searchParams.get('tenant_id');
        return send(
          res,
          200,
          [...records.values()].filter((r) => !tenant || r.tenant_id === tenant),
        );
      }
      if (url.pathname === '/api/v1/websites' && req.method === 'POST') {
        const now = new Date().toISOString();
        const created: WebsiteRecord = {
          ...(await readJson(req)),
          id: nextId++,
          created_at: now,
          updated_at: now,
        };
        records.set(created.id, created);
        return send(res, 201, created);
      }
      if (!idMatch) return send(res, 404, { message: 'not found' });
      if (!record) return send(res, 404, { message: 'not found' });
      if (req.method === 'GET') return send(res, 200, record);
      if (req.method === 'PATCH') {
        const updated = {
          ...record,
          ...(await readJson(req)),
          id: record.id,
          updated_at: new Date().toISOString(),
        };
        records.set(record.id, updated);
        return send(res, 200, updated);
      }
      if (req.method === 'DELETE') {
        records.delete(record.id);
        return send(res, 204);
      }
      return send(res, 405, { message: 'method not allowed' });
    })().catch(() => send(res, 400, { message: 'body must be a JSON object' }));
  });
}

/** Every tenant's `/health`, whatever the Host header: a deployed api-gateway that is up. */
export function tenantHealth(): Server {
  return createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://stand-in').pathname;
    send(res, path === '/health' ? 200 : 404, { ok: path === '/health' });
  });
}

async function listen(server: Server, port: number, host: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return (server.address() as AddressInfo).port;
}

export async function startComposeStandIns(options: {
  token: string;
  websitesPort: number;
  tenantHealthPort: number;
  host?: string;
}): Promise<ComposeStandIns> {
  const host = options.host ?? '0.0.0.0';
  const websites = websitesApi(options.token);
  const health = tenantHealth();
  const websitesPort = await listen(websites, options.websitesPort, host);
  const tenantHealthPort = await listen(health, options.tenantHealthPort, host);
  const close = (server: Server) => new Promise<void>((resolve) => server.close(() => resolve()));
  return {
    websitesPort,
    tenantHealthPort,
    close: async () => {
      await Promise.all([close(websites), close(health)]);
    },
  };
}

function port(name: string, fallback: number): number {
  const raw = process.env[name];
  const value = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > 65535)
    throw new Error(`${name}: must be a port number`);
  return value;
}

if (require.main === module) {
  const token = process.env.WEBSITES_API_TOKEN ?? '';
  if (token.length < 8) {
    process.stderr.write(
      'WEBSITES_API_TOKEN: required (at least 8 characters), as the notification-service has it\n',
    );
    process.exit(1);
  }
  startComposeStandIns({
    token,
    websitesPort: port('WEBSITES_PORT', 8085),
    tenantHealthPort: port('TENANT_HEALTH_PORT', 8086),
  }).then(
    (running) => {
      process.stdout.write(
        `${JSON.stringify({
          level: 'warn',
          service: 'compose-standins',
          msg: 'compose stand-ins listening: not a production service (websites API and tenant /health)',
          websitesPort: running.websitesPort,
          tenantHealthPort: running.tenantHealthPort,
        })}\n`,
      );
      const stop = () => void running.close().then(() => process.exit(0));
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    },
    (error: unknown) => {
      process.stderr.write(`compose-standins: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
