import type { Readable } from 'node:stream';
import type * as Minio from 'minio';
import { BackupObjectNotFoundError, invalidKey, writingFrom, type BackupTarget } from './backup-target.port';
import { archiveLifecycleRules, renderLifecycleXml, type ArchiveTransition } from './lifecycle';
import { ensureBucket, listLatest, putLifecycleXml, type ObjectSummary } from './s3-bucket';
import { ARCHIVE_PART_SIZE, s3ErrorCode } from './s3-client';

/** S3 object keys (mirrored objects keep their names, so wider than the filesystem's BACKUP_KEY_PATTERN). */
const KEY_PATTERN = /^[A-Za-z0-9][A-Za-z0-9!_.*'()/ -]{0,1023}$/;
const MAX_PARTS = 10_000;

/**
 * Size of the `n`th part (from 1) of a streamed upload: the S3 minimum for the first thousand parts, one
 * more minimum per thousand after, so memory stays at one part for ordinary dumps while the 10,000-part
 * limit of S3 still allows 275 GB.
 */
export function partSize(n: number): number {
  return ARCHIVE_PART_SIZE * (Math.floor((n - 1) / 1000) + 1);
}

/**
 * Storage classes whose objects read back at once (S3's STANDARD, the infrequent-access ones and Glacier
 * Instant Retrieval; MinIO's STANDARD and REDUCED_REDUNDANCY). GLACIER and DEEP_ARCHIVE are not among them:
 * their objects need a restore (hours) before a GET answers.
 */
export const READABLE_STORAGE_CLASSES = [
  'STANDARD',
  'REDUCED_REDUNDANCY',
  'STANDARD_IA',
  'ONEZONE_IA',
  'GLACIER_IR',
] as const;

/** BackupTarget over an S3 bucket (MinIO, RGW, AWS), created on first use, with a configurable storage class. */
export class S3BackupTarget implements BackupTarget {
  private ready: Promise<void> | null = null;

  constructor(
    private readonly client: Minio.Client,
    /** The bucket this target writes to (for manifests and logs). */
    readonly bucket: string,
    private readonly region: string,
    private readonly storageClass = 'STANDARD',
    /**
     * For the bucket's owner: archives expire this many days after they were written, 0 keeps them forever.
     * `null`: the rules belong to another service; the bucket is created if missing, its lifecycle never put.
     */
    private readonly retentionDays: number | null = null,
    /** For the bucket's owner: the cold class archives move to once written, and when. */
    private readonly transition: ArchiveTransition | null = null,
  ) {
    // Backups are verified by reading them back: one written in a class that needs a restore never would be.
    if (!(READABLE_STORAGE_CLASSES as readonly string[]).includes(storageClass))
      throw new Error(`storage class ${storageClass} does not read back at once`);
    // Fail at construction, not at the first backup, when the owner's lifecycle cannot be rendered.
    if (retentionDays !== null) archiveLifecycleRules(retentionDays, transition);
  }

  /**
   * Create-if-absent, once per process; the owner also puts the retention and transition rules (PUT ?lifecycle
   * replaces the whole rule set, so the owner converges it, and only the owner may write it).
   */
  ensureBucket(): Promise<void> {
    const { retentionDays, transition } = this;
    this.ready ??= ensureBucket(this.client, this.bucket, this.region)
      .then(async () => {
        if (retentionDays === null) return;
        await putLifecycleXml(
          this.client,
          this.bucket,
          renderLifecycleXml(archiveLifecycleRules(retentionDays, transition)),
        );
      })
      .catch((error: unknown) => {
        this.ready = null;
        throw error;
      });
    return this.ready;
  }

  private assertKey(key: string): void {
    // Keys come from tenant ids and object names already in S3; `..` segments would make archives ambiguous.
    if (typeof key !== 'string' || !KEY_PATTERN.test(key) || key.split('/').includes('..'))
      throw invalidKey(key);
  }

  async putObject(
    key: string,
    body: Readable | Buffer,
    options: { contentType?: string } = {},
  ): Promise<void> {
    await writingFrom(body, async () => {
      this.assertKey(key);
      await this.ensureBucket();
      const headers = {
        'Content-Type': options.contentType ?? 'application/octet-stream',
        // A class that reads back at once (checked above); the bucket's lifecycle moves archives to a cold one.
        'x-amz-storage-class': this.storageClass,
      };
      if (Buffer.isBuffer(body)) {
        await this.client.putObject(this.bucket, key, body, body.length, headers);
        return;
      }
      await this.putStream(key, body, headers);
    });
  }

  /**
   * A stream of unknown length goes up in parts, read one part at a time (bounded memory). minio-js's own
   * stream upload never hears of an error of its source and would wait forever, so the parts are sent
   * here: a source that fails aborts the upload, and only a complete upload becomes an object.
   */
  private async putStream(key: string, body: Readable, headers: Record<string, string>): Promise<void> {
    let uploadId: string | undefined;
    const parts: { part: number; etag: string }[] = [];
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    const sendPart = async () => {
      if (parts.length >= MAX_PARTS) throw new Error(`${key} exceeds ${MAX_PARTS} parts`);
      uploadId ??= await this.client.initiateNewMultipartUpload(this.bucket, key, headers);
      const payload = Buffer.concat(pending, pendingBytes);
      pending = [];
      pendingBytes = 0;
      const part = parts.length + 1;
      const { etag } = await this.client.uploadPart(
        { bucketName: this.bucket, objectName: key, uploadID: uploadId, partNumber: part, headers: {} },
        payload,
      );
      parts.push({ part, etag });
    };
    try {
      for await (const chunk of body) {
        const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
        pending.push(buffer);
        pendingBytes += buffer.length;
        if (pendingBytes >= partSize(parts.length + 1)) await sendPart();
      }
      if (uploadId === undefined) {
        // Smaller than one part: a single PUT, atomic by itself.
        await this.client.putObject(
          this.bucket,
          key,
          Buffer.concat(pending, pendingBytes),
          pendingBytes,
          headers,
        );
        return;
      }
      if (pendingBytes > 0) await sendPart();
      await this.client.completeMultipartUpload(this.bucket, key, uploadId, parts);
    } catch (error) {
      body.destroy();
      if (uploadId !== undefined) {
        // Best effort: the bucket's abort-incomplete-uploads rule removes what this cannot.
        await this.client.abortMultipartUpload(this.bucket, key, uploadId).catch(() => undefined);
      }
      throw error;
    }
  }

  async getObject(key: string): Promise<Readable> {
    this.assertKey(key);
    try {
      return await this.client.getObject(this.bucket, key);
    } catch (error) {
      const code = s3ErrorCode(error);
      if (code === 'NoSuchKey' || code === 'NotFound' || code === 'NoSuchBucket')
        throw new BackupObjectNotFoundError(key);
      throw error;
    }
  }

  async listObjects(prefix: string): Promise<string[]> {
    return (await this.listObjectDetails(prefix)).map((o) => o.key).sort();
  }

  async listObjectDetails(prefix: string): Promise<ObjectSummary[]> {
    if (!(await this.client.bucketExists(this.bucket))) return [];
    return listLatest(this.client, this.bucket, prefix);
  }
}
