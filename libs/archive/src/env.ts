import { ARCHIVE_BUCKET } from '@app/contracts';
import { localCredential } from '@app/platform';
import type * as Minio from 'minio';
import { z } from 'zod';
import { STORAGE_CLASS_PATTERN, archiveTransitionProblem, type ArchiveTransition } from './lifecycle';
import { READABLE_STORAGE_CLASSES, S3BackupTarget } from './s3.backup-target';
import { ARCHIVE_PART_SIZE, createS3Client, DEFAULT_S3_TIMEOUT_MS, type S3Endpoint } from './s3-client';

/**
 * The S3 server and archive bucket variables of every service that writes final backups (storage-service,
 * database-service), to spread into its config schema: one set of names, so one deployment's values fit
 * both. Local defaults reach the Ceph RADOS Gateway of `scripts/rgw.sh` (its local-only admin keys); under
 * NODE_ENV=production the keys are required. The bucket's lifecycle rules are not among them: they have one
 * owner, the storage-service (archiveLifecycleEnv), so no second writer can replace them with other values.
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
    /** A request to the S3 server silent for this long fails (retryably) instead of waiting forever. */
    S3_TIMEOUT_MS: z.coerce.number().int().min(100).default(DEFAULT_S3_TIMEOUT_MS),
    STORAGE_ARCHIVE_BUCKET: z
      .string()
      .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/)
      .default(ARCHIVE_BUCKET),
    /**
     * The class backups are written in. Every backup is verified by reading it back before anything is
     * purged, so only classes that read back at once are allowed: GLACIER and DEEP_ARCHIVE (the spec's
     * `--storage-class GLACIER_DEEP_ARCHIVE`) need a restore first, and a purge would wait for it forever.
     * Archives reach a cold class afterwards through the bucket's lifecycle (STORAGE_ARCHIVE_TRANSITION_CLASS).
     */
    STORAGE_ARCHIVE_STORAGE_CLASS: z
      .enum(READABLE_STORAGE_CLASSES, { error: (issue) => unreadableClassMessage(issue.input) })
      .default('STANDARD'),
  };
}

/** Classes that hold objects only a restore brings back: written there, a backup could never be verified. */
const COLD_STORAGE_CLASSES = new Set(['GLACIER', 'DEEP_ARCHIVE', 'GLACIER_DEEP_ARCHIVE']);

function unreadableClassMessage(input: unknown): string {
  const choices = `write in one of ${READABLE_STORAGE_CLASSES.join(', ')}`;
  if (typeof input === 'string' && COLD_STORAGE_CLASSES.has(input)) {
    return (
      `${input} cannot be read back without a restore, and every backup is verified by reading it back ` +
      `before a purge; ${choices}, and move archives to ${input} with STORAGE_ARCHIVE_TRANSITION_CLASS`
    );
  }
  return `not a storage class that reads back at once; ${choices}`;
}

export type ArchiveS3Config = z.infer<z.ZodObject<ReturnType<typeof archiveS3Env>>>;

/** An unset variable may reach the process as an empty string (compose files, Helm values). */
const unsetIfEmpty = (value: unknown) => (value === '' ? undefined : value);

/**
 * The archive bucket's lifecycle, read by its one owner, the storage-service, which puts the bucket's rules
 * from it. The database-service also writes to the bucket but never reads these variables nor touches the
 * rules: a PUT ?lifecycle replaces the whole rule set, so a second writer with other values (say the default
 * 365 where the operator chose 0, keep forever) would make archives expire. Spread the fields into the
 * owner's schema and refine it with `checkArchiveLifecycle`, which holds the rules between variables.
 */
export function archiveLifecycleEnv() {
  return {
    /** Days a tenant's final backup is kept in the archive bucket before it expires; 0 keeps archives forever. */
    STORAGE_ARCHIVE_RETENTION_DAYS: z.coerce.number().int().min(0).max(36_500).default(365),
    /**
     * The cold class archives move to once written and verified (unset: they stay where they were written).
     * Any class the server defines: an AWS class, a MinIO tier, an RGW placement storage class; the spec's
     * GLACIER_DEEP_ARCHIVE is mapped to the S3 name DEEP_ARCHIVE.
     */
    STORAGE_ARCHIVE_TRANSITION_CLASS: z.preprocess(
      unsetIfEmpty,
      z
        .string()
        .regex(STORAGE_CLASS_PATTERN)
        .transform((value) => (value === 'GLACIER_DEEP_ARCHIVE' ? 'DEEP_ARCHIVE' : value))
        .optional(),
    ),
    /** Days after it was written that an archive moves to STORAGE_ARCHIVE_TRANSITION_CLASS. */
    STORAGE_ARCHIVE_TRANSITION_DAYS: z.preprocess(
      unsetIfEmpty,
      z.coerce.number().int().min(1).max(36_500).optional(),
    ),
  };
}

export type ArchiveLifecycleConfig = z.infer<z.ZodObject<ReturnType<typeof archiveLifecycleEnv>>>;

/** The transition the owner's variables ask for, or null. Call on a configuration `checkArchiveLifecycle` passed. */
export function archiveTransitionFrom(config: ArchiveLifecycleConfig): ArchiveTransition | null {
  const { STORAGE_ARCHIVE_TRANSITION_CLASS: storageClass, STORAGE_ARCHIVE_TRANSITION_DAYS: days } = config;
  return storageClass === undefined || days === undefined ? null : { storageClass, days };
}

/**
 * The rules between the lifecycle variables, for the owner's schema (`.superRefine(checkArchiveLifecycle)`):
 * a transition names both its class and its days, moves to a class other than the one backups are written
 * in, and comes strictly before the expiration.
 */
export function checkArchiveLifecycle(
  config: ArchiveLifecycleConfig & Partial<Pick<ArchiveS3Config, 'STORAGE_ARCHIVE_STORAGE_CLASS'>>,
  ctx: z.RefinementCtx,
): void {
  const { STORAGE_ARCHIVE_TRANSITION_CLASS: storageClass, STORAGE_ARCHIVE_TRANSITION_DAYS: days } = config;
  if (storageClass === undefined && days === undefined) return;
  if (storageClass === undefined || days === undefined) {
    const missing =
      storageClass === undefined ? 'STORAGE_ARCHIVE_TRANSITION_CLASS' : 'STORAGE_ARCHIVE_TRANSITION_DAYS';
    const other =
      storageClass === undefined ? 'STORAGE_ARCHIVE_TRANSITION_DAYS' : 'STORAGE_ARCHIVE_TRANSITION_CLASS';
    ctx.addIssue({ code: 'custom', path: [missing], message: `required when ${other} is set` });
    return;
  }
  // Zod runs this refinement even when a field failed its own schema, which has named it already.
  if (!Number.isInteger(days) || days < 1 || !STORAGE_CLASS_PATTERN.test(storageClass)) return;
  if (storageClass === config.STORAGE_ARCHIVE_STORAGE_CLASS) {
    ctx.addIssue({
      code: 'custom',
      path: ['STORAGE_ARCHIVE_TRANSITION_CLASS'],
      message: 'is the class backups are already written in (STORAGE_ARCHIVE_STORAGE_CLASS)',
    });
    return;
  }
  const problem = archiveTransitionProblem(config.STORAGE_ARCHIVE_RETENTION_DAYS, { storageClass, days });
  if (problem !== null) {
    const variable =
      problem.on === 'days' ? 'STORAGE_ARCHIVE_TRANSITION_DAYS' : 'STORAGE_ARCHIVE_TRANSITION_CLASS';
    ctx.addIssue({ code: 'custom', path: [variable], message: problem.message });
  }
}

export function s3EndpointFrom(config: ArchiveS3Config): S3Endpoint {
  return {
    endpoint: config.S3_ENDPOINT,
    region: config.S3_REGION,
    accessKey: config.S3_ADMIN_ACCESS_KEY,
    secretKey: config.S3_ADMIN_SECRET_KEY,
    timeoutMs: config.S3_TIMEOUT_MS,
  };
}

/**
 * The archive bucket as a BackupTarget; `client` defaults to one with the archive's small part size. Only the
 * bucket's owner passes `retentionDays` (and its `transition`), and its target puts the bucket's lifecycle
 * rules; any other target creates the bucket if it is missing and leaves its rules alone.
 */
export function s3BackupTargetFrom(
  config: ArchiveS3Config,
  options: { client?: Minio.Client; retentionDays?: number; transition?: ArchiveTransition | null } = {},
): S3BackupTarget {
  return new S3BackupTarget(
    options.client ?? createS3Client(s3EndpointFrom(config), ARCHIVE_PART_SIZE),
    config.STORAGE_ARCHIVE_BUCKET,
    config.S3_REGION,
    config.STORAGE_ARCHIVE_STORAGE_CLASS,
    options.retentionDays ?? null,
    options.transition ?? null,
  );
}
