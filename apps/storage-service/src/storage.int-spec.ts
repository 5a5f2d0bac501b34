import { createHash, randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { bucketName, storageSecretPath, storageUserName, type TenantProfile } from '@app/contracts';
import {
  ARCHIVE_PART_SIZE,
  createS3Client,
  parseLifecycleXml,
  renderLifecycleXml,
  S3BackupTarget,
  s3EndpointFrom,
  s3ErrorCode,
} from '@app/archive';
import { loadConfig, StepError } from '@app/platform';
import { EncryptedPostgresSecretStore } from '@app/secrets';
import type * as Minio from 'minio';
import { Pool as PgPool } from 'pg';
import { S3ObjectStore } from './adapters/object-store';
import { RgwAdminIam } from './adapters/rgw-admin.iam';
import { configSchema } from './config';
import { productsLifecycleRules } from './domain/lifecycle';
import { storageManifestSchema } from './domain/manifest';
import { createHandlers as createStorageHandlers } from './commands';
import { runner, testTenant } from '@app/testing';

const config = loadConfig(configSchema, process.env);
const PG_URL = process.env.SECRET_STORE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

async function text(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function s3Code(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'OK';
  } catch (error) {
    return s3ErrorCode(error);
  }
}

async function stepError(promise: Promise<unknown>): Promise<StepError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof StepError) return error;
    throw error;
  }
  throw new Error('expected a StepError');
}

function anonymousGet(bucket: string, key: string): Promise<Response> {
  return fetch(`${config.S3_ENDPOINT}/${bucket}/${key}`);
}

describe('storage-service handlers (real Ceph RADOS Gateway)', () => {
  const suffix = randomBytes(3).toString('hex');
  const archiveBucket = `test-archive-${suffix}`;
  const tenants: TenantProfile[] = [];
  const admin = createS3Client(s3EndpointFrom(config), ARCHIVE_PART_SIZE);
  const store = new S3ObjectStore(admin, config.S3_REGION);
  const iam = new RgwAdminIam({
    endpoint: config.S3_ENDPOINT,
    region: config.S3_REGION,
    credentials: { accessKey: config.S3_ADMIN_ACCESS_KEY, secretKey: config.S3_ADMIN_SECRET_KEY },
  });
  const archive = new S3BackupTarget(admin, archiveBucket, config.S3_REGION, 'STANDARD', 0);
  const pg = new PgPool({ connectionString: PG_URL, max: 2 });
  const schema = `test_storage_${suffix}`;
  const secrets = new EncryptedPostgresSecretStore({ pool: pg, schema, key: randomBytes(32) });
  const tenantClient = (accessKey: string, secretKey: string): Minio.Client =>
    createS3Client({ endpoint: config.S3_ENDPOINT, region: config.S3_REGION, accessKey, secretKey });
  const handlers = createStorageHandlers({
    store,
    iam,
    secrets,
    archive,
    tenantClient,
    endpoint: config.S3_ENDPOINT,
    tenantEndpoint: 'minio.e-commerce-shared.svc.cluster.local:9000',
    tenantUseSsl: false,
    storageClass: 'STANDARD',
  });
  const run = runner(handlers);
  let before: { buckets: string[]; users: string[] };

  const ours = (name: string) => name === archiveBucket || tenants.some((t) => name.startsWith(t.tenantId));
  async function snapshot() {
    return {
      buckets: (await store.listBuckets()).filter(ours),
      users: (await iam.listUsers()).filter(ours),
    };
  }
  function newTenant(): TenantProfile {
    const tenant = testTenant('Test Co');
    tenants.push(tenant);
    return tenant;
  }
  async function clientOf(tenant: TenantProfile): Promise<Minio.Client> {
    const stored = await secrets.get(storageSecretPath(tenant.tenantId));
    if (!stored) throw new Error('no secret');
    return tenantClient(stored.MINIO_ACCESS_KEY, stored.MINIO_SECRET_KEY);
  }

  beforeAll(async () => {
    try {
      await fetch(config.S3_ENDPOINT, { signal: AbortSignal.timeout(3000) });
    } catch {
      throw new Error(
        `The S3 server (Ceph RGW) is not reachable at ${config.S3_ENDPOINT}: start it with \`bash scripts/rgw.sh start\``,
      );
    }
    before = await snapshot();
  });

  afterAll(async () => {
    for (const tenant of tenants) await run('RemoveStorage', tenant, {}).catch(() => undefined);
    await store.removeBucket(archiveBucket).catch(() => undefined);
    const after = await snapshot().catch(() => null);
    await pg.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pg.end();
    // Checked here too so a failing test in the middle still proves the cleanup.
    expect(after).toEqual(before);
  });

  const a = newTenant();
  const b = newTenant();

  it('provisions three versioned buckets, the 30-day lifecycle, the user, the policy and the secret (idempotent)', async () => {
    const first = await run('ProvisionStorage', a, {});
    const secretAfterFirst = await secrets.get(storageSecretPath(a.tenantId));
    const second = await run('ProvisionStorage', a, {});
    expect(second).toEqual(first);
    expect(await secrets.get(storageSecretPath(a.tenantId))).toEqual(secretAfterFirst);
    expect(first).toMatchObject({
      buckets: [`${a.tenantId}-products`, `${a.tenantId}-sav`, `${a.tenantId}-newsletters`],
      userName: `${a.tenantId}-app-user`,
      secretPath: `/e-commerce/tenants/${a.tenantId}/minio`,
      iam: 'rgw',
    });
    expect(JSON.stringify(first)).not.toContain(secretAfterFirst?.MINIO_SECRET_KEY);

    for (const kind of ['products', 'sav', 'newsletters'] as const) {
      const bucket = bucketName(a.tenantId, kind);
      expect(await store.bucketExists(bucket)).toBe(true);
      expect(await store.versioningStatus(bucket)).toBe('Enabled');
    }
    const lifecycle = parseLifecycleXml(
      (await store.getLifecycleXml(bucketName(a.tenantId, 'products'))) ?? '',
    );
    // Old versions go after 30 days, live objects never (RGW keeps the rules, in id order).
    expect(lifecycle).toEqual([
      { id: 'expire-noncurrent-after-30-days', noncurrentExpirationDays: 30 },
      { id: 'remove-expired-delete-markers', expiredObjectDeleteMarker: true },
    ]);
    expect(await store.getLifecycleXml(bucketName(a.tenantId, 'sav'))).toBeNull();

    const productsPolicy = JSON.parse(
      (await store.getBucketPolicy(bucketName(a.tenantId, 'products'))) ?? '{}',
    );
    expect(productsPolicy.Statement.map((s: { Sid: string }) => s.Sid)).toEqual([
      'TenantFullAccess',
      'PublicReadProducts',
    ]);
    expect(productsPolicy.Statement[0].Principal).toEqual({
      AWS: [`arn:aws:iam:::user/${a.tenantId}-app-user`],
    });
    const savPolicy = JSON.parse((await store.getBucketPolicy(bucketName(a.tenantId, 'sav'))) ?? '{}');
    expect(savPolicy.Statement.map((s: { Sid: string }) => s.Sid)).toEqual(['TenantFullAccess']);

    expect(await iam.userExists(storageUserName(a.tenantId))).toBe(true);
    expect(Object.keys(secretAfterFirst ?? {}).sort()).toEqual([
      'MINIO_ACCESS_KEY',
      'MINIO_BUCKET_NEWSLETTERS',
      'MINIO_BUCKET_PRODUCTS',
      'MINIO_BUCKET_SAV',
      'MINIO_ENDPOINT',
      'MINIO_SECRET_KEY',
      'MINIO_USE_SSL',
    ]);
    expect(secretAfterFirst).toMatchObject({
      MINIO_ENDPOINT: 'minio.e-commerce-shared.svc.cluster.local:9000',
      MINIO_ACCESS_KEY: `${a.tenantId}-app-user`,
      MINIO_USE_SSL: 'false',
      MINIO_BUCKET_PRODUCTS: `${a.tenantId}-products`,
    });
  });

  it('verifies the buckets as the tenant and leaves no probe behind', async () => {
    const outputs = await run('VerifyStorage', a, {});
    expect(outputs).toMatchObject({ tenantReadWrite: true, versioning: 'Enabled' });
    for (const kind of ['products', 'sav', 'newsletters'] as const) {
      expect(await store.listVersions(bucketName(a.tenantId, kind))).toEqual([]);
    }
  });

  it("refuses to verify a bucket carrying the spec's literal rule (live objects expire), and provision repairs it", async () => {
    const products = bucketName(a.tenantId, 'products');
    // What earlier versions of this service put: current objects expire 30 days after they were written.
    await store.putLifecycleXml(
      products,
      renderLifecycleXml([
        { id: 'expire-after-30-days', expirationDays: 30 },
        { id: 'remove-expired-delete-markers', expiredObjectDeleteMarker: true },
      ]),
    );
    const refused = await stepError(run('VerifyStorage', a, {}));
    expect(refused.code).toBe('STORAGE.LIFECYCLE_EXPIRES_CURRENT_OBJECTS');
    expect(refused.retryable).toBe(false);
    expect(refused.message).toContain('expire-after-30-days');

    await run('ProvisionStorage', a, {});
    expect(parseLifecycleXml((await store.getLifecycleXml(products)) ?? '')).toEqual(
      productsLifecycleRules(),
    );
    await expect(run('VerifyStorage', a, {})).resolves.toMatchObject({ tenantReadWrite: true });

    await store.putLifecycleXml(
      products,
      renderLifecycleXml([{ id: 'remove-expired-delete-markers', expiredObjectDeleteMarker: true }]),
    );
    expect((await stepError(run('VerifyStorage', a, {}))).code).toBe('STORAGE.LIFECYCLE_MISSING');
    await run('ProvisionStorage', a, {});
  });

  it('enforces the policy: own buckets read/write, other tenant refused, anonymous only under products/public/', async () => {
    await run('ProvisionStorage', b, {});
    const clientA = await clientOf(a);
    const clientB = await clientOf(b);
    const products = bucketName(a.tenantId, 'products');
    const sav = bucketName(a.tenantId, 'sav');
    await clientA.putObject(products, 'public/logo.txt', Buffer.from('logo'));
    await clientA.putObject(products, 'catalog/item.txt', Buffer.from('item'));
    await clientA.putObject(sav, 'ticket.txt', Buffer.from('ticket'));
    expect(await text(await clientA.getObject(sav, 'ticket.txt'))).toBe('ticket');
    expect((await S3ObjectStore.listLatest(clientA, products)).map((o) => o.key)).toEqual([
      'catalog/item.txt',
      'public/logo.txt',
    ]);

    expect(await s3Code(clientB.getObject(sav, 'ticket.txt'))).toBe('AccessDenied');
    expect(await s3Code(clientB.putObject(sav, 'intruder.txt', Buffer.from('x')))).toBe('AccessDenied');
    expect(await s3Code(S3ObjectStore.listLatest(clientB, products))).toBe('AccessDenied');

    const publicRead = await anonymousGet(products, 'public/logo.txt');
    expect(publicRead.status).toBe(200);
    expect(await publicRead.text()).toBe('logo');
    expect((await anonymousGet(products, 'catalog/item.txt')).status).toBe(403);
    expect((await anonymousGet(sav, 'ticket.txt')).status).toBe(403);
    expect(
      (await fetch(`${config.S3_ENDPOINT}/${products}/public/x.txt`, { method: 'PUT', body: 'x' })).status,
    ).toBe(403);
    expect((await fetch(`${config.S3_ENDPOINT}/${products}?list-type=2`)).status).toBe(403);
  });

  let manifestKey = '';
  it('mirrors the latest version of every object to the archive with a sha256 manifest, and verifies it', async () => {
    const clientA = await clientOf(a);
    const newsletters = bucketName(a.tenantId, 'newsletters');
    await clientA.putObject(newsletters, 'issues/2025-06.html', Buffer.from('<p>old</p>'));
    await clientA.putObject(newsletters, 'issues/2025-06.html', Buffer.from('<p>new</p>'));
    const big = randomBytes(6 * 1024 * 1024 + 123);
    await clientA.putObject(newsletters, 'big.bin', big);
    // An ordinary product image name the archive's key alphabet refuses as it is: archived escaped.
    const accented = 'catalog/cr\u00e8me+br\u00fbl\u00e9e.jpg';
    const accentedArchiveKey = `${a.tenantId}/minio/products/catalog/cr!C3!A8me!2Bbr!C3!BBl!C3!A9e.jpg`;
    await clientA.putObject(bucketName(a.tenantId, 'products'), accented, Buffer.from('flan'));

    manifestKey = `${a.tenantId}/minio/manifest-bk1.json`;
    const outputs = await run('BackupStorage', a, { backupId: 'bk1' });
    expect(outputs).toMatchObject({
      manifestKey,
      archiveBucket,
      objectCount: 6,
      totalBytes: 4 + 4 + 6 + 4 + '<p>new</p>'.length + big.length,
    });
    // The archive bucket drops the parts of uploads a killed backup never completed (RGW accepts the rule).
    const archiveRules = parseLifecycleXml((await store.getLifecycleXml(archiveBucket)) ?? '');
    expect(archiveRules).toContainEqual({ id: 'abort-incomplete-uploads', abortIncompleteUploadDays: 1 });
    const manifest = storageManifestSchema.parse(
      JSON.parse(await text(await archive.getObject(manifestKey))),
    );
    expect(manifest.objects.map((o) => o.archiveKey).sort()).toEqual(
      [
        `${a.tenantId}/minio/newsletters/big.bin`,
        `${a.tenantId}/minio/newsletters/issues/2025-06.html`,
        accentedArchiveKey,
        `${a.tenantId}/minio/products/catalog/item.txt`,
        `${a.tenantId}/minio/products/public/logo.txt`,
        `${a.tenantId}/minio/sav/ticket.txt`,
      ].sort(),
    );
    expect(await text(await archive.getObject(`${a.tenantId}/minio/newsletters/issues/2025-06.html`))).toBe(
      '<p>new</p>',
    );
    expect(manifest.objects.find((o) => o.key === accented)?.archiveKey).toBe(accentedArchiveKey);
    expect(await text(await archive.getObject(accentedArchiveKey))).toBe('flan');
    const bigEntry = manifest.objects.find((o) => o.key === 'big.bin');
    expect(bigEntry?.sha256).toBe(createHash('sha256').update(big).digest('hex'));
    expect(await archive.listObjects(`${a.tenantId}/minio/sav/`)).toEqual([
      `${a.tenantId}/minio/sav/ticket.txt`,
    ]);

    expect(await run('VerifyStorageBackup', a, { backupId: 'bk1', manifestKey })).toMatchObject({
      verifiedObjects: 6,
    });
  });

  it('detects a corrupted or missing archived object (permanent STORAGE.BACKUP_CORRUPTED)', async () => {
    await archive.putObject(`${a.tenantId}/minio/sav/ticket.txt`, Buffer.from('tampered'));
    const corrupted = await stepError(run('VerifyStorageBackup', a, { backupId: 'bk1', manifestKey }));
    expect(corrupted.code).toBe('STORAGE.BACKUP_CORRUPTED');
    expect(corrupted.retryable).toBe(false);
    expect(corrupted.message).toContain('sav/ticket.txt (size)');

    await archive.putObject(`${a.tenantId}/minio/sav/ticket.txt`, Buffer.from('tickeT'));
    expect(
      (await stepError(run('VerifyStorageBackup', a, { backupId: 'bk1', manifestKey }))).message,
    ).toContain('(sha256)');

    await admin.removeObject(archiveBucket, `${a.tenantId}/minio/products/catalog/item.txt`);
    const missing = await stepError(run('VerifyStorageBackup', a, { backupId: 'bk1', manifestKey }));
    expect(missing.code).toBe('STORAGE.BACKUP_CORRUPTED');
    expect(missing.message).toContain('catalog/item.txt (missing)');

    const noManifest = await stepError(
      run('VerifyStorageBackup', a, {
        backupId: 'bk2',
        manifestKey: `${a.tenantId}/minio/manifest-bk2.json`,
      }),
    );
    expect(noManifest.code).toBe('STORAGE.BACKUP_MANIFEST_MISSING');
    const wrongKey = await stepError(
      run('VerifyStorageBackup', a, { backupId: 'bk1', manifestKey: 'elsewhere.json' }),
    );
    expect(wrongKey.code).toBe('STORAGE.BACKUP_MANIFEST_KEY_MISMATCH');
  });

  it('removes every version and delete marker, the buckets, the user and the secret; absent is success', async () => {
    const clientA = await clientOf(a);
    const sav = bucketName(a.tenantId, 'sav');
    await clientA.removeObject(sav, 'ticket.txt'); // leaves a delete marker on a versioned bucket
    const versions = await store.listVersions(sav);
    expect(versions.some((v) => v.isDeleteMarker)).toBe(true);

    const outputs = await run('RemoveStorage', a, {});
    expect(outputs.removedObjectVersions).toBeGreaterThanOrEqual(7);
    for (const kind of ['products', 'sav', 'newsletters'] as const) {
      expect(await store.bucketExists(bucketName(a.tenantId, kind))).toBe(false);
    }
    expect(await iam.userExists(storageUserName(a.tenantId))).toBe(false);
    expect(await secrets.get(storageSecretPath(a.tenantId))).toBeUndefined();
    expect(await run('RemoveStorage', a, {})).toMatchObject({ removedObjectVersions: 0 });

    const afterRemoval = await stepError(run('VerifyStorage', a, {}));
    expect(afterRemoval.code).toBe('STORAGE.BUCKET_MISSING');
  });

  it('provision -> verify -> remove leaves the server as it was', async () => {
    const c = newTenant();
    const start = await snapshot();
    await run('ProvisionStorage', c, {});
    await run('VerifyStorage', c, {});
    const during = await snapshot();
    expect(during.buckets.filter((n) => n.startsWith(c.tenantId))).toHaveLength(3);
    expect(during.users).toContain(`${c.tenantId}-app-user`);
    await run('RemoveStorage', c, {});
    expect(await snapshot()).toEqual(start);
  });
});
