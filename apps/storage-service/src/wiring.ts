import {
  ARCHIVE_PART_SIZE,
  archiveTransitionFrom,
  createS3Client,
  s3BackupTargetFrom,
  s3EndpointFrom,
} from '@app/archive';
import type { ServiceRuntime } from '@app/platform';
import { createSecretStore, secretStoreKeys, type SecretStore } from '@app/secrets';
import type { Logger } from 'pino';
import type { IamPort } from './adapters/iam.port';
import { MinioAdminIam } from './adapters/minio-admin.iam';
import { S3ObjectStore } from './adapters/object-store';
import { RgwAdminIam } from './adapters/rgw-admin.iam';
import type { StorageHandlerDeps } from './commands';
import { hostPort, type StorageConfig } from './config';

export function createIam(config: StorageConfig): IamPort {
  const options = {
    endpoint: config.S3_ENDPOINT,
    region: config.S3_REGION,
    credentials: { accessKey: config.S3_ADMIN_ACCESS_KEY, secretKey: config.S3_ADMIN_SECRET_KEY },
  };
  return config.STORAGE_IAM === 'minio' ? new MinioAdminIam(options) : new RgwAdminIam(options);
}

/** Builds the storage-service from its configuration; `secrets` overrides SECRET_STORE_URL (tests). */
export async function createServiceRuntime(
  config: StorageConfig,
  logger: Logger,
  secretStore?: SecretStore,
): Promise<ServiceRuntime<StorageHandlerDeps>> {
  const admin = createS3Client(s3EndpointFrom(config), ARCHIVE_PART_SIZE);
  const secrets = secretStore ?? createSecretStore(config.SECRET_STORE_URL, secretStoreKeys(config));
  const store = new S3ObjectStore(admin, config.S3_REGION);
  const archive = s3BackupTargetFrom(config, {
    client: admin,
    retentionDays: config.STORAGE_ARCHIVE_RETENTION_DAYS,
    transition: archiveTransitionFrom(config),
  });
  const deps: StorageHandlerDeps = {
    store,
    iam: createIam(config),
    secrets,
    archive,
    tenantClient: (accessKey, secretKey) =>
      createS3Client({
        endpoint: config.S3_ENDPOINT,
        region: config.S3_REGION,
        accessKey,
        secretKey,
        timeoutMs: config.S3_TIMEOUT_MS,
      }),
    endpoint: config.S3_ENDPOINT,
    tenantEndpoint: config.STORAGE_TENANT_ENDPOINT ?? hostPort(config.S3_ENDPOINT),
    tenantUseSsl: config.STORAGE_TENANT_USE_SSL,
    storageClass: config.STORAGE_ARCHIVE_STORAGE_CLASS,
  };
  return {
    deps,
    async ready() {
      try {
        await store.listBuckets();
        await secrets.ping();
        return true;
      } catch (error) {
        logger.warn(
          { err: error instanceof Error ? error.message : String(error) },
          'object store not ready',
        );
        return false;
      }
    },
    async close() {
      if (!secretStore) await secrets.close?.();
    },
  };
}
