import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type * as Minio from 'minio';
import { collectStream } from './s3-bucket';
import { s3ErrorCode } from './s3-client';

/**
 * Objects that must outlive whoever can write the bucket (signed audit anchors): a versioned bucket, and S3
 * Object Lock retention on each object where the bucket has it. Object Lock can only be switched on when a
 * bucket is created (AWS since 2023 also on an existing versioned bucket; Ceph RGW 16 answers
 * InvalidBucketState), so a bucket created here gets it, and one created earlier keeps versioning only.
 */

export interface BucketProtection {
  bucket: string;
  /** Whether this call created the bucket. */
  created: boolean;
  versioning: 'Enabled';
  objectLock: boolean;
}

export type RetentionMode = 'GOVERNANCE' | 'COMPLIANCE';

export interface Retention {
  mode: RetentionMode;
  until: Date;
}

/** Codes a server gives when it does not do Object Lock (or not on this bucket). */
const NO_OBJECT_LOCK = new Set([
  'ObjectLockConfigurationNotFoundError',
  'NotImplemented',
  'InvalidRequest',
  'InvalidBucketState',
]);

async function objectLockEnabled(client: Minio.Client, bucket: string): Promise<boolean> {
  try {
    const config = (await client.getObjectLockConfig(bucket)) as { objectLockEnabled?: string } | undefined;
    return config?.objectLockEnabled === 'Enabled';
  } catch (error) {
    if (NO_OBJECT_LOCK.has(s3ErrorCode(error))) return false;
    throw error;
  }
}

/** Create-if-absent with Object Lock (falling back to a plain bucket on a server without it), then versioning on. */
export async function ensureRetainingBucket(
  client: Minio.Client,
  bucket: string,
  region: string,
): Promise<BucketProtection> {
  let created = false;
  if (!(await client.bucketExists(bucket))) {
    try {
      await client.makeBucket(bucket, region, { ObjectLocking: true });
      created = true;
    } catch (error) {
      const code = s3ErrorCode(error);
      if (code === 'BucketAlreadyOwnedByYou') {
        // Another writer created it first; what it has is read below.
      } else if (NO_OBJECT_LOCK.has(code)) {
        await client.makeBucket(bucket, region);
        created = true;
      } else {
        throw error;
      }
    }
  }
  const versioning = (await client.getBucketVersioning(bucket)) as { Status?: string } | undefined;
  if (versioning?.Status !== 'Enabled') await client.setBucketVersioning(bucket, { Status: 'Enabled' });
  return { bucket, created, versioning: 'Enabled', objectLock: await objectLockEnabled(client, bucket) };
}

/**
 * One PUT with Content-MD5 (S3 requires it with retention) and, when given, the object's retention. minio-js's
 * putObject would turn the lock headers into user metadata, hence the raw request. Returns the version id.
 */
export async function putRetainedObject(
  client: Minio.Client,
  bucket: string,
  key: string,
  body: Buffer,
  options: { contentType: string; retention?: Retention },
): Promise<string | null> {
  const headers: Record<string, string> = {
    'Content-Type': options.contentType,
    'Content-Length': String(body.length),
    'Content-MD5': createHash('md5').update(body).digest('base64'),
  };
  if (options.retention) {
    headers['x-amz-object-lock-mode'] = options.retention.mode;
    headers['x-amz-object-lock-retain-until-date'] = options.retention.until.toISOString();
  }
  const response = await client.makeRequestAsync(
    { method: 'PUT', bucketName: bucket, objectName: key, headers },
    body,
    [200],
  );
  response.resume();
  const version = response.headers['x-amz-version-id'];
  return typeof version === 'string' && version !== 'null' ? version : null;
}

/** Keys under `prefix` (current versions only), sorted; none when the bucket does not exist. */
export async function listObjectKeys(
  client: Minio.Client,
  bucket: string,
  prefix: string,
): Promise<string[]> {
  if (!(await client.bucketExists(bucket))) return [];
  const items = await collectStream<{ name?: string }>(client.listObjectsV2(bucket, prefix, true));
  return items.flatMap(({ name }) => (name === undefined ? [] : [name])).sort();
}

/** The whole object, or null when it is absent; for small documents only. */
export async function readSmallObject(
  client: Minio.Client,
  bucket: string,
  key: string,
  maxBytes = 64 * 1024 * 1024,
): Promise<Buffer | null> {
  let stream: Readable;
  try {
    stream = await client.getObject(bucket, key);
  } catch (error) {
    const code = s3ErrorCode(error);
    if (code === 'NoSuchKey' || code === 'NotFound' || code === 'NoSuchBucket') return null;
    throw error;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) {
      stream.destroy();
      throw new Error(`s3://${bucket}/${key} is larger than ${maxBytes} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
