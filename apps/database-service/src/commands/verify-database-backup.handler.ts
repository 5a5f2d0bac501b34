import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { BackupObjectNotFoundError, BackupTargetError } from '@app/archive';
import type { CommandMessage, StepOutputs } from '@app/contracts';
import { HANDLER_DEPS, permanent } from '@app/platform';
import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { classifyBackupError } from '../adapters/backup-errors';
import type { TableRows } from '../adapters/database-admin';
import { classifyMysqlError } from '../adapters/mysql-errors';
import { scratchDatabaseName } from '../adapters/mysql-restore';
import { isOwnDumpKey, parseManifest, type BackupManifest, type DumpEntry } from '../domain/backup-manifest';
import { refusingInvalid } from '../domain/errors';
import type { DatabaseHandlerDeps } from './deps';
import { planFor } from './tenant-databases';

/**
 * VerifyDatabaseBackup: the manifest is this tenant's and this backup's, and each of its dumps is one this
 * backup wrote, reads back with its checksum and size, and restores (in a scratch database) to its row counts.
 */
@Controller()
export class VerifyDatabaseBackupHandler {
  constructor(@Inject(HANDLER_DEPS) private readonly deps: DatabaseHandlerDeps) {}

  @MessagePattern('VerifyDatabaseBackup')
  async handle(@Payload() command: CommandMessage<'VerifyDatabaseBackup'>): Promise<StepOutputs> {
    const tenantId = command.data.tenant.tenantId;
    planFor(command);
    const { manifestKey: key } = command.data.params;
    if (typeof key !== 'string' || !key.startsWith(`${tenantId}/databases/`)) {
      throw permanent(
        'DATABASE.BACKUP_MANIFEST_FOREIGN',
        "manifest key is not under this tenant's backup prefix",
      );
    }
    const manifest = await this.readManifest(key);
    if (manifest.tenantId !== tenantId) {
      throw permanent('DATABASE.BACKUP_MANIFEST_FOREIGN', 'manifest belongs to another tenant');
    }
    if (manifest.backupId !== command.data.params.backupId) {
      throw permanent('DATABASE.BACKUP_MANIFEST_INVALID', `manifest ${key} describes another backup`);
    }
    let tables = 0;
    let rows = 0;
    for (const dump of manifest.dumps) {
      if (!dump.key.startsWith(`${tenantId}/databases/`)) {
        throw permanent(
          'DATABASE.BACKUP_MANIFEST_FOREIGN',
          `dump ${dump.key} is outside this tenant's prefix`,
        );
      }
      if (!refusingInvalid(() => isOwnDumpKey(manifest, dump))) {
        throw permanent(
          'DATABASE.BACKUP_MANIFEST_INVALID',
          `dump ${dump.key} is not a dump of backup ${manifest.backupId}`,
        );
      }
      await this.verifyChecksum(dump);
      const restored = await this.restore(dump);
      compareCounts(dump, restored);
      tables += restored.length;
      rows += restored.reduce((sum, t) => sum + t.rows, 0);
    }
    return {
      manifestKey: key,
      verifiedDumps: manifest.dumps.length,
      tablesChecked: tables,
      rowsChecked: rows,
    };
  }

  private async readManifest(key: string): Promise<BackupManifest> {
    let text: string;
    try {
      text = (await readAll(await this.deps.backups.getObject(key))).toString('utf8');
    } catch (error) {
      if (error instanceof BackupObjectNotFoundError) {
        throw permanent('DATABASE.BACKUP_MANIFEST_MISSING', `manifest ${key} not found`);
      }
      throw classifyBackupError(error, 'read', key);
    }
    return refusingInvalid(() => parseManifest(text));
  }

  private async verifyChecksum(dump: DumpEntry): Promise<void> {
    const hash = createHash('sha256');
    let bytes = 0;
    try {
      for await (const chunk of await this.deps.backups.getObject(dump.key)) {
        hash.update(chunk as Buffer);
        bytes += (chunk as Buffer).length;
      }
    } catch (error) {
      throw classifyBackupError(error, 'read', dump.key);
    }
    const digest = hash.digest('hex');
    if (digest !== dump.sha256 || bytes !== dump.bytes) {
      throw permanent(
        'DATABASE.BACKUP_CHECKSUM_MISMATCH',
        `dump ${dump.key}: sha256/size ${digest.slice(0, 12)}/${bytes} differ from manifest ${dump.sha256.slice(0, 12)}/${dump.bytes}`,
      );
    }
  }

  private async restore(dump: DumpEntry): Promise<TableRows[]> {
    let source: Readable;
    try {
      source = await this.deps.backups.getObject(dump.key);
    } catch (error) {
      throw classifyBackupError(error, 'read', dump.key);
    }
    const gunzip = createGunzip();
    source.on('error', (error) => gunzip.destroy(error));
    source.pipe(gunzip);
    try {
      // Named after the dump: a verification killed mid-restore is redone in the same scratch database,
      // which is dropped first, so no copy of tenant data outlives it.
      return await this.deps.admin.restoreAndCount(
        gunzip,
        scratchDatabaseName(`${dump.key}\u001f${dump.sha256}`),
      );
    } catch (error) {
      if (isZlibError(error)) {
        throw permanent('DATABASE.BACKUP_CORRUPTED', `dump ${dump.key} cannot be decompressed`);
      }
      // The dump's bytes come from the backup target while the statements go to MySQL: either may fail.
      if (error instanceof BackupTargetError) throw classifyBackupError(error, 'read', dump.key);
      throw classifyMysqlError(error, 'restore', dump.key);
    }
  }
}

function compareCounts(dump: DumpEntry, restored: TableRows[]): void {
  const expected = new Map(dump.tables.map((t) => [t.name, t.rows]));
  const actual = new Map(restored.map((t) => [t.name, t.rows]));
  const differences = [...new Set([...expected.keys(), ...actual.keys()])]
    .filter((name) => expected.get(name) !== actual.get(name))
    .map((name) => `${name} ${expected.get(name) ?? 'absent'}≠${actual.get(name) ?? 'absent'}`);
  if (differences.length > 0) {
    throw permanent('DATABASE.BACKUP_ROW_COUNT_MISMATCH', `dump ${dump.key}: ${differences.join(', ')}`);
  }
}

function isZlibError(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && code.startsWith('Z_');
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
