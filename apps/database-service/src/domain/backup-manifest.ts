import { z } from 'zod';
import { assertTenantId, BACKUP_ID_PATTERN } from '@app/contracts';
import { SqlBuilderError } from './sql';

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

/** Spec "Sauvegarde Finale": `<tenantId>/databases/<db>_final_<YYYYMMDD>.sql.gz`. */
export function dumpKey(tenantId: string, database: string, date: string): string {
  assertTenantId(tenantId);
  return `${tenantId}/databases/${database}_final_${date}.sql.gz`;
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
