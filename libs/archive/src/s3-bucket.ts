import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type * as Minio from 'minio';
import { s3ErrorCode } from './s3-client';

/** The bucket operations an archive writer needs, shared with the storage-service's bucket administration. */

export interface ObjectSummary {
  key: string;
  size: number;
  etag: string;
}

async function readAll(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export function collectStream<T>(stream: NodeJS.ReadableStream): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const out: T[] = [];
    stream.on('data', (item: T) => out.push(item));
    stream.on('end', () => resolve(out));
    stream.on('error', reject);
  });
}

/** Create-if-absent. */
export async function ensureBucket(client: Minio.Client, bucket: string, region: string): Promise<void> {
  if (await client.bucketExists(bucket)) return;
  try {
    await client.makeBucket(bucket, region);
  } catch (error) {
    if (s3ErrorCode(error) !== 'BucketAlreadyOwnedByYou') throw error;
  }
}

/** PUT ?lifecycle with our own XML (minio-js's typed builder cannot express ExpiredObjectDeleteMarker). */
export async function putLifecycleXml(client: Minio.Client, bucket: string, xml: string): Promise<void> {
  const md5 = createHash('md5').update(xml).digest('base64');
  const res = await client.makeRequestAsync(
    { method: 'PUT', bucketName: bucket, query: 'lifecycle', headers: { 'Content-MD5': md5 } },
    xml,
    [200],
  );
  res.resume();
}

export async function getLifecycleXml(client: Minio.Client, bucket: string): Promise<string | null> {
  try {
    return await readAll(
      await client.makeRequestAsync({ method: 'GET', bucketName: bucket, query: 'lifecycle' }),
    );
  } catch (error) {
    if (s3ErrorCode(error) === 'NoSuchLifecycleConfiguration') return null;
    throw error;
  }
}

/** Latest versions only (what `mc mirror` copies). */
export async function listLatest(
  client: Minio.Client,
  bucket: string,
  prefix = '',
): Promise<ObjectSummary[]> {
  type Item = { name?: string; size?: number; etag?: string };
  const items = await collectStream<Item>(client.listObjects(bucket, prefix, true));
  return items
    .filter((i) => i.name !== undefined)
    .map((i) => ({ key: i.name as string, size: i.size ?? 0, etag: i.etag ?? '' }));
}
