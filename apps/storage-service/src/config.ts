import { archiveLifecycleEnv, archiveS3Env, checkArchiveLifecycle } from '@app/archive';
import { envBoolean } from '@app/platform';
import { SECRET_STORE_ENV } from '@app/secrets';
import { z } from 'zod';

/**
 * Storage-service configuration. Local defaults reach the Ceph RADOS Gateway started by `scripts/rgw.sh`
 * (the admin keys are that script's local-only defaults); production points S3_ENDPOINT at MinIO with
 * STORAGE_IAM=minio. The spec's cold archive ("Archiver vers Stockage Froid", GLACIER_DEEP_ARCHIVE) is
 * STORAGE_ARCHIVE_TRANSITION_CLASS: backups are written readable, verified, then moved by the bucket's lifecycle.
 */
export const configSchema = z
  .object({
    ...archiveS3Env(),
    /** The storage-service owns the archive bucket's lifecycle rules (the database-service only writes dumps). */
    ...archiveLifecycleEnv(),
    /** Which admin API manages users: Ceph RGW admin-ops (here) or MinIO's admin API (the spec's server). */
    STORAGE_IAM: z.enum(['rgw', 'minio']).default('rgw'),
    /** The endpoint handed to tenants in their secret (MINIO_ENDPOINT); defaults to S3_ENDPOINT's host:port. */
    STORAGE_TENANT_ENDPOINT: z.string().min(1).optional(),
    STORAGE_TENANT_USE_SSL: envBoolean(false),
    ...SECRET_STORE_ENV,
  })
  .superRefine(checkArchiveLifecycle);

export type StorageConfig = z.infer<typeof configSchema>;

/** `host:port` of an endpoint URL, as the spec's MINIO_ENDPOINT writes it. */
export function hostPort(endpoint: string): string {
  const url = new URL(endpoint);
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  return `${url.hostname}:${port}`;
}
