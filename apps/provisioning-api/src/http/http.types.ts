/**
 * The few parts of Express's request and response this app touches (the project does not install
 * `@types/express`; these shapes are what Express 5 provides).
 */
export interface HttpRequest {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  /** Set by the JSON body parser when the app is created with `rawBody: true`; HMAC signatures cover it. */
  rawBody?: Buffer;
  body?: unknown;
  is(type: string | string[]): string | false | null;
  principal?: { name: string; role: 'operator' | 'auditor' };
}

export interface HttpResponse {
  headersSent: boolean;
  status(code: number): HttpResponse;
  json(body: unknown): unknown;
  setHeader(name: string, value: string): unknown;
  end(body?: string): unknown;
}

export type NextFunction = (error?: unknown) => void;

export function header(request: HttpRequest, name: string): string | undefined {
  const value = request.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}
