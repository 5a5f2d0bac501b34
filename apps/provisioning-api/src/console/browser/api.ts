/**
 * The console's calls to the API. The token lives in sessionStorage and travels as a bearer header, never in
 * a URL; the live stream is read with fetch, since EventSource cannot send headers.
 */
import type { ErrorBody, Principal } from './types.js';

export const TOKEN_KEY = 'console.token';
export const UNAUTHORIZED_MESSAGE = 'Your token was not accepted. Sign in again.';

export const session: { token: string | null; principal: Principal | null } = {
  token: sessionStorage.getItem(TOKEN_KEY),
  principal: null,
};

let onUnauthorized: (message: string) => void = () => {};

/** What a 401 answer does (sign out): set once by the entry module, which owns the routing. */
export function whenUnauthorized(handler: (message: string) => void): void {
  onUnauthorized = handler;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: ErrorBody | null,
  ) {
    super((body && body.message) || 'HTTP ' + status);
  }
}

/** The status of a failed call (undefined for anything but an `ApiError`, as a network error). */
export function statusOf(error: unknown): number | undefined {
  return error instanceof ApiError ? error.status : undefined;
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export async function api<T>(path: string, options?: RequestInit): Promise<T> {
  const init: RequestInit = Object.assign({ cache: 'no-store' }, options || {});
  init.headers = Object.assign(
    { accept: 'application/json', authorization: 'Bearer ' + session.token },
    (options && options.headers) || {},
  );
  const response = await fetch(path, init);
  const text = await response.text();
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (response.status === 401) {
    onUnauthorized(UNAUTHORIZED_MESSAGE);
    throw new ApiError(401, body as ErrorBody | null);
  }
  if (!response.ok) throw new ApiError(response.status, body as ErrorBody | null);
  return body as T;
}

export function postJson<T>(path: string, body: unknown, idempotencyKey: string): Promise<T> {
  return api<T>(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': idempotencyKey },
    body: JSON.stringify(body),
  });
}

export function tenantPath(id: string, suffix?: string): string {
  return '/api/v1/tenants/' + encodeURIComponent(id) + (suffix || '');
}

export interface StreamHandlers {
  onMissing(): void;
  onState(up: boolean): void;
  onFrame(event: string, data: unknown): void;
}

/** Server-sent events over fetch: frames are parsed by hand from the response body. */
export function openStream(tenantId: string, handlers: StreamHandlers): () => void {
  const controller = new AbortController();
  let lastRevision = -1;
  const run = async () => {
    while (!controller.signal.aborted) {
      try {
        const response = await fetch(tenantPath(tenantId, '/stream?from=' + (lastRevision + 1)), {
          headers: { accept: 'text/event-stream', authorization: 'Bearer ' + session.token },
          cache: 'no-store',
          signal: controller.signal,
        });
        if (response.status === 401) {
          onUnauthorized(UNAUTHORIZED_MESSAGE);
          return;
        }
        if (response.status === 404) {
          handlers.onMissing();
          return;
        }
        if (!response.ok || !response.body) throw new Error('HTTP ' + response.status);
        handlers.onState(true);
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          const chunk = await reader.read();
          if (chunk.done) break;
          buffer += chunk.value.replace(/\r\n?/g, '\n');
          let end = buffer.indexOf('\n\n');
          while (end >= 0) {
            const frame = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const parsed = parseFrame(frame);
            if (parsed) {
              if (parsed.event === 'event') {
                lastRevision = Math.max(lastRevision, (parsed.data as { revision: number }).revision);
              }
              handlers.onFrame(parsed.event, parsed.data);
            }
            end = buffer.indexOf('\n\n');
          }
        }
      } catch {
        if (controller.signal.aborted) return;
      }
      handlers.onState(false);
      await new Promise((resolve) => window.setTimeout(resolve, 2000));
    }
  };
  void run();
  return () => controller.abort();
}

function parseFrame(frame: string): { event: string; data: unknown } | null {
  let event = 'message';
  const data: string[] = [];
  for (const line of frame.split('\n')) {
    if (line === '' || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  }
  if (data.length === 0) return null;
  try {
    return { event: event, data: JSON.parse(data.join('\n')) as unknown };
  } catch {
    return null;
  }
}
