import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local HTTP proxy for tests that puts a fault or a pause in front of a real server. A subclass's
 * `intercept` may answer a request itself (returning true) or let it through; a request let through goes to
 * `upstream` unchanged, headers included, so signed requests (SigV4) stay valid.
 */
export class TestHttpProxy {
  private readonly server: Server = createServer((req, res) => void this.handle(req, res));

  constructor(private readonly upstream: URL) {}

  /** Answer `req` here and return true, or return false to forward it. */
  protected intercept(_req: IncomingMessage, _res: ServerResponse): Promise<boolean> | boolean {
    return false;
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => resolve());
    });
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    if (!this.server.listening) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      if (await this.intercept(req, res)) return;
    } catch (error) {
      res.writeHead(500).end(error instanceof Error ? error.message : 'interceptor failed');
      return;
    }
    const forward = request(
      {
        host: this.upstream.hostname,
        port: this.upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
        agent: false,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on('error', () => (res.headersSent ? res.destroy() : res.writeHead(502).end()));
    req.pipe(forward);
  }
}
