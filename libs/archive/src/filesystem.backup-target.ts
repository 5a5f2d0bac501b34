import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, relative, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  assertBackupKey,
  BackupObjectNotFoundError,
  type BackupTarget,
  writingFrom,
} from './backup-target.port';

/** A partial file nobody has written to for this long belongs to a killed writer (a live dump keeps writing). */
export const STALE_PARTIAL_MS = 3_600_000;

/** Backups as files under a root directory (the spec's `/backups/<tenantId>/...`). Writes are atomic renames. */
export class FilesystemBackupTarget implements BackupTarget {
  constructor(readonly root: string) {}

  async putObject(key: string, body: Readable | Buffer): Promise<void> {
    await writingFrom(body, async () => {
      assertBackupKey(key);
      const file = join(this.root, key);
      await mkdir(dirname(file), { recursive: true });
      await this.removeStalePartials(file);
      const temporary = `${file}.partial-${randomBytes(4).toString('hex')}`;
      try {
        await pipeline(Buffer.isBuffer(body) ? Readable.from([body]) : body, createWriteStream(temporary));
        await rename(temporary, file);
      } catch (error) {
        await rm(temporary, { force: true });
        throw error;
      }
    });
  }

  /**
   * A writer killed mid-dump leaves `<file>.partial-*` behind: a copy of tenant data no listing shows and no
   * purge removes. The next write of the same key deletes those that stopped growing long ago.
   */
  private async removeStalePartials(file: string): Promise<void> {
    const prefix = `${basename(file)}.partial-`;
    const now = Date.now();
    for (const name of await readdir(dirname(file))) {
      if (!name.startsWith(prefix)) continue;
      const partial = join(dirname(file), name);
      const info = await stat(partial).catch(() => undefined);
      if (info && now - info.mtimeMs > STALE_PARTIAL_MS) await rm(partial, { force: true });
    }
  }

  async getObject(key: string): Promise<Readable> {
    assertBackupKey(key);
    const file = join(this.root, key);
    try {
      await stat(file);
    } catch {
      throw new BackupObjectNotFoundError(key);
    }
    return createReadStream(file);
  }

  async listObjects(prefix: string): Promise<string[]> {
    let entries: string[];
    try {
      entries = (await readdir(this.root, { recursive: true, withFileTypes: true }))
        .filter((entry) => entry.isFile() && !entry.name.includes('.partial-'))
        .map((entry) => relative(this.root, join(entry.parentPath, entry.name)).split(sep).join('/'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    return entries.filter((key) => key.startsWith(prefix)).sort();
  }
}
