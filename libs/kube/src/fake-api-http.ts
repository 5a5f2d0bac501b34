import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ResourceType } from './fake-api-resources';

/** The API double's HTTP plumbing: request bodies and the API server's `Status` responses. */

export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export function status(code: number, reason: string, message: string) {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}
export function invalid(type: ResourceType, name: string, violations: string[]) {
  return {
    ...status(422, 'Invalid', `${type.kind} "${name}" is invalid: ${violations.join('; ')}`),
    details: { name, kind: type.kind, causes: violations.map((message) => ({ message })) },
  };
}
export function notFound(type: ResourceType, name: string) {
  return status(404, 'NotFound', `${type.plural} "${name}" not found`);
}
export function send(res: ServerResponse, code: number, body: unknown): void {
  res.writeHead(code, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
