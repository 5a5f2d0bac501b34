import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { loadConfig } from '@app/platform';
import { z } from 'zod';
import { BackupObjectNotFoundError, BackupTargetError, type BackupTarget } from './backup-target.port';
import { archiveLifecycleEnv, archiveS3Env, s3BackupTargetFrom, s3EndpointFrom } from './env';
import { FilesystemBackupTarget } from './filesystem.backup-target';
import { archiveLifecycleRules, parseLifecycleXml, renderLifecycleXml } from './lifecycle';
import { collectStream, getLifecycleXml, listLatest, putLifecycleXml } from './s3-bucket';
import { ARCHIVE_PART_SIZE, createS3Client } from './s3-client';

/**
 * One contract, run against each BackupTarget adapter: a directory, and the archive bucket's S3 adapter on
 * the real RGW (a bucket unique to this run). The database-service and the storage-service rely on exactly
 * this: whole objects or nothing, streaming reads, sorted listings, a typed error for a missing key.
 */

async function bytes(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');

interface Adapter {
  target: BackupTarget;
  /** Uploads started and never completed (S3 only: a directory has none once its writer is gone). */
  incompleteUploads(prefix: string): Promise<string[]>;
  remove(): Promise<void>;
}

const config = loadConfig(z.object({ ...archiveS3Env(), ...archiveLifecycleEnv() }), {
  ...process.env,
  STORAGE_ARCHIVE_BUCKET: `test-archive-contract-${randomBytes(4).toString('hex')}`,
  STORAGE_ARCHIVE_RETENTION_DAYS: '7',
});
const s3 = createS3Client(s3EndpointFrom(config), ARCHIVE_PART_SIZE);

const adapters: [string, () => Promise<Adapter>][] = [
  [
    'FilesystemBackupTarget (a directory)',
    async () => {
      const dir = await mkdtemp(join(tmpdir(), 'backup-contract-'));
      return {
        target: new FilesystemBackupTarget(dir),
        incompleteUploads: async () => [],
        remove: () => rm(dir, { recursive: true, force: true }),
      };
    },
  ],
  [
    'S3BackupTarget (real Ceph RGW)',
    async () => {
      const bucket = config.STORAGE_ARCHIVE_BUCKET;
      return {
        target: s3BackupTargetFrom(config, { retentionDays: config.STORAGE_ARCHIVE_RETENTION_DAYS }),
        incompleteUploads: async (prefix) =>
          (await collectStream<{ key: string }>(s3.listIncompleteUploads(bucket, prefix, true))).map(
            (u) => u.key,
          ),
        remove: async () => {
          if (!(await s3.bucketExists(bucket))) return;
          for (const { key } of await listLatest(s3, bucket)) await s3.removeObject(bucket, key);
          for (const upload of await collectStream<{ key: string; uploadId: string }>(
            s3.listIncompleteUploads(bucket, '', true),
          ))
            await s3.abortMultipartUpload(bucket, upload.key, upload.uploadId);
          await s3.removeBucket(bucket);
        },
      };
    },
  ],
];

describe.each(adapters)('BackupTarget contract: %s', (_name, create) => {
  let adapter: Adapter;
  let target: BackupTarget;
  const tenant = `contract-${randomBytes(3).toString('hex')}`;

  beforeAll(async () => {
    adapter = await create();
    target = adapter.target;
  });

  afterAll(async () => {
    await adapter?.remove();
  });

  it('lists nothing and reports a missing key before anything was written', async () => {
    expect(await target.listObjects(`${tenant}/`)).toEqual([]);
    await expect(target.getObject(`${tenant}/databases/none.sql.gz`)).rejects.toBeInstanceOf(
      BackupObjectNotFoundError,
    );
  });

  it('writes buffers and streams, reads them back as streams, lists keys sorted under a prefix', async () => {
    const dump = randomBytes(200_000);
    await target.putObject(`${tenant}/databases/b_final_20250715.sql.gz`, Readable.from([dump]), {
      contentType: 'application/gzip',
    });
    await target.putObject(`${tenant}/databases/a_final_20250715.sql.gz`, Buffer.from('small'));
    await target.putObject(`${tenant}/databases/manifest_bk1.json`, Buffer.from('{}'), {
      contentType: 'application/json',
    });
    await target.putObject(`${tenant}x/databases/other.json`, Buffer.from('{}'));

    const read = await target.getObject(`${tenant}/databases/b_final_20250715.sql.gz`);
    expect(read).toBeInstanceOf(Readable);
    expect(sha(await bytes(read))).toBe(sha(dump));
    expect(await target.listObjects(`${tenant}/`)).toEqual([
      `${tenant}/databases/a_final_20250715.sql.gz`,
      `${tenant}/databases/b_final_20250715.sql.gz`,
      `${tenant}/databases/manifest_bk1.json`,
    ]);
    await target.putObject(`${tenant}/databases/a_final_20250715.sql.gz`, Buffer.from('replaced'));
    expect(
      (await bytes(await target.getObject(`${tenant}/databases/a_final_20250715.sql.gz`))).toString(),
    ).toBe('replaced');
  });

  it('shows an object only once complete: a stream larger than one part, held open mid-way', async () => {
    const key = `${tenant}/databases/big_final_20250715.sql.gz`;
    const previous = `${tenant}/databases/a_final_20250715.sql.gz`;
    const data = randomBytes(ARCHIVE_PART_SIZE + 1_500_000);
    const source = new PassThrough();
    const writing = target.putObject(key, source);
    const writingPrevious = target.putObject(previous, Readable.from([Buffer.from('new version')]));
    source.write(data.subarray(0, ARCHIVE_PART_SIZE + 1_000_000));
    await writingPrevious;
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await target.listObjects(`${tenant}/databases/big`)).toEqual([]);
    await expect(target.getObject(key)).rejects.toBeInstanceOf(BackupObjectNotFoundError);
    source.end(data.subarray(ARCHIVE_PART_SIZE + 1_000_000));
    await writing;
    expect(sha(await bytes(await target.getObject(key)))).toBe(sha(data));
    expect(await adapter.incompleteUploads(`${tenant}/`)).toEqual([]);
  });

  it('rejects with the source error when the stream fails, keeping what the key held before', async () => {
    const key = `${tenant}/databases/a_final_20250715.sql.gz`;
    const before = await bytes(await target.getObject(key));
    for (const size of [1_000, ARCHIVE_PART_SIZE + 1_000]) {
      const source = new PassThrough();
      const writing = target.putObject(key, source);
      source.write(randomBytes(size));
      setTimeout(() => source.destroy(new Error('dump failed: server has gone away')), 300);
      await expect(writing).rejects.toThrow('server has gone away');
      expect(await bytes(await target.getObject(key))).toEqual(before);
    }
    const fresh = `${tenant}/databases/never_final_20250715.sql.gz`;
    const source = new PassThrough();
    const writing = target.putObject(fresh, source);
    source.write(randomBytes(ARCHIVE_PART_SIZE + 1_000));
    setTimeout(() => source.destroy(new Error('killed')), 300);
    await expect(writing).rejects.toThrow('killed');
    expect(await target.listObjects(`${tenant}/databases/never`)).toEqual([]);
    // The parts already sent are aborted at once, not left for the lifecycle rule.
    expect(await adapter.incompleteUploads(`${tenant}/`)).toEqual([]);
  });

  it('rejects when the source fails before the target starts reading it (no unhandled stream error)', async () => {
    // A dump that dies while the target still prepares (directory, bucket checks): its 'error' comes before any
    // reader is attached. Unheard, it would be an uncaught exception that takes the whole service down.
    const key = `${tenant}/databases/early_final_20250715.sql.gz`;
    const source = new PassThrough();
    const writing = target.putObject(key, source);
    source.destroy(new Error('dump failed at once'));
    await expect(writing).rejects.toThrow('dump failed at once');
    expect(await target.listObjects(`${tenant}/databases/early`)).toEqual([]);
  });

  it('refuses keys that could leave the prefix, with a typed error', async () => {
    for (const key of ['../etc/passwd', `${tenant}/../other/x`, '']) {
      await expect(target.putObject(key, Buffer.from('x'))).rejects.toMatchObject({
        code: 'BACKUP.INVALID_KEY',
      });
      await expect(target.getObject(key)).rejects.toBeInstanceOf(BackupTargetError);
    }
  });
});

describe('S3BackupTarget bucket set-up (real Ceph RGW)', () => {
  const suffix = randomBytes(4).toString('hex');
  const bucket = `test-archive-setup-${suffix}`;
  const shared = `test-archive-shared-${suffix}`;
  const cold = `test-archive-cold-${suffix}`;

  afterAll(async () => {
    for (const name of [bucket, shared, cold]) {
      if (!(await s3.bucketExists(name))) continue;
      for (const { key } of await listLatest(s3, name)) await s3.removeObject(name, key);
      await s3.removeBucket(name);
    }
  });

  it('creates the bucket with the retention and abort-incomplete-uploads rules, once per process', async () => {
    const target = s3BackupTargetFrom(
      { ...config, STORAGE_ARCHIVE_BUCKET: bucket },
      { retentionDays: config.STORAGE_ARCHIVE_RETENTION_DAYS },
    );
    await Promise.all([target.ensureBucket(), target.ensureBucket()]);
    expect(parseLifecycleXml((await getLifecycleXml(s3, bucket)) ?? '')).toEqual([
      { id: 'abort-incomplete-uploads', abortIncompleteUploadDays: 1 },
      { id: 'archive-retention', expirationDays: 7 },
    ]);
    expect(await target.listObjects('')).toEqual([]);
  });

  it('writes backups readable, and puts the cold transition as a lifecycle rule RGW accepts and reads back', async () => {
    const transition = { storageClass: 'DEEP_ARCHIVE', days: 30 };
    const target = s3BackupTargetFrom(
      { ...config, STORAGE_ARCHIVE_BUCKET: cold },
      { retentionDays: 365, transition },
    );
    await target.putObject('tenant-a/minio/manifest-bk1.json', Buffer.from('{}'));
    const stored = (await getLifecycleXml(s3, cold)) ?? '';
    expect(stored).toContain(
      '<Transition><Days>30</Days><StorageClass>DEEP_ARCHIVE</StorageClass></Transition>',
    );
    expect(parseLifecycleXml(stored)).toEqual(archiveLifecycleRules(365, transition));
    // Written in STANDARD, so the verification reads it back at once; the lifecycle moves it later.
    expect((await s3.statObject(cold, 'tenant-a/minio/manifest-bk1.json')).metaData).toMatchObject({
      'x-amz-storage-class': 'STANDARD',
    });
    expect((await bytes(await target.getObject('tenant-a/minio/manifest-bk1.json'))).toString()).toBe('{}');
  });

  it("leaves the owner's rules alone when written by another service (the database-service's dumps)", async () => {
    // Without retentionDays (the database-service's target): the bucket is created if missing, with no rules.
    const writer = s3BackupTargetFrom({ ...config, STORAGE_ARCHIVE_BUCKET: shared });
    await writer.putObject('tenant-a/databases/a_final_20250715.sql.gz', Buffer.from('dump'));
    expect(await getLifecycleXml(s3, shared)).toBeNull();

    // The owner keeps archives forever (retention 0); a fresh writer process putting a dump keeps that.
    const owner = s3BackupTargetFrom({ ...config, STORAGE_ARCHIVE_BUCKET: shared }, { retentionDays: 0 });
    await owner.putObject('tenant-a/minio/manifest.json', Buffer.from('{}'));
    const rules = parseLifecycleXml((await getLifecycleXml(s3, shared)) ?? '');
    expect(rules).toEqual(archiveLifecycleRules(0));
    const restarted = s3BackupTargetFrom({ ...config, STORAGE_ARCHIVE_BUCKET: shared });
    await restarted.putObject('tenant-b/databases/b_final_20250715.sql.gz', Buffer.from('dump'));
    expect(parseLifecycleXml((await getLifecycleXml(s3, shared)) ?? '')).toEqual(rules);

    // Rules set by hand (not ours at all) are left alone too.
    const manual = renderLifecycleXml([{ id: 'operator-rule', expirationDays: 3650 }]);
    await putLifecycleXml(s3, shared, manual);
    await s3BackupTargetFrom({ ...config, STORAGE_ARCHIVE_BUCKET: shared }).putObject(
      'tenant-c/databases/c_final_20250715.sql.gz',
      Buffer.from('dump'),
    );
    expect(parseLifecycleXml((await getLifecycleXml(s3, shared)) ?? '')).toEqual([
      { id: 'operator-rule', expirationDays: 3650 },
    ]);
  });
});
