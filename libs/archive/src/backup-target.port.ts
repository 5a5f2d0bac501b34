import type { Readable } from 'node:stream';

/**
 * Where final backups go (spec "Sauvegarde Finale", "Archiver vers Stockage Froid"): the database-service's
 * dumps and the storage-service's bucket mirrors, each under `<tenantId>/`. Adapters: the archive bucket
 * over S3 (production) and a local directory.
 */
export interface BackupTarget {
  /**
   * Writes `body` to `key`, replacing what was there. The object becomes visible (to getObject and
   * listObjects) only once complete: a writer that fails or dies mid-way leaves the previous state.
   */
  putObject(key: string, body: Readable | Buffer, options?: { contentType?: string }): Promise<void>;
  /** The object's bytes as a stream; rejects with BackupObjectNotFoundError when the key is absent. */
  getObject(key: string): Promise<Readable>;
  /** Keys under `prefix`, sorted. */
  listObjects(prefix: string): Promise<string[]>;
}

export const BACKUP_KEY_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*(?:\/[A-Za-z0-9][A-Za-z0-9._-]*)*$/;

export class BackupTargetError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'BackupTargetError';
  }
}

export class BackupObjectNotFoundError extends BackupTargetError {
  constructor(readonly key: string) {
    super('BACKUP.OBJECT_NOT_FOUND', `backup object ${key} not found`);
    this.name = 'BackupObjectNotFoundError';
  }
}

/** Keys a filesystem can hold as paths: segments of `[A-Za-z0-9._-]`, no empty, `.` or `..` segment. */
export function assertBackupKey(key: string): void {
  if (typeof key !== 'string' || key.length > 1024 || !BACKUP_KEY_PATTERN.test(key)) {
    throw invalidKey(key);
  }
}

export function invalidKey(key: unknown): BackupTargetError {
  return new BackupTargetError(
    'BACKUP.INVALID_KEY',
    `invalid backup key ${JSON.stringify(String(key).slice(0, 80))}`,
  );
}

/**
 * Runs an adapter's write with the source's errors held from the call on. A source that fails while the adapter
 * still prepares (a dump killed while the directory is made or the bucket checked) emits 'error' before any reader
 * is attached; unheard, that is an uncaught exception taking the whole service down. Held, the error stays in the
 * stream (`readable.errored`), and the pipeline or iterator that reads it rejects with it. A write that fails
 * before reading destroys the source, so its producer stops instead of waiting for a reader that never comes.
 */
export async function writingFrom<T>(body: Readable | Buffer, write: () => Promise<T>): Promise<T> {
  if (Buffer.isBuffer(body)) return write();
  body.on('error', holdError);
  try {
    return await write();
  } catch (error) {
    body.destroy();
    throw error;
  } finally {
    body.off('error', holdError);
  }
}

function holdError(): void {
  // Kept in `readable.errored` and reported by whoever reads the stream.
}
