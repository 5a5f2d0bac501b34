import { randomBytes } from 'node:crypto';
import { bucketName, storageSecretPath, storageUserName, type Tier } from '@app/contracts';
import { ARCHIVE_PART_SIZE, createS3Client, S3BackupTarget, s3EndpointFrom, s3ErrorCode } from '@app/archive';
import { loadConfig } from '@app/platform';
import { EncryptedPostgresSecretStore } from '@app/secrets';
import { runner, testTenant } from '@app/testing';
import { Pool as PgPool } from 'pg';
import { S3ObjectStore } from './adapters/object-store';
import { RgwAdminIam } from './adapters/rgw-admin.iam';
import { SignedHttpClient } from './adapters/signed-http';
import { configSchema } from './config';
import { createHandlers as createStorageHandlers } from './commands';

const config = loadConfig(configSchema, process.env);
const PG_URL = process.env.SECRET_STORE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const GiB = 1024 ** 3;

describe("storage-service: the tier's object-store quota (real Ceph RADOS Gateway)", () => {
  const suffix = randomBytes(3).toString('hex');
  const adminKeys = {
    endpoint: config.S3_ENDPOINT,
    region: config.S3_REGION,
    credentials: { accessKey: config.S3_ADMIN_ACCESS_KEY, secretKey: config.S3_ADMIN_SECRET_KEY },
  };
  const admin = createS3Client(s3EndpointFrom(config), ARCHIVE_PART_SIZE);
  const iam = new RgwAdminIam(adminKeys);
  /** Reads the gateway's own answer, not through the adapter under test. */
  const rgw = new SignedHttpClient(adminKeys);
  const pg = new PgPool({ connectionString: PG_URL, max: 2 });
  const schema = `test_storagequota_${suffix}`;
  const secrets = new EncryptedPostgresSecretStore({ pool: pg, schema, key: randomBytes(32) });
  const tenantClient = (accessKey: string, secretKey: string) =>
    createS3Client({ endpoint: config.S3_ENDPOINT, region: config.S3_REGION, accessKey, secretKey });
  const run = runner(
    createStorageHandlers({
      store: new S3ObjectStore(admin, config.S3_REGION),
      iam,
      secrets,
      archive: new S3BackupTarget(admin, `test-archive-${suffix}`, config.S3_REGION, 'STANDARD', 0),
      tenantClient,
      endpoint: config.S3_ENDPOINT,
      tenantEndpoint: 'minio.e-commerce-shared.svc.cluster.local:9000',
      tenantUseSsl: false,
      storageClass: 'STANDARD',
    }),
  );
  const tenant = testTenant('Quota Co', { tier: 'standard' });
  const as = (tier: Tier) => ({ ...tenant, tier });

  async function userQuota(): Promise<unknown> {
    const res = await rgw.send('GET', '/admin/user', [
      ['quota', ''],
      ['uid', storageUserName(tenant.tenantId)],
      ['quota-type', 'user'],
    ]);
    expect(res.status).toBe(200);
    const { enabled, max_size, max_objects } = JSON.parse(res.body.toString('utf8')) as Record<
      string,
      unknown
    >;
    return { enabled, max_size, max_objects };
  }
  async function bucketQuotas(): Promise<Record<string, unknown>> {
    const out: Record<string, unknown> = {};
    for (const kind of ['products', 'sav', 'newsletters'] as const) {
      const res = await rgw.send('GET', '/admin/bucket', [
        ['bucket', bucketName(tenant.tenantId, kind)],
        ['format', 'json'],
      ]);
      const quota = (JSON.parse(res.body.toString('utf8')) as { bucket_quota: Record<string, unknown> })
        .bucket_quota;
      out[kind] = quota.enabled ? quota.max_size : 'none';
    }
    return out;
  }

  beforeAll(async () => {
    try {
      await fetch(config.S3_ENDPOINT, { signal: AbortSignal.timeout(3000) });
    } catch {
      throw new Error(
        `The S3 server (Ceph RGW) is not reachable at ${config.S3_ENDPOINT}: start it with \`bash scripts/rgw.sh start\``,
      );
    }
  });

  afterAll(async () => {
    await run('RemoveStorage', tenant, {}).catch(() => undefined);
    await pg.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pg.end();
  });

  it("provisions the tier's user and bucket quotas, verifies them, and a tier change changes them", async () => {
    await run('ProvisionStorage', as('standard'), {});
    expect(await userQuota()).toEqual({ enabled: true, max_size: 50 * GiB, max_objects: 1_000_000 });
    expect(await bucketQuotas()).toEqual({ products: 30 * GiB, sav: 10 * GiB, newsletters: 10 * GiB });
    await run('VerifyStorage', as('standard'), {});

    const updated = await run('UpdateStorageQuota', as('standard'), {
      fromTier: 'standard',
      toTier: 'business',
    });
    expect(updated).toMatchObject({ tier: 'business', userQuota: { maxSizeBytes: 400 * GiB } });
    expect(await userQuota()).toEqual({ enabled: true, max_size: 400 * GiB, max_objects: 8_000_000 });
    expect(await bucketQuotas()).toEqual({ products: 260 * GiB, sav: 70 * GiB, newsletters: 70 * GiB });
    await expect(run('VerifyStorage', as('standard'), {})).rejects.toMatchObject({
      code: 'STORAGE.QUOTA_MISMATCH',
      retryable: false,
    });
    await run('VerifyStorage', as('business'), {});
  });

  it("the gateway refuses the tenant's writes beyond a bucket's quota (buckets the control plane owns)", async () => {
    const stored = await secrets.get(storageSecretPath(tenant.tenantId));
    if (!stored) throw new Error('no stored credentials');
    const client = tenantClient(stored.MINIO_ACCESS_KEY, stored.MINIO_SECRET_KEY);
    const sav = bucketName(tenant.tenantId, 'sav');
    await iam.setBucketQuota(sav, 1);
    const refused = await client.putObject(sav, 'too-big.txt', Buffer.from('x'.repeat(4096))).then(
      () => 'OK',
      (error: unknown) => s3ErrorCode(error),
    );
    expect(refused).toBe('QuotaExceeded');
    await run('UpdateStorageQuota', as('business'), { fromTier: 'business', toTier: 'premium' });
    expect(await bucketQuotas()).toEqual({ products: 100 * GiB, sav: 25 * GiB, newsletters: 25 * GiB });
    await client.putObject(sav, 'fits.txt', Buffer.from('fits'));
  });

  it('fails permanently when the buckets are gone', async () => {
    await run('RemoveStorage', tenant, {});
    await expect(
      run('UpdateStorageQuota', as('premium'), { fromTier: 'premium', toTier: 'business' }),
    ).rejects.toMatchObject({ code: 'STORAGE.BUCKET_MISSING', retryable: false });
  });
});
