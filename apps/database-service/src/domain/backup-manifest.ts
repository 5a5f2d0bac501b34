import { z } from 'zod';
import { assertTenantId, BACKUP_ID_PATTERN } from '@app/contracts';
import { assertDatabaseName, SqlBuilderError } from '@app/plans';

export const DUMP_CONTENT_TYPE = 'application/gzip';
export const MANIFEST_CONTENT_TYPE = 'application/json';

/** `YYYYMMDD` in UTC of the command's timestamp, so a redelivered command writes the same keys. */
export function backupDate(occurredAt: string): string {
  const date = new Date(occurredAt);
  if (Number.isNaN(date.getTime()))
    throw new SqlBuilderError('DATABASE.BAD_TIMESTAMP', 'command timestamp is not a date');
  return date.toISOString().slice(0, 10).replace(/-/g, '');
}

export function assertBackupId(backupId: string): void {
  if (typeof backupId !== 'string' || !BACKUP_ID_PATTERN.test(backupId)) {
    throw new SqlBuilderError('DATABASE.INVALID_BACKUP_ID', 'backupId must match [A-Za-z0-9_-]{1,64}');
  }
}

/**
 * Spec "Sauvegarde Finale" names a dump `<db>_final_<YYYYMMDD>.sql.gz`; the backup id is appended so that two
 * rounds on one day (a failed round retried, an early purge after the first backup) never overwrite each
 * other's dumps: `<tenantId>/databases/<db>_final_<YYYYMMDD>_<backupId>.sql.gz`.
 */
export function dumpKey(tenantId: string, database: string, date: string, backupId: string): string {
  assertBackupId(backupId);
  return `${legacyDumpKey(tenantId, database, date).slice(0, -'.sql.gz'.length)}_${backupId}.sql.gz`;
}

/** The day-named key of manifests written before the backup id was part of it; still accepted when verifying. */
export function legacyDumpKey(tenantId: string, database: string, date: string): string {
  assertTenantId(tenantId);
  assertDatabaseName(database);
  if (!/^\d{8}$/.test(date))
    throw new SqlBuilderError('DATABASE.BAD_TIMESTAMP', 'backup date is not YYYYMMDD');
  return `${tenantId}/databases/${database}_final_${date}.sql.gz`;
}

/**
 * Whether a manifest's dump entry names the dump its own backup wrote: the key built from the manifest's
 * backup id, or the day-named key of an older manifest. Anything else (another round's dump, a key of another
 * database) is refused before it is read.
 */
export function isOwnDumpKey(manifest: BackupManifest, dump: DumpEntry): boolean {
  const date = backupDate(manifest.createdAt);
  return (
    dump.key === dumpKey(manifest.tenantId, dump.database, date, manifest.backupId) ||
    dump.key === legacyDumpKey(manifest.tenantId, dump.database, date)
  );
}

export function manifestKey(tenantId: string, backupId: string): string {
  assertTenantId(tenantId);
  assertBackupId(backupId);
  return `${tenantId}/databases/manifest_${backupId}.json`;
}

const tableSchema = z.object({
  name: z.string().regex(/^[A-Za-z0-9_$]{1,64}$/),
  rows: z.number().int().nonnegative(),
});
const dumpSchema = z.object({
  service: z.string(),
  database: z.string().regex(/^[a-z0-9_]{1,64}$/),
  key: z.string().min(1),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  bytes: z.number().int().nonnegative(),
  tables: z.array(tableSchema),
});
export const backupManifestSchema = z.object({
  version: z.literal(1),
  tenantId: z.string(),
  backupId: z.string(),
  createdAt: z.string(),
  format: z.literal('mysql-logical-dump+gzip'),
  dumps: z.array(dumpSchema),
});
export type BackupManifest = z.infer<typeof backupManifestSchema>;
export type DumpEntry = BackupManifest['dumps'][number];

export function parseManifest(json: string): BackupManifest {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    throw new SqlBuilderError('DATABASE.BACKUP_MANIFEST_INVALID', 'backup manifest is not valid JSON');
  }
  const parsed = backupManifestSchema.safeParse(raw);
  if (!parsed.success) {
    throw new SqlBuilderError(
      'DATABASE.BACKUP_MANIFEST_INVALID',
      `backup manifest does not match its schema: ${parsed.error.issues[0]?.message}`,
    );
  }
  return parsed.data;
}
