import { archiveS3Env } from '@app/archive';
import { SECRET_STORE_ENV } from '@app/secrets';
import { envBoolean } from '@app/platform';
import { z } from 'zod';

const common = {
  /** Admin account that creates databases and users (root locally; a provisioning account in clusters). */
  MYSQL_URL: z.string().startsWith('mysql://').default('mysql://root@127.0.0.1:3306'),
  MYSQL_POOL_SIZE: z.coerce.number().int().min(1).max(32).default(4),
  MYSQL_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(100).default(5000),
  /** Client-side bound on one admin statement; the statement is killed on the server when it passes. */
  MYSQL_QUERY_TIMEOUT_MS: z.coerce.number().int().min(100).default(60_000),
  /** Session lock_wait_timeout of the admin connections: how long DDL waits for a metadata lock. */
  MYSQL_LOCK_WAIT_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(31_536_000).default(30),
  /** Host and port written into the credentials secret: what the tenant's pods use (spec 3.3, 10.1). */
  DATABASE_SECRET_HOST: z.string().min(1).default('mysql.e-commerce-shared.svc.cluster.local'),
  DATABASE_SECRET_PORT: z.coerce.number().int().min(1).max(65535).default(3306),
  /**
   * The spec's FLUSH PRIVILEGES after a tenant's accounts (on by default). CREATE USER and GRANT take effect at
   * once; the flush only matters for grant tables edited by hand, and it reloads every account on the server:
   * measured here at 15 ms with 37 accounts and 132 ms with 11,000 (a thousand tenants), a cost per tenant that
   * grows with the fleet. A fleet whose grant tables only this service writes can turn it off.
   */
  MYSQL_FLUSH_PRIVILEGES: envBoolean(true),
  ...SECRET_STORE_ENV,
};

/**
 * Where final backups go, BACKUP_TARGET:
 * - `s3` (the default, and production's): the archive bucket, with the storage-service's variable names
 *   (S3_ENDPOINT, S3_ADMIN_ACCESS_KEY/SECRET_KEY, STORAGE_ARCHIVE_BUCKET/STORAGE_CLASS), so dumps land beside
 *   the bucket mirrors in `<bucket>/<tenantId>/databases/`. Under NODE_ENV=production the keys are required.
 *   The key needs the archive bucket only: create it, put/get/list. Its lifecycle rules (retention and cold
 *   transition, STORAGE_ARCHIVE_RETENTION_DAYS and STORAGE_ARCHIVE_TRANSITION_*) belong to the
 *   storage-service: this service neither reads those variables nor puts rules, so it cannot replace the
 *   operator's values. A STORAGE_CLASS that needs a restore before a read is refused here too: the dumps are
 *   verified by reading them back and restoring them.
 * - `filesystem`: files under BACKUP_DIR, for a machine without an S3 server. No S3 variable is read.
 * A default that followed the presence of S3_ENDPOINT would send a deployment that forgot it to a pod's
 * local disk, where backups die with the pod; so the filesystem is only ever chosen by name.
 */
export function buildConfigSchema(env: NodeJS.ProcessEnv = process.env) {
  return z.preprocess(
    (input) => {
      const vars = (input ?? {}) as Record<string, unknown>;
      return { ...vars, BACKUP_TARGET: vars.BACKUP_TARGET ?? 's3' };
    },
    z.discriminatedUnion('BACKUP_TARGET', [
      z.object({ ...common, BACKUP_TARGET: z.literal('s3'), ...archiveS3Env(env) }),
      z.object({
        ...common,
        BACKUP_TARGET: z.literal('filesystem'),
        /** Root of the filesystem backup target (spec: /backups/<tenantId>/...). */
        BACKUP_DIR: z.string().min(1).default('/tmp/provisioning-backups'),
      }),
    ]),
  );
}

export const configSchema = buildConfigSchema();

export type DatabaseConfig = z.infer<typeof configSchema>;
