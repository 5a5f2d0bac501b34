import {
  collectStream,
  ensureBucket,
  getLifecycleXml,
  listLatest,
  putLifecycleXml,
  s3ErrorCode,
  type ObjectSummary,
} from '@app/archive';
import type * as Minio from 'minio';

export type { ObjectSummary };

export interface ObjectVersion {
  key: string;
  versionId: string;
  isDeleteMarker: boolean;
}

/**
 * Bucket-level administration over S3 (admin credentials): what `mc mb`, `mc version enable`, `mc ilm add`,
 * `mc anonymous set` and `mc rb --force` do in spec 4.1 and in the deletion script.
 */
export class S3ObjectStore {
  constructor(
    readonly client: Minio.Client,
    private readonly region: string,
  ) {}

  async listBuckets(): Promise<string[]> {
    return (await this.client.listBuckets()).map((b) => b.name).sort();
  }

  async bucketExists(bucket: string): Promise<boolean> {
    return this.client.bucketExists(bucket);
  }

  /** Create-if-absent. */
  async ensureBucket(bucket: string): Promise<void> {
    await ensureBucket(this.client, bucket, this.region);
  }

  async enableVersioning(bucket: string): Promise<void> {
    await this.client.setBucketVersioning(bucket, { Status: 'Enabled' });
  }

  async versioningStatus(bucket: string): Promise<string> {
    const config = (await this.client.getBucketVersioning(bucket)) as { Status?: string } | undefined;
    return config?.Status ?? 'Off';
  }

  /** PUT ?lifecycle with our own XML (minio-js's typed builder cannot express ExpiredObjectDeleteMarker). */
  async putLifecycleXml(bucket: string, xml: string): Promise<void> {
    await putLifecycleXml(this.client, bucket, xml);
  }

  async getLifecycleXml(bucket: string): Promise<string | null> {
    return getLifecycleXml(this.client, bucket);
  }

  async putBucketPolicy(bucket: string, policyJson: string): Promise<void> {
    await this.client.setBucketPolicy(bucket, policyJson);
  }

  async getBucketPolicy(bucket: string): Promise<string | null> {
    try {
      return await this.client.getBucketPolicy(bucket);
    } catch (error) {
      if (s3ErrorCode(error) === 'NoSuchBucketPolicy') return null;
      throw error;
    }
  }

  /** Every version and delete marker, optionally under a prefix. */
  async listVersions(bucket: string, prefix = ''): Promise<ObjectVersion[]> {
    type Item = { name?: string; versionId?: string; isDeleteMarker?: boolean };
    const items = await collectStream<Item>(
      this.client.listObjects(bucket, prefix, true, { IncludeVersion: true }),
    );
    return items
      .filter((i) => i.name !== undefined)
      .map((i) => ({
        key: i.name as string,
        versionId: i.versionId ?? 'null',
        isDeleteMarker: i.isDeleteMarker === true,
      }));
  }

  /** Latest versions only (what `mc mirror` copies). */
  static listLatest(client: Minio.Client, bucket: string, prefix = ''): Promise<ObjectSummary[]> {
    return listLatest(client, bucket, prefix);
  }

  /**
   * Deletes every version and delete marker (under `prefix`), one request each with bounded parallelism:
   * RGW answers minio-js's multi-object delete with an error (measured), single deletes work everywhere.
   * Returns how many were removed; a bucket that does not exist counts as empty.
   */
  async removeAllVersions(bucket: string, prefix = '', parallelism = 8): Promise<number> {
    if (!(await this.client.bucketExists(bucket))) return 0;
    let removed = 0;
    // Lists again until empty: a writer racing the purge cannot leave a version behind unnoticed.
    for (let round = 0; round < 5; round += 1) {
      const versions = await this.listVersions(bucket, prefix);
      if (versions.length === 0) return removed;
      for (let i = 0; i < versions.length; i += parallelism) {
        await Promise.all(
          versions.slice(i, i + parallelism).map(async (v) => {
            await this.client.removeObject(bucket, v.key, { versionId: v.versionId });
            removed += 1;
          }),
        );
      }
    }
    const left = await this.listVersions(bucket, prefix);
    if (left.length > 0) throw new Error(`${left.length} versions still in ${bucket} after 5 rounds`);
    return removed;
  }

  /** `mc rb --force`: all versions, then the bucket (its policy and lifecycle go with it). Absent is success. */
  async removeBucket(bucket: string): Promise<number> {
    const removed = await this.removeAllVersions(bucket);
    try {
      await this.client.removeBucket(bucket);
    } catch (error) {
      if (s3ErrorCode(error) !== 'NoSuchBucket') throw error;
    }
    return removed;
  }
}
