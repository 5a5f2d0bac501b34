import { BackupObjectNotFoundError, BackupTargetError } from '@app/archive';
import { permanent, retryable, StepError } from '@app/platform';
import { domainRefusal } from '../domain/errors';

/**
 * The one classification of a backup-target failure (the archive bucket or the backup directory of
 * `@app/archive`), for every handler: a missing object is DATABASE.BACKUP_OBJECT_MISSING and the target's
 * other typed refusals (an invalid key, a storage class that does not read back) keep their codes, all
 * permanent; a StepError and the app's typed refusals pass through; anything else (the store unreachable, a
 * stream cut) is the retryable DATABASE.BACKUP_READ_FAILED or DATABASE.BACKUP_WRITE_FAILED.
 */
export function classifyBackupError(error: unknown, access: 'read' | 'write', key: string): StepError {
  if (error instanceof StepError) return error;
  const refusal = domainRefusal(error);
  if (refusal) return refusal;
  if (error instanceof BackupObjectNotFoundError) {
    return permanent('DATABASE.BACKUP_OBJECT_MISSING', error.message);
  }
  if (error instanceof BackupTargetError) return permanent(error.code, error.message);
  const detail = error instanceof Error ? error.message : 'error';
  return access === 'read'
    ? retryable('DATABASE.BACKUP_READ_FAILED', `reading ${key} failed: ${detail}`)
    : retryable('DATABASE.BACKUP_WRITE_FAILED', `writing ${key} failed: ${detail}`);
}
