import {
  BACKUP_ID_PATTERN,
  BUCKET_KINDS,
  bucketName,
  type CommandMessage,
  storagePolicyName,
  storageSecretPath,
  storageUserName,
  gibibytes,
  tenantLimits,
  type BucketKind,
  type Tier,
} from '@app/contracts';
import {
  BackupObjectNotFoundError,
  isTransient,
  parseLifecycleXml,
  renderLifecycleXml,
  s3ErrorCode,
  type BackupTarget,
} from '@app/archive';
import { type CommandHandlers, permanent, retryable, StepError } from '@app/platform';
import type { SecretStore } from '@app/secrets';
import { createHash, randomBytes } from 'crypto';
import type * as Minio from 'minio';
import { PassThrough, Transform, type Readable } from 'stream';
import { pipeline } from 'stream/promises';
import { IamError, type IamPort } from './adapters/iam.port';
import { S3ObjectStore } from './adapters/object-store';
import { bucketPolicyFor, buildBucketPolicy, buildUserPolicy, PUBLIC_PREFIX } from './domain/bucket-policy';
import { secretFromRandom, storageSecretValues } from './domain/credentials';
import {
  currentObjectExpirations,
  productsLifecycleRules,
  satisfiesProductsLifecycle,
} from './domain/lifecycle';
import {
  archiveObjectKey,
  buildManifest,
  findArchiveProblems,
  manifestKey,
  storageManifestSchema,
  type ArchiveCheck,
  type ManifestEntry,
} from './domain/manifest';

export interface StorageDeps {
  store: S3ObjectStore;
  iam: IamPort;
  secrets: SecretStore;
  /** The archive bucket (its name goes into manifests). */
  archive: BackupTarget & { readonly bucket: string };
  /** Builds an S3 client with a tenant's own keys (verification and mirroring act as the tenant). */
  tenantClient(accessKey: string, secretKey: string): Minio.Client;
  /** The S3 endpoint as a URL, for anonymous reads. */
  endpoint: string;
  /** MINIO_ENDPOINT / MINIO_USE_SSL as handed to tenants. */
  tenantEndpoint: string;
  tenantUseSsl: boolean;
  storageClass: string;
  now?: () => Date;
  randomBytes?: (n: number) => Buffer;
}

const MINIO_SECRET_KEY = 'MINIO_SECRET_KEY';

/** Maps an adapter failure to a StepError with a stable code; already-typed errors pass through. */
function toStepError(code: string, what: string, error: unknown): StepError {
  if (error instanceof StepError) return error;
  if (error instanceof IamError)
    return new StepError(error.code, error.message, { retryable: error.retryable, cause: error });
  const s3 = s3ErrorCode(error);
  const message = `${what} failed${s3 ? ` (${s3})` : ''}`;
  return isTransient(error) ? retryable(code, message, error) : permanent(code, message, error);
}

async function guarded<T>(code: string, what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw toStepError(code, what, error);
  }
}

function tenantOf(command: CommandMessage): string {
  return command.data.tenant.tenantId;
}

/** sha256 and byte count of a stream as it flows through, without holding it. */
function hashingTap(): { tap: Transform; result: () => { sha256: string; size: number } } {
  const hash = createHash('sha256');
  let size = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      size += chunk.length;
      callback(null, chunk);
    },
  });
  return { tap, result: () => ({ sha256: hash.digest('hex'), size }) };
}

async function digestStream(stream: Readable): Promise<{ sha256: string; size: number }> {
  const { tap, result } = hashingTap();
  const sink = new PassThrough();
  sink.resume();
  await pipeline(stream, tap, sink);
  return result();
}

async function readText(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function objectUrl(endpoint: string, bucket: string, key: string): string {
  const base = endpoint.replace(/\/+$/, '');
  return `${base}/${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
}

/** The tier's object-store quota in the units the servers take (bytes, objects). */
export function storageQuotaOf(tier: Tier): {
  user: { maxSizeBytes: number; maxObjects: number };
  buckets: Record<BucketKind, number>;
} {
  const { maxSizeGb, maxObjects, bucketMaxSizeGb } = tenantLimits(tier).storage;
  const buckets = Object.fromEntries(
    BUCKET_KINDS.map((kind) => [kind, gibibytes(bucketMaxSizeGb[kind])]),
  ) as Record<BucketKind, number>;
  return { user: { maxSizeBytes: gibibytes(maxSizeGb), maxObjects }, buckets };
}

export function createStorageHandlers(deps: StorageDeps): CommandHandlers {
  const now = deps.now ?? (() => new Date());
  const random = deps.randomBytes ?? randomBytes;

  /**
   * A hard quota on each bucket (they are owned by the control plane's account, so only bucket quotas count
   * what the tenant writes there) and, where the server has them, on the tenant's user (what it might own
   * itself). PUT semantics; a quota below current use refuses only further writes.
   */
  async function applyQuota(tenantId: string, tier: Tier) {
    const quota = storageQuotaOf(tier);
    const userName = storageUserName(tenantId);
    await guarded('STORAGE.QUOTA_FAILED', `quota of user ${userName}`, () =>
      deps.iam.setUserQuota(userName, quota.user),
    );
    for (const kind of BUCKET_KINDS) {
      const bucket = bucketName(tenantId, kind);
      await guarded('STORAGE.QUOTA_FAILED', `quota of bucket ${bucket}`, () =>
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

  async function tenantCredentials(tenantId: string): Promise<{ accessKey: string; secretKey: string }> {
    const stored = await guarded('STORAGE.SECRET_STORE_UNAVAILABLE', 'reading the storage secret', () =>
      deps.secrets.get(storageSecretPath(tenantId)),
    );
    const secretKey = stored?.[MINIO_SECRET_KEY];
    if (!secretKey) {
      throw permanent(
        'STORAGE.CREDENTIALS_MISSING',
        `no storage credentials at ${storageSecretPath(tenantId)}`,
      );
    }
    return { accessKey: storageUserName(tenantId), secretKey };
  }

  return {
    async ProvisionStorage(command, { logger }) {
      const tenantId = tenantOf(command);
      const buckets = BUCKET_KINDS.map((kind) => bucketName(tenantId, kind));
      const userName = storageUserName(tenantId);
      const secretPath = storageSecretPath(tenantId);

      // The secret is stored before the user exists so a redelivery reuses it: never rotate a handed-out key.
      const stored = await guarded('STORAGE.SECRET_STORE_UNAVAILABLE', 'storing the storage secret', () =>
        deps.secrets.putIfAbsent(
          secretPath,
          storageSecretValues(tenantId, deps.tenantEndpoint, deps.tenantUseSsl, secretFromRandom(random)),
        ),
      );
      const secretKey = stored[MINIO_SECRET_KEY];
      if (!secretKey)
        throw permanent('STORAGE.SECRET_CORRUPT', `secret at ${secretPath} has no ${MINIO_SECRET_KEY}`);

      for (const bucket of buckets) {
        await guarded('STORAGE.BUCKET_CREATION_FAILED', `creating bucket ${bucket}`, async () => {
          await deps.store.ensureBucket(bucket);
          await deps.store.enableVersioning(bucket);
        });
      }
      const products = bucketName(tenantId, 'products');
      // Put every time, never only when absent: a bucket carrying an older rule set (the spec's literal
      // current-object expiry) is corrected by the next provision.
      await guarded('STORAGE.LIFECYCLE_FAILED', `lifecycle on ${products}`, () =>
        deps.store.putLifecycleXml(products, renderLifecycleXml(productsLifecycleRules())),
      );
      await guarded('STORAGE.USER_CREATION_FAILED', `creating user ${userName}`, async () => {
        await deps.iam.ensureUser(userName, secretKey);
        await deps.iam.ensureUserPolicy(storagePolicyName(tenantId), userName, buildUserPolicy(tenantId));
      });
      const policy = buildBucketPolicy(tenantId, deps.iam.principal);
      for (const bucket of buckets) {
        await guarded('STORAGE.POLICY_FAILED', `bucket policy on ${bucket}`, () =>
          deps.store.putBucketPolicy(bucket, JSON.stringify(bucketPolicyFor(policy, bucket))),
        );
      }
      const quota = await applyQuota(tenantId, command.data.tenant.tier);
      logger.info({ tenantId, buckets, userName }, 'storage provisioned');
      return {
        buckets,
        versioning: 'Enabled',
        lifecycleBucket: products,
        userName,
        policyName: storagePolicyName(tenantId),
        publicPrefix: `${products}/${PUBLIC_PREFIX}`,
        secretPath,
        iam: deps.iam.kind,
        ...quota,
      };
    },

    async UpdateStorageQuota(command) {
      const tenantId = tenantOf(command);
      const { toTier } = command.data.params;
      for (const kind of BUCKET_KINDS) {
        const bucket = bucketName(tenantId, kind);
        const exists = await guarded('STORAGE.QUOTA_FAILED', `checking ${bucket}`, () =>
          deps.store.bucketExists(bucket),
        );
        if (!exists) throw permanent('STORAGE.BUCKET_MISSING', `bucket ${bucket} not found`);
      }
      return { tier: toTier, ...(await applyQuota(tenantId, toTier)) };
    },

    async VerifyStorage(command, { logger }) {
      const tenantId = tenantOf(command);
      const probeId = createHash('sha256').update(command.metadata.messageId).digest('hex').slice(0, 12);
      for (const kind of BUCKET_KINDS) {
        const bucket = bucketName(tenantId, kind);
        const exists = await guarded('STORAGE.VERIFY_UNREACHABLE', `checking ${bucket}`, () =>
          deps.store.bucketExists(bucket),
        );
        if (!exists) throw permanent('STORAGE.BUCKET_MISSING', `bucket ${bucket} not found`);
        const status = await guarded('STORAGE.VERIFY_UNREACHABLE', `versioning of ${bucket}`, () =>
          deps.store.versioningStatus(bucket),
        );
        if (status !== 'Enabled')
          throw permanent('STORAGE.VERSIONING_OFF', `versioning is ${status} on ${bucket}`);
      }
      const quota = storageQuotaOf(command.data.tenant.tier);
      for (const kind of BUCKET_KINDS) {
        const bucket = bucketName(tenantId, kind);
        const bytes = await guarded('STORAGE.VERIFY_UNREACHABLE', `quota of ${bucket}`, () =>
          deps.iam.getBucketQuota(bucket),
        );
        if (bytes !== quota.buckets[kind]) {
          throw permanent(
            'STORAGE.QUOTA_MISMATCH',
            `quota of ${bucket} is ${bytes ?? 'unset'}, the tier's is ${quota.buckets[kind]} bytes`,
          );
        }
      }
      if (deps.iam.userQuotas) {
        const userName = storageUserName(tenantId);
        const found = await guarded('STORAGE.VERIFY_UNREACHABLE', `quota of user ${userName}`, () =>
          deps.iam.getUserQuota(userName),
        );
        if (found?.maxSizeBytes !== quota.user.maxSizeBytes || found.maxObjects !== quota.user.maxObjects) {
          throw permanent('STORAGE.QUOTA_MISMATCH', `quota of user ${userName} is not the tier's`);
        }
      }
      const products = bucketName(tenantId, 'products');
      const lifecycle = await guarded('STORAGE.VERIFY_UNREACHABLE', `lifecycle of ${products}`, () =>
        deps.store.getLifecycleXml(products),
      );
      const rules = lifecycle ? parseLifecycleXml(lifecycle) : [];
      const expiring = currentObjectExpirations(rules);
      if (expiring.length > 0) {
        // A bucket provisioned with the spec's literal rule: provisioning again replaces it.
        throw permanent(
          'STORAGE.LIFECYCLE_EXPIRES_CURRENT_OBJECTS',
          `lifecycle on ${products} expires current objects (rule ${expiring.map((r) => r.id).join(', ')}): ` +
            'live data would be deleted; provision the storage again to replace it',
        );
      }
      if (!satisfiesProductsLifecycle(rules)) {
        throw permanent(
          'STORAGE.LIFECYCLE_MISSING',
          `30-day noncurrent-version lifecycle missing on ${products}`,
        );
      }

      const { accessKey, secretKey } = await tenantCredentials(tenantId);
      const tenant = deps.tenantClient(accessKey, secretKey);
      const probes: { bucket: string; key: string; body: string }[] = BUCKET_KINDS.map((kind) => ({
        bucket: bucketName(tenantId, kind),
        key: `verify/probe-${probeId}.txt`,
        body: `verify ${tenantId} ${kind} ${probeId}`,
      }));
      const publicProbe = {
        bucket: products,
        key: `${PUBLIC_PREFIX}verify-probe-${probeId}.txt`,
        body: `public ${probeId}`,
      };
      try {
        for (const probe of [...probes, publicProbe]) {
          await guarded('STORAGE.TENANT_ACCESS_DENIED', `tenant write to ${probe.bucket}`, () =>
            tenant.putObject(probe.bucket, probe.key, Buffer.from(probe.body), undefined, {
              'Content-Type': 'text/plain',
            }),
          );
          const read = await guarded(
            'STORAGE.TENANT_ACCESS_DENIED',
            `tenant read from ${probe.bucket}`,
            async () => readText(await tenant.getObject(probe.bucket, probe.key)),
          );
          if (read !== probe.body)
            throw permanent('STORAGE.READBACK_MISMATCH', `read-back differs in ${probe.bucket}`);
        }
        const anonymousPublic = await guarded('STORAGE.VERIFY_UNREACHABLE', 'anonymous read', () =>
          fetch(objectUrl(deps.endpoint, publicProbe.bucket, publicProbe.key)),
        );
        if (anonymousPublic.status !== 200 || (await anonymousPublic.text()) !== publicProbe.body) {
          throw permanent(
            'STORAGE.PUBLIC_READ_BROKEN',
            `anonymous read under ${products}/${PUBLIC_PREFIX} refused`,
          );
        }
        for (const probe of probes) {
          const anonymous = await guarded('STORAGE.VERIFY_UNREACHABLE', 'anonymous read', () =>
            fetch(objectUrl(deps.endpoint, probe.bucket, probe.key)),
          );
          await anonymous.arrayBuffer();
          if (anonymous.status !== 403) {
            throw permanent(
              'STORAGE.PRIVATE_OBJECT_EXPOSED',
              `anonymous read of ${probe.bucket} answered ${anonymous.status}`,
            );
          }
        }
      } finally {
        // Probes are removed with every version so verification leaves nothing behind.
        for (const probe of [...probes, publicProbe]) {
          await deps.store.removeAllVersions(probe.bucket, probe.key).catch((error: unknown) => {
            logger.warn(
              { bucket: probe.bucket, key: probe.key, code: s3ErrorCode(error) },
              'probe cleanup failed',
            );
          });
        }
      }
      return {
        buckets: BUCKET_KINDS.map((kind) => bucketName(tenantId, kind)),
        versioning: 'Enabled',
        tenantReadWrite: true,
        anonymousReadOnlyUnder: `${products}/${PUBLIC_PREFIX}`,
      };
    },

    async RemoveStorage(command, { logger }) {
      const tenantId = tenantOf(command);
      const userName = storageUserName(tenantId);
      let removedVersions = 0;
      const buckets: string[] = [];
      for (const kind of BUCKET_KINDS) {
        const bucket = bucketName(tenantId, kind);
        removedVersions += await guarded('STORAGE.BUCKET_REMOVAL_FAILED', `removing ${bucket}`, () =>
          deps.store.removeBucket(bucket),
        );
        buckets.push(bucket);
      }
      await guarded('STORAGE.USER_REMOVAL_FAILED', `removing user ${userName}`, async () => {
        await deps.iam.removeUser(userName);
        await deps.iam.removeUserPolicy(storagePolicyName(tenantId));
      });
      await guarded('STORAGE.SECRET_STORE_UNAVAILABLE', 'deleting the storage secret', () =>
        deps.secrets.delete(storageSecretPath(tenantId)),
      );
      logger.info({ tenantId, removedVersions }, 'storage removed');
      return { removedBuckets: buckets, removedObjectVersions: removedVersions, userRemoved: userName };
    },

    async BackupStorage(command, { logger }) {
      const tenantId = tenantOf(command);
      const { backupId } = command.data.params;
      if (!BACKUP_ID_PATTERN.test(backupId))
        throw permanent('STORAGE.BAD_BACKUP_ID', 'backup id is not valid');
      // Objects belong to the user who wrote them (the tenant's app): on RGW the bucket owner cannot read them,
      // so the mirror reads with the tenant's own keys, which the bucket policy lets read every object.
      const { accessKey, secretKey } = await tenantCredentials(tenantId);
      const source = deps.tenantClient(accessKey, secretKey);
      const entries: ManifestEntry[] = [];
      for (const kind of BUCKET_KINDS) {
        const bucket = bucketName(tenantId, kind);
        const exists = await guarded('STORAGE.BACKUP_FAILED', `checking ${bucket}`, () =>
          deps.store.bucketExists(bucket),
        );
        if (!exists) continue;
        const objects = await guarded('STORAGE.BACKUP_FAILED', `listing ${bucket}`, () =>
          S3ObjectStore.listLatest(source, bucket),
        );
        for (const object of objects) {
          entries.push(await mirrorObject(kind, bucket, object));
        }
      }
      const manifest = buildManifest({
        tenantId,
        backupId,
        createdAt: now(),
        archiveBucket: deps.archive.bucket,
        storageClass: deps.storageClass,
        objects: entries,
      });
      const key = manifestKey(tenantId, backupId);
      await guarded('STORAGE.BACKUP_FAILED', 'writing the manifest', () =>
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

      async function mirrorObject(
        kind: BucketKind,
        bucket: string,
        object: { key: string; size: number; etag: string },
      ): Promise<ManifestEntry> {
        const archiveKey = archiveObjectKey(tenantId, kind, object.key);
        return guarded('STORAGE.BACKUP_FAILED', `mirroring ${bucket}/${object.key}`, async () => {
          const { tap, result } = hashingTap();
          const body = await source.getObject(bucket, object.key);
          const upload = deps.archive.putObject(archiveKey, tap).catch((error: unknown) => {
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
    },

    async VerifyStorageBackup(command, { logger }) {
      const tenantId = tenantOf(command);
      const { backupId, manifestKey: key } = command.data.params;
      if (!BACKUP_ID_PATTERN.test(backupId))
        throw permanent('STORAGE.BAD_BACKUP_ID', 'backup id is not valid');
      if (key !== manifestKey(tenantId, backupId)) {
        throw permanent(
          'STORAGE.BACKUP_MANIFEST_KEY_MISMATCH',
          `manifest key is not ${manifestKey(tenantId, backupId)}`,
        );
      }
      const text = await guarded('STORAGE.BACKUP_VERIFY_FAILED', 'reading the manifest', async () => {
        try {
          return await readText(await deps.archive.getObject(key));
        } catch (error) {
          if (error instanceof BackupObjectNotFoundError) {
            throw permanent(
              'STORAGE.BACKUP_MANIFEST_MISSING',
              `manifest ${key} not found in ${deps.archive.bucket}`,
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
      const checks: ArchiveCheck[] = [];
      for (const entry of manifest.data.objects) {
        const found = await guarded(
          'STORAGE.BACKUP_VERIFY_FAILED',
          `re-reading ${entry.archiveKey}`,
          async () => {
            try {
              return await digestStream(await deps.archive.getObject(entry.archiveKey));
            } catch (error) {
              if (error instanceof BackupObjectNotFoundError) return null;
              throw error;
            }
          },
        );
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
        verifiedBytes: manifest.data.totalBytes,
      };
    },
  };
}
