import { createHash, createHmac } from 'crypto';

/**
 * AWS Signature Version 4 for the admin APIs the storage-service calls without an SDK (MinIO's
 * `/minio/admin/v3/*`, Ceph RGW's `/admin/*`). Pure: the clock and the keys are inputs, so a request can be
 * checked byte for byte against a recorded expectation.
 */
export interface SigV4Credentials {
  accessKey: string;
  secretKey: string;
}

export interface SigV4Request {
  method: string;
  /** Absolute path, already URI-encoded as it will be sent (e.g. `/admin/user`). */
  path: string;
  /** Query parameters (unencoded). A parameter with an empty value is sent as `name=`. */
  query: ReadonlyArray<readonly [string, string]>;
  /** Headers to sign besides the ones the signer adds; `host` is required. */
  headers: Record<string, string>;
  body: Buffer;
}

export interface SignedRequest {
  method: string;
  path: string;
  /** Canonical (sorted, RFC 3986 encoded) query string, without `?`. */
  queryString: string;
  headers: Record<string, string>;
  body: Buffer;
}

export interface SigV4Scope {
  region: string;
  service: string;
}

export function sha256Hex(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

function hmac(key: Buffer | string, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

/** RFC 3986 encoding as SigV4 requires (encodeURIComponent leaves !'()* alone). */
export function uriEncode(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

export function canonicalQueryString(query: ReadonlyArray<readonly [string, string]>): string {
  return query
    .map(([k, v]) => [uriEncode(k), uriEncode(v)] as const)
    .sort(([ak, av], [bk, bv]) => (ak === bk ? (av < bv ? -1 : av > bv ? 1 : 0) : ak < bk ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

/** `20150830T123600Z` */
export function amzDate(now: Date): string {
  return now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

export function canonicalRequest(
  request: SigV4Request,
  headers: Record<string, string>,
  payloadHash: string,
): { canonical: string; signedHeaders: string } {
  const lower = Object.entries(headers)
    .map(([k, v]) => [k.toLowerCase(), v.trim().replace(/\s+/g, ' ')] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const signedHeaders = lower.map(([k]) => k).join(';');
  const canonical = [
    request.method.toUpperCase(),
    request.path,
    canonicalQueryString(request.query),
    lower.map(([k, v]) => `${k}:${v}\n`).join(''),
    signedHeaders,
    payloadHash,
  ].join('\n');
  return { canonical, signedHeaders };
}

export function signingKey(secretKey: string, date: string, scope: SigV4Scope): Buffer {
  const kDate = hmac(`AWS4${secretKey}`, date);
  const kRegion = hmac(kDate, scope.region);
  const kService = hmac(kRegion, scope.service);
  return hmac(kService, 'aws4_request');
}

/**
 * Signs a request. Adds `x-amz-date` and (unless `includeContentSha256` is false, as in the generic AWS test
 * vectors) `x-amz-content-sha256`, which S3-style servers require, and returns the full header set.
 */
export function signV4(
  request: SigV4Request,
  credentials: SigV4Credentials,
  scope: SigV4Scope,
  now: Date,
  options: { includeContentSha256?: boolean } = {},
): SignedRequest {
  if (!Object.keys(request.headers).some((h) => h.toLowerCase() === 'host')) {
    throw new Error('SigV4 request needs a host header');
  }
  const stamp = amzDate(now);
  const date = stamp.slice(0, 8);
  const payloadHash = sha256Hex(request.body);
  const headers: Record<string, string> = { ...request.headers, 'x-amz-date': stamp };
  if (options.includeContentSha256 !== false) headers['x-amz-content-sha256'] = payloadHash;
  const { canonical, signedHeaders } = canonicalRequest(request, headers, payloadHash);
  const credentialScope = `${date}/${scope.region}/${scope.service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', stamp, credentialScope, sha256Hex(canonical)].join('\n');
  const signature = createHmac('sha256', signingKey(credentials.secretKey, date, scope))
    .update(stringToSign, 'utf8')
    .digest('hex');
  headers['authorization'] =
    `AWS4-HMAC-SHA256 Credential=${credentials.accessKey}/${credentialScope}, ` +
    `SignedHeaders=${signedHeaders}, Signature=${signature}`;
  return {
    method: request.method.toUpperCase(),
    path: request.path,
    queryString: canonicalQueryString(request.query),
    headers,
    body: request.body,
  };
}
