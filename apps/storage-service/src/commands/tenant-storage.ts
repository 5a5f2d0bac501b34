import { BUCKET_KINDS, bucketName, storageSecretPath, storageUserName, type Tier } from '@app/contracts';
import { permanent } from '@app/platform';
import { storageQuotaOf } from '@app/plans';
import { withSecretStore } from '@app/secrets';
import { withObjectStore } from '../adapters/step-errors';
import type { StorageHandlerDeps } from './deps';

/** The key of the tenant's secret that holds its S3 secret key. */
export const MINIO_SECRET_KEY = 'MINIO_SECRET_KEY';

/** One secret-store call, classified by `@app/secrets` for every service alike. */
export function secretCall<T>(action: string, path: string, run: () => Promise<T>): Promise<T> {
  return withSecretStore('STORAGE', action, path, run);
}

/**
 * A hard quota on each bucket (they are owned by the control plane's account, so only bucket quotas count
 * what the tenant writes there) and, where the server has them, on the tenant's user (what it might own
 * itself). PUT semantics; a quota below current use refuses only further writes.
 */
export async function applyQuota(
  deps: StorageHandlerDeps,
  tenantId: string,
  tier: Tier,
): Promise<{
  userQuota: { maxSizeBytes: number; maxObjects: number } | null;
  bucketQuotaBytes: Record<string, number>;
}> {
  const quota = storageQuotaOf(tier);
  const userName = storageUserName(tenantId);
  await withObjectStore('STORAGE.QUOTA_FAILED', `quota of user ${userName}`, () =>
    deps.iam.setUserQuota(userName, quota.user),
  );
  for (const kind of BUCKET_KINDS) {
    const bucket = bucketName(tenantId, kind);
    await withObjectStore('STORAGE.QUOTA_FAILED', `quota of bucket ${bucket}`, () =>
      deps.iam.setBucketQuota(bucket, quota.buckets[kind]),
    );
  }
  return {
    userQuota: deps.iam.userQuotas ? quota.user : null,
    bucketQuotaBytes: Object.fromEntries(
      BUCKET_KINDS.map((kind) => [bucketName(tenantId, kind), quota.buckets[kind]]),
    ),
  };
}

/** The tenant's own S3 keys, from its stored secret. */
export async function tenantCredentials(
  deps: StorageHandlerDeps,
  tenantId: string,
): Promise<{ accessKey: string; secretKey: string }> {
  const secretPath = storageSecretPath(tenantId);
  const stored = await secretCall('read', secretPath, () => deps.secrets.get(secretPath));
  const secretKey = stored?.[MINIO_SECRET_KEY];
  if (!secretKey) throw permanent('STORAGE.CREDENTIALS_MISSING', `no storage credentials at ${secretPath}`);
  return { accessKey: storageUserName(tenantId), secretKey };
}
