import { BackupObjectNotFoundError } from '@app/archive';
import { BACKUP_ID_PATTERN, type CommandMessage, type StepOutputs } from '@app/contracts';
import { HANDLER_DEPS, permanent, type CommandContext } from '@app/platform';
import { Controller, Inject } from '@nestjs/common';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import { withObjectStore } from '../adapters/step-errors';
import {
  findArchiveProblems,
  manifestKey,
  storageManifestSchema,
  type ArchiveCheck,
  type StorageManifest,
} from '../domain/manifest';
import type { StorageHandlerDeps } from './deps';
import { digestStream, readText } from './streams';

const FAILED = 'STORAGE.BACKUP_VERIFY_FAILED';

/** VerifyStorageBackup: re-reads every archived object of a backup and checks it against the manifest. */
@Controller()
export class VerifyStorageBackupHandler {
  constructor(@Inject(HANDLER_DEPS) private readonly deps: StorageHandlerDeps) {}

  @MessagePattern('VerifyStorageBackup')
  async handle(
    @Payload() command: CommandMessage<'VerifyStorageBackup'>,
    @Ctx() { logger }: CommandContext,
  ): Promise<StepOutputs> {
    const tenantId = command.data.tenant.tenantId;
    const { backupId, manifestKey: key } = command.data.params;
    if (!BACKUP_ID_PATTERN.test(backupId)) throw permanent('STORAGE.BAD_BACKUP_ID', 'backup id is not valid');
    if (key !== manifestKey(tenantId, backupId)) {
      throw permanent(
        'STORAGE.BACKUP_MANIFEST_KEY_MISMATCH',
        `manifest key is not ${manifestKey(tenantId, backupId)}`,
      );
    }
    const manifest = await this.readManifest(key, tenantId, backupId);
    const checks: ArchiveCheck[] = [];
    for (const entry of manifest.objects) {
      const found = await withObjectStore(FAILED, `re-reading ${entry.archiveKey}`, async () => {
        try {
          return await digestStream(await this.deps.archive.getObject(entry.archiveKey));
        } catch (error) {
          if (error instanceof BackupObjectNotFoundError) return null;
          throw error;
        }
      });
      checks.push({ entry, found });
    }
    const problems = findArchiveProblems(checks);
    if (problems.length > 0) {
      const shown = problems
        .slice(0, 5)
        .map((p) => `${p.archiveKey} (${p.problem})`)
        .join(', ');
      throw permanent(
        'STORAGE.BACKUP_CORRUPTED',
        `${problems.length} archived object(s) do not match the manifest: ${shown}${problems.length > 5 ? ', ...' : ''}`,
      );
    }
    logger.info({ tenantId, backupId, objects: checks.length }, 'storage backup verified');
    return {
      backupId,
      manifestKey: key,
      verifiedObjects: checks.length,
      verifiedBytes: manifest.totalBytes,
    };
  }

  /** The backup's manifest from the archive, refused unless it describes this tenant's backup. */
  private async readManifest(key: string, tenantId: string, backupId: string): Promise<StorageManifest> {
    const { archive } = this.deps;
    const text = await withObjectStore(FAILED, 'reading the manifest', async () => {
      try {
        return await readText(await archive.getObject(key));
      } catch (error) {
        if (error instanceof BackupObjectNotFoundError) {
          throw permanent(
            'STORAGE.BACKUP_MANIFEST_MISSING',
            `manifest ${key} not found in ${archive.bucket}`,
          );
        }
        throw error;
      }
    });
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw permanent('STORAGE.BACKUP_MANIFEST_INVALID', `manifest ${key} is not JSON`);
    }
    const manifest = storageManifestSchema.safeParse(parsed);
    if (!manifest.success || manifest.data.tenantId !== tenantId || manifest.data.backupId !== backupId) {
      throw permanent('STORAGE.BACKUP_MANIFEST_INVALID', `manifest ${key} does not describe this backup`);
    }
    return manifest.data;
  }
}
