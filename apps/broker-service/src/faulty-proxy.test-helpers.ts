import type { IncomingMessage, ServerResponse } from 'node:http';
import { TestHttpProxy } from '@app/testing';

/** A tiny HTTP proxy in front of the management API that answers the next `failures` requests with `status`. */
export class FaultyProxy extends TestHttpProxy {
  failures = 0;
  status = 500;
  seen = 0;

  protected override intercept(_req: IncomingMessage, res: ServerResponse): boolean {
    this.seen += 1;
    if (this.failures === 0) return false;
    this.failures -= 1;
    res.writeHead(this.status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: 'injected', reason: `injected ${this.status}` }));
    return true;
  }
}
