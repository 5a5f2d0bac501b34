import { signV4, type SigV4Credentials } from '../domain/sigv4';

export interface HttpRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: Buffer;
}
export interface HttpResponse {
  status: number;
  body: Buffer;
}
/** The one I/O seam of the admin clients: tests record requests through it, production uses fetch. */
export type HttpTransport = (request: HttpRequest) => Promise<HttpResponse>;

export function fetchTransport(timeoutMs = 15000): HttpTransport {
  return async (request) => {
    const response = await fetch(request.url, {
      method: request.method,
      headers: request.headers,
      body: request.body.length > 0 ? new Uint8Array(request.body) : undefined,
      signal: AbortSignal.timeout(timeoutMs),
    });
    return { status: response.status, body: Buffer.from(await response.arrayBuffer()) };
  };
}

export interface SignedHttpOptions {
  endpoint: string;
  region: string;
  credentials: SigV4Credentials;
  transport?: HttpTransport;
  clock?: () => Date;
}

/** Builds, signs (SigV4, service `s3`) and sends admin requests. */
export class SignedHttpClient {
  private readonly base: URL;
  private readonly transport: HttpTransport;
  private readonly clock: () => Date;

  constructor(private readonly options: SignedHttpOptions) {
    this.base = new URL(options.endpoint);
    this.transport = options.transport ?? fetchTransport();
    this.clock = options.clock ?? (() => new Date());
  }

  build(
    method: string,
    path: string,
    query: ReadonlyArray<readonly [string, string]>,
    body: Buffer = Buffer.alloc(0),
    headers: Record<string, string> = {},
  ): HttpRequest {
    // Only host and the x-amz-* headers are signed (as minio-js and madmin do); content-type travels unsigned.
    const signed = signV4(
      { method, path, query, headers: { host: this.base.host }, body },
      this.options.credentials,
      { region: this.options.region, service: 's3' },
      this.clock(),
    );
    const url = `${this.base.protocol}//${this.base.host}${signed.path}${signed.queryString ? `?${signed.queryString}` : ''}`;
    // fetch sets Host itself from the URL; sending it too is harmless but some stacks reject it.
    const { host: _host, ...sendHeaders } = signed.headers;
    return { method: signed.method, url, headers: { ...headers, ...sendHeaders }, body };
  }

  async send(
    method: string,
    path: string,
    query: ReadonlyArray<readonly [string, string]>,
    body?: Buffer,
    headers?: Record<string, string>,
  ): Promise<HttpResponse> {
    return this.transport(this.build(method, path, query, body, headers));
  }
}

/** The error code in an S3/RGW (`{"Code": ...}` or `<Code>`) or MinIO admin (`{"Code": ...}`) error body. */
export function errorCode(body: Buffer): string {
  const text = body.toString('utf8');
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object' && 'Code' in parsed && typeof parsed.Code === 'string')
      return parsed.Code;
  } catch {
    // not JSON: fall through to XML
  }
  return /<Code>([^<]+)<\/Code>/.exec(text)?.[1] ?? '';
}
