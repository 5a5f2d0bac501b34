import { ARCHIVE_BUCKET } from '@app/contracts';
import { localCredential } from '@app/platform';
import type * as Minio from 'minio';
import { z } from 'zod';
import { S3BackupTarget } from './s3.backup-target';
import { ARCHIVE_PART_SIZE, createS3Client, type S3Endpoint } from './s3-client';

/**
 * The S3 server and archive bucket variables of every service that writes final backups (storage-service,
 * database-service), to spread into its config schema: one set of names, so one deployment's values fit
 * both. Local defaults reach the Ceph RADOS Gateway of `scripts/rgw.sh` (its local-only admin keys); under
 * NODE_ENV=production the keys are required. The bucket's lifecycle rules are not among them: they have one
 * owner, the storage-service (archiveRetentionEnv), so no second writer can replace them with other values.
 */
export function archiveS3Env(env: NodeJS.ProcessEnv = process.env) {
  return {
    S3_ENDPOINT: z.url().default('http://127.0.0.1:7480'),
    S3_REGION: z
      .string()
      .regex(/^[a-z0-9-]{1,32}$/)
      .default('us-east-1'),
    S3_ADMIN_ACCESS_KEY: localCredential(z.string().min(3), 'rgw-admin-access', env),
    S3_ADMIN_SECRET_KEY: localCredential(z.string().min(8), 'rgw-admin-secret-key', env),
    STORAGE_ARCHIVE_BUCKET: z
      .string()
      .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/)
      .default(ARCHIVE_BUCKET),
    /**
     * The spec's `--storage-class GLACIER_DEEP_ARCHIVE` is not an S3 storage class name: the S3 API value is
     * DEEP_ARCHIVE, so the spec's spelling is accepted and mapped to it.
     */
    STORAGE_ARCHIVE_STORAGE_CLASS: z
      .enum(['STANDARD', 'STANDARD_IA', 'GLACIER', 'GLACIER_IR', 'DEEP_ARCHIVE', 'GLACIER_DEEP_ARCHIVE'])
      .default('STANDARD')
      .transform((value) => (value === 'GLACIER_DEEP_ARCHIVE' ? 'DEEP_ARCHIVE' : value)),
  };
}

export type ArchiveS3Config = z.infer<z.ZodObject<ReturnType<typeof archiveS3Env>>>;

/**
 * The archive bucket's retention, read by its one owner, the storage-service, which puts the bucket's
 * lifecycle rules from it. The database-service also writes to the bucket but never reads this variable nor
 * touches the rules: a PUT ?lifecycle replaces the whole rule set, so a second writer with another value
 * (say the default 365 where the operator chose 0, keep forever) would make archives expire.
 */
export function archiveRetentionEnv() {
  return {
    /** Days a tenant's final backup is kept in the archive bucket before it expires; 0 keeps archives forever. */
    STORAGE_ARCHIVE_RETENTION_DAYS: z.coerce.number().int().min(0).max(36_500).default(365),
  };
}

export function s3EndpointFrom(config: ArchiveS3Config): S3Endpoint {
  return {
    endpoint: config.S3_ENDPOINT,
    region: config.S3_REGION,
    accessKey: config.S3_ADMIN_ACCESS_KEY,
    secretKey: config.S3_ADMIN_SECRET_KEY,
  };
}

/**
 * The archive bucket as a BackupTarget; `client` defaults to one with the archive's small part size. Only the
 * bucket's owner passes `retentionDays`, and its target puts the bucket's lifecycle rules; any other target
 * creates the bucket if it is missing and leaves its rules alone.
 */
export function s3BackupTargetFrom(
  config: ArchiveS3Config,
  options: { client?: Minio.Client; retentionDays?: number } = {},
): S3BackupTarget {
  return new S3BackupTarget(
    options.client ?? createS3Client(s3EndpointFrom(config), ARCHIVE_PART_SIZE),
    config.STORAGE_ARCHIVE_BUCKET,
    config.S3_REGION,
    config.STORAGE_ARCHIVE_STORAGE_CLASS,
    options.retentionDays ?? null,
  );
}
