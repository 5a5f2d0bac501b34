import * as Minio from 'minio';

export interface S3Endpoint {
  endpoint: string;
  region: string;
  accessKey: string;
  secretKey: string;
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
