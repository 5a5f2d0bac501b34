import type { BackupTarget } from '@app/archive';
import type { SecretStore } from '@app/secrets';
import type * as Minio from 'minio';
import type { IamPort } from '../adapters/iam.port';
import type { S3ObjectStore } from '../adapters/object-store';

/** What the storage-service's command handlers are constructed with (the `HANDLER_DEPS` provider). */
export interface StorageHandlerDeps {
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
