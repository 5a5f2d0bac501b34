import * as http from 'node:http';
import * as https from 'node:https';
import * as Minio from 'minio';

export interface S3Endpoint {
  endpoint: string;
  region: string;
  accessKey: string;
  secretKey: string;
  /** Socket inactivity bound of every request (default 30 s); see `timeoutTransport`. */
  timeoutMs?: number;
}

export const DEFAULT_S3_TIMEOUT_MS = 30_000;

/**
 * `http`/`https` with an inactivity timeout on each request: a server that accepts and never answers (or stops
 * sending mid-body) fails the request with `ETIMEDOUT`, which `isTransient` retries. minio-js has no timeout
 * of its own, and its `setRequestOptions` does not pass one through.
 */
export function timeoutTransport(
  base: typeof http | typeof https,
  timeoutMs: number,
): Pick<typeof http, 'request'> {
  const request = (options: http.RequestOptions, callback?: (response: http.IncomingMessage) => void) => {
    const req = base.request(options, callback);
    req.setTimeout(timeoutMs, () => {
      const error = Object.assign(new Error(`S3 request: no activity within ${timeoutMs} ms`), {
        code: 'ETIMEDOUT',
      });
      req.destroy(error);
    });
    return req;
  };
  return { request: request as typeof http.request };
}

/**
 * A minio-js client for any S3 server (MinIO, RGW), path-style. minio-js buffers one part in memory per
 * upload; archive uploads use the minimum S3 allows (5 MiB), so a streamed copy holds about that (the
 * S3BackupTarget sends streams in parts of this size itself).
 * Multipart uploads also list in-progress uploads first (s3:ListBucketMultipartUploads), which spec 4.2's
 * tenant policy does not grant: tenant clients keep minio-js's 64 MiB default.
 */
export const ARCHIVE_PART_SIZE = 5 * 1024 * 1024;

export function createS3Client(endpoint: S3Endpoint, partSize = 64 * 1024 * 1024): Minio.Client {
  const url = new URL(endpoint.endpoint);
  const useSSL = url.protocol === 'https:';
  return new Minio.Client({
    endPoint: url.hostname,
    port: url.port ? Number(url.port) : useSSL ? 443 : 80,
    useSSL,
    accessKey: endpoint.accessKey,
    secretKey: endpoint.secretKey,
    region: endpoint.region,
    pathStyle: true,
    partSize,
    transport: timeoutTransport(useSSL ? https : http, endpoint.timeoutMs ?? DEFAULT_S3_TIMEOUT_MS),
  });
}

/** The S3 error code of a minio-js error, or the Node network error code. */
export function s3ErrorCode(error: unknown): string {
  if (error && typeof error === 'object' && 'code' in error && typeof error.code === 'string')
    return error.code;
  return '';
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND']);
export function isTransient(error: unknown): boolean {
  const code = s3ErrorCode(error);
  return (
    NETWORK_CODES.has(code) ||
    code === 'SlowDown' ||
    code === 'ServiceUnavailable' ||
    code === 'InternalError' ||
    code === 'RequestTimeout' ||
    code === ''
  );
}
