import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

/**
 * Local stand-ins for what cannot run on this machine (DESIGN.md section 8): a real SMTP peer that keeps
 * what it receives, the websites-service API (spec 9.1), and the tenant's public `/health` endpoint.
 */

async function listen(server: Server | SMTPServer, port = 0): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    (server as Server).listen(port, '127.0.0.1', () => resolve());
  });
  const address =
    (server as unknown as { server?: Server }).server?.address() ?? (server as Server).address();
  return (address as AddressInfo).port;
}

async function close(server: Server | SMTPServer): Promise<void> {
  await new Promise<void>((resolve) => (server as Server).close(() => resolve()));
}

export interface ReceivedMail {
  from: string;
  to: string[];
  raw: string;
}

/** A real SMTP server (the `smtp-server` package) that stores every message it accepts. */
export class SmtpCatcher {
  readonly messages: ReceivedMail[] = [];
  private readonly server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData: (stream, session, callback) => {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        this.messages.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        callback();
      });
    },
  });
  port = 0;

  async start(): Promise<string> {
    this.port = await listen(this.server);
    return `smtp://127.0.0.1:${this.port}`;
  }
  stop(): Promise<void> {
    return close(this.server);
  }
}

export interface WebsiteRecord {
  id: number;
  name: string;
  domain: string;
  tenant_id: string;
  subscription_id: string;
  tier: string;
  /** `provisioning` when created, `active` from the tenant's activation, `deprovisioning` in the grace period. */
  status: string;
  /** The tenant's activation instant (spec 11.1); a reactivation keeps it. */
  activated_at?: string;
  /** Set by the grace period's soft delete, null again after a reactivation. */
  deleted_at?: string | null;
  created_at: string;
  updated_at: string;
}

/** The websites-service API of spec 9.1, in memory, with an internal bearer token and failure injection. */
export class WebsitesStandIn {
  readonly records = new Map<number, WebsiteRecord>();
  /** Every record as its POST created it, before any PATCH. */
  readonly created: WebsiteRecord[] = [];
  /** Next N requests answer 500 (to exercise the caller's retries). */
  failNext = 0;
  private nextId = 789;
  private readonly server = createServer((req, res) => void this.handle(req, res));

  constructor(private readonly token: string) {}

  async start(): Promise<string> {
    return `http://127.0.0.1:${await listen(this.server)}`;
  }
  stop(): Promise<void> {
    return close(this.server);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const send = (status: number, body?: unknown): void => {
      res
        .writeHead(status, { 'content-type': 'application/json' })
        .end(body === undefined ? '' : JSON.stringify(body));
    };
    if (req.headers.authorization !== `Bearer ${this.token}`) return send(401, { message: 'unauthorized' });
    if (this.failNext > 0) {
      this.failNext--;
      return send(500, { message: 'injected failure' });
    }
    const url = new URL(req.url ?? '/', 'http://stand-in');
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const idMatch = /^\/api\/v1\/websites\/(\d+)$/.exec(url.pathname);
    if (req.method === 'GET' && url.pathname === '/api/v1/websites') {
      const tenant = url.searchParams.get('tenant_id');
      return send(
        200,
        [...this.records.values()].filter((r) => !tenant || r.tenant_id === tenant),
      );
    }
    if (req.method === 'POST' && url.pathname === '/api/v1/websites') {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Partial<WebsiteRecord>;
      const now = new Date().toISOString();
      const record = { ...(body as WebsiteRecord), id: this.nextId++, created_at: now, updated_at: now };
      this.records.set(record.id, record);
      this.created.push({ ...record });
      return send(201, record);
    }
    if (req.method === 'PATCH' && idMatch) {
      const record = this.records.get(Number(idMatch[1]));
      if (!record) return send(404, { message: 'not found' });
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Partial<WebsiteRecord>;
      const updated = { ...record, ...body, id: record.id, updated_at: new Date().toISOString() };
      this.records.set(record.id, updated);
      return send(200, updated);
    }
    if (req.method === 'DELETE' && idMatch) {
      return this.records.delete(Number(idMatch[1])) ? send(204) : send(404, { message: 'not found' });
    }
    if (req.method === 'GET' && idMatch) {
      const record = this.records.get(Number(idMatch[1]));
      return record ? send(200, record) : send(404, { message: 'not found' });
    }
    return send(404, { message: 'not found' });
  }
}

/** Answers the tenant's `https://<domain>/health` (spec 10.1) for every host, like a deployed api-gateway. */
export class TenantHealthStandIn {
  healthy = true;
  private readonly server = createServer((req, res) => {
    const ok = req.url === '/health' && this.healthy;
    res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify({ ok }));
  });
  async start(): Promise<string> {
    return `http://127.0.0.1:${await listen(this.server)}`;
  }
  stop(): Promise<void> {
    return close(this.server);
  }
}
