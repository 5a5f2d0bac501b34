import { pipeline } from 'node:stream/promises';
import {
  BACKUP_ID_PATTERN,
  BUCKET_KINDS,
  bucketName,
  type BucketKind,
  type CommandMessage,
  type StepOutputs,
} from '@app/contracts';
import { HANDLER_DEPS, permanent, retryable, type CommandContext } from '@app/platform';
import { Controller, Inject } from '@nestjs/common';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import type * as Minio from 'minio';
import { S3ObjectStore, type ObjectSummary } from '../adapters/object-store';
import { withObjectStore } from '../adapters/step-errors';
import { archiveObjectKey, buildManifest, manifestKey, type ManifestEntry } from '../domain/manifest';
import type { StorageHandlerDeps } from './deps';
import { hashingTap } from './streams';
import { tenantCredentials } from './tenant-storage';

const FAILED = 'STORAGE.BACKUP_FAILED';

/**
 * BackupStorage: mirrors the latest version of every object of the tenant's buckets into the archive bucket,
 * then writes a manifest with each object's size and sha256.
 */
@Controller()
export class BackupStorageHandler {
  constructor(@Inject(HANDLER_DEPS) private readonly deps: StorageHandlerDeps) {}

  @MessagePattern('BackupStorage')
  async handle(
    @Payload() command: CommandMessage<'BackupStorage'>,
    @Ctx() { logger }: CommandContext,
  ): Promise<StepOutputs> {
    const { deps } = this;
    const tenantId = command.data.tenant.tenantId;
    const { backupId } = command.data.params;
    if (!BACKUP_ID_PATTERN.test(backupId)) throw permanent('STORAGE.BAD_BACKUP_ID', 'backup id is not valid');
    // Objects belong to the user who wrote them (the tenant's app): on RGW the bucket owner cannot read them,
    // so the mirror reads with the tenant's own keys, which the bucket policy lets read every object.
    const { accessKey, secretKey } = await tenantCredentials(deps, tenantId);
    const source = deps.tenantClient(accessKey, secretKey);
    const entries: ManifestEntry[] = [];
    for (const kind of BUCKET_KINDS) {
      const bucket = bucketName(tenantId, kind);
      const exists = await withObjectStore(FAILED, `checking ${bucket}`, () =>
        deps.store.bucketExists(bucket),
      );
      if (!exists) continue;
      const objects = await withObjectStore(FAILED, `listing ${bucket}`, () =>
        S3ObjectStore.listLatest(source, bucket),
      );
      for (const object of objects) {
        entries.push(await this.mirrorObject(source, tenantId, kind, bucket, object));
      }
    }
    const manifest = buildManifest({
      tenantId,
      backupId,
      createdAt: (deps.now ?? (() => new Date()))(),
      archiveBucket: deps.archive.bucket,
      storageClass: deps.storageClass,
      objects: entries,
    });
    const key = manifestKey(tenantId, backupId);
    await withObjectStore(FAILED, 'writing the manifest', () =>
      deps.archive.putObject(key, Buffer.from(JSON.stringify(manifest, null, 2)), {
        contentType: 'application/json',
      }),
    );
    logger.info(
      { tenantId, backupId, objects: manifest.objectCount, bytes: manifest.totalBytes },
      'storage mirrored',
    );
    return {
      backupId,
      archiveBucket: deps.archive.bucket,
      manifestKey: key,
      objectCount: manifest.objectCount,
      totalBytes: manifest.totalBytes,
    };
  }

  /** Streams one object into the archive, hashing it on the way; fails retryably if it changed meanwhile. */
  private mirrorObject(
    source: Minio.Client,
    tenantId: string,
    kind: BucketKind,
    bucket: string,
    object: ObjectSummary,
  ): Promise<ManifestEntry> {
    const archiveKey = archiveObjectKey(tenantId, kind, object.key);
    return withObjectStore(FAILED, `mirroring ${bucket}/${object.key}`, async () => {
      const { tap, result } = hashingTap();
      const body = await source.getObject(bucket, object.key);
      const upload = this.deps.archive.putObject(archiveKey, tap).catch((error: unknown) => {
        body.destroy();
        throw error;
      });
      await Promise.all([pipeline(body, tap), upload]);
      const { sha256, size } = result();
      if (size !== object.size) {
        throw retryable(
          'STORAGE.BACKUP_SIZE_CHANGED',
          `${bucket}/${object.key} changed while being mirrored`,
        );
      }
      return { kind, bucket, key: object.key, archiveKey, size, etag: object.etag, sha256 };
    });
  }
}
