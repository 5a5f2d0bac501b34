import { createHash } from 'node:crypto';
import {
  archivePrefix,
  assertTenantId,
  BACKUP_ID_PATTERN,
  BUCKET_KINDS,
  type BucketKind,
} from '@app/contracts';
import { z } from 'zod';

/** The storage part of a tenant's final backup (spec "Sauvegarde MinIO" + "Archiver vers Stockage Froid"). */
export function assertBackupId(backupId: string): void {
  if (!BACKUP_ID_PATTERN.test(backupId)) throw new Error('backup id must match [A-Za-z0-9_-]{1,64}');
}

/** Key characters the archive target accepts as they are ('!' too, but it is the escape character here). */
const ARCHIVE_KEY_SAFE = /^[A-Za-z0-9_.*'()/ -]$/;

/** S3's limit on a key, in UTF-8 bytes. */
const MAX_KEY_BYTES = 1024;

/**
 * `<tenantId>/minio/<kind>/<key>`: the spec's `/backups/<tenant>/minio/<bucket>/` synced under `<tenant>/`.
 * Tenant keys may hold any character (`crème+brûlée.jpg`) but the archive target accepts fewer: every other
 * UTF-8 byte, '!' included, is written `!XX` (uppercase hex), so two keys never share an archive key. A `.`
 * or `..` segment (`a/../b`, legal in S3) has its dots escaped too: the target refuses such segments, which
 * would make archives ambiguous. A key whose archive form would pass S3's 1,024 bytes (escaping can triple
 * it) is archived as `!H<sha256 of the key>`, which no escaped key can equal (`H` is not a hex digit). The
 * manifest records each archive key; nothing derives it back from the tenant key.
 */
export function archiveObjectKey(tenantId: string, kind: BucketKind, key: string): string {
  const prefix = `${archivePrefix(tenantId)}minio/${kind}/`;
  const encoded = key
    .split('/')
    .map((segment) =>
      segment === '.' || segment === '..' ? segment.replaceAll('.', '!2E') : escape(segment),
    )
    .join('/');
  if (Buffer.byteLength(prefix + encoded, 'utf8') <= MAX_KEY_BYTES) return prefix + encoded;
  return `${prefix}!H${createHash('sha256').update(key, 'utf8').digest('hex')}`;
}

function escape(segment: string): string {
  let encoded = '';
  for (const byte of Buffer.from(segment, 'utf8')) {
    const char = String.fromCharCode(byte);
    encoded += ARCHIVE_KEY_SAFE.test(char) ? char : `!${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return encoded;
}

export function manifestKey(tenantId: string, backupId: string): string {
  assertTenantId(tenantId);
  assertBackupId(backupId);
  return `${archivePrefix(tenantId)}minio/manifest-${backupId}.json`;
}

export const manifestEntrySchema = z.object({
  kind: z.enum(BUCKET_KINDS),
  bucket: z.string(),
  key: z.string(),
  archiveKey: z.string(),
  size: z.number().int().nonnegative(),
  etag: z.string(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
export type ManifestEntry = z.infer<typeof manifestEntrySchema>;

export const storageManifestSchema = z.object({
  format: z.literal('storage-backup/v1'),
  tenantId: z.string(),
  backupId: z.string(),
  createdAt: z.string(),
  archiveBucket: z.string(),
  storageClass: z.string(),
  objectCount: z.number().int().nonnegative(),
  totalBytes: z.number().int().nonnegative(),
  objects: z.array(manifestEntrySchema),
});
export type StorageManifest = z.infer<typeof storageManifestSchema>;

export function buildManifest(input: {
  tenantId: string;
  backupId: string;
  createdAt: Date;
  archiveBucket: string;
  storageClass: string;
  objects: ManifestEntry[];
}): StorageManifest {
  return {
    format: 'storage-backup/v1',
    tenantId: input.tenantId,
    backupId: input.backupId,
    createdAt: input.createdAt.toISOString(),
    archiveBucket: input.archiveBucket,
    storageClass: input.storageClass,
    objectCount: input.objects.length,
    totalBytes: input.objects.reduce((sum, o) => sum + o.size, 0),
    objects: input.objects,
  };
}

export interface ArchiveCheck {
  entry: ManifestEntry;
  found: { size: number; sha256: string } | null;
}
export type ArchiveProblem = { archiveKey: string; problem: 'missing' | 'size' | 'sha256' };

/** Compares what the archive holds with what the manifest promised. */
export function findArchiveProblems(checks: ArchiveCheck[]): ArchiveProblem[] {
  const problems: ArchiveProblem[] = [];
  for (const { entry, found } of checks) {
    if (!found) problems.push({ archiveKey: entry.archiveKey, problem: 'missing' });
    else if (found.size !== entry.size) problems.push({ archiveKey: entry.archiveKey, problem: 'size' });
    else if (found.sha256 !== entry.sha256)
      problems.push({ archiveKey: entry.archiveKey, problem: 'sha256' });
  }
  return problems;
}
