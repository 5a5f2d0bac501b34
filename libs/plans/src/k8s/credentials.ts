import {
  BUSINESS_SERVICES,
  type BusinessService,
  type TenantProfile,
  adminInitialSecretPath,
  brokerSecretPath,
  databaseSecretPath,
  storageSecretPath,
} from '@app/contracts';
import type { KubeObject } from '@app/kube';
import { secretNameForPath } from '@app/secrets';
import { DATABASE_SECRET_PROPERTIES, type RenderOptions } from './render-options';
import {
  AUTH_ADMIN_CREDENTIALS,
  MINIO_CREDENTIALS,
  RABBITMQ_CREDENTIALS,
  dbCredentialsName,
  objectMeta,
} from './tenant-objects';

/** The tenant's credentials: ExternalSecrets over the secret store (spec 3.3, 4.3, 5.3), or plain Secrets. */

/**
 * ESO v0.17 and later serve only `external-secrets.io/v1` (v1beta1 was removed), and v1 is served since v0.16:
 * the manifests need ESO v0.16 or later.
 */
export const EXTERNAL_SECRETS_API_VERSION = 'external-secrets.io/v1';

/**
 * Spec 3.3 against the store of secret-store.ts (ESO's kubernetes provider): `remoteRef.key` is the name of
 * the Secret the database-service's KubernetesSecretStore writes for the path, and each property one of the
 * keys it writes there (host, port, database, username, password).
 */
export function databaseExternalSecret(
  tenant: TenantProfile,
  service: BusinessService,
  options: RenderOptions,
): KubeObject {
  const name = dbCredentialsName(service);
  const key = secretNameForPath(databaseSecretPath(tenant.tenantId, service));
  return {
    apiVersion: EXTERNAL_SECRETS_API_VERSION,
    kind: 'ExternalSecret',
    metadata: objectMeta(name, tenant, options),
    spec: {
      secretStoreRef: { name: options.clusterSecretStore, kind: 'ClusterSecretStore' },
      target: { name, creationPolicy: 'Owner' },
      data: DATABASE_SECRET_PROPERTIES.map(([secretKey, property]) => ({
        secretKey,
        remoteRef: { key, property },
      })),
    },
  };
}

/**
 * Spec 4.3 / 5.3 as ExternalSecrets: the storage and broker services store exactly the spec's keys
 * (MINIO_* / RABBITMQ_*) at their secret paths, so the whole Secret written for the path is extracted and no
 * value is rendered. The admin's initial credentials come the same way.
 */
export function extractedExternalSecret(
  name: string,
  path: string,
  tenant: TenantProfile,
  options: RenderOptions,
): KubeObject {
  return {
    apiVersion: EXTERNAL_SECRETS_API_VERSION,
    kind: 'ExternalSecret',
    metadata: objectMeta(name, tenant, options),
    spec: {
      secretStoreRef: { name: options.clusterSecretStore, kind: 'ClusterSecretStore' },
      target: { name, creationPolicy: 'Owner' },
      dataFrom: [{ extract: { key: secretNameForPath(path) } }],
    },
  };
}
export function minioCredentialsExternalSecret(tenant: TenantProfile, options: RenderOptions): KubeObject {
  return extractedExternalSecret(MINIO_CREDENTIALS, storageSecretPath(tenant.tenantId), tenant, options);
}
export function rabbitmqCredentialsExternalSecret(tenant: TenantProfile, options: RenderOptions): KubeObject {
  return extractedExternalSecret(RABBITMQ_CREDENTIALS, brokerSecretPath(tenant.tenantId), tenant, options);
}
export function authAdminCredentialsExternalSecret(
  tenant: TenantProfile,
  options: RenderOptions,
): KubeObject {
  return extractedExternalSecret(
    AUTH_ADMIN_CREDENTIALS,
    adminInitialSecretPath(tenant.tenantId),
    tenant,
    options,
  );
}

/** Keys of spec 4.3 and 5.3, the only ones a plain Secret may carry. */
export const MINIO_SECRET_KEYS = [
  'MINIO_ENDPOINT',
  'MINIO_ACCESS_KEY',
  'MINIO_SECRET_KEY',
  'MINIO_USE_SSL',
  'MINIO_BUCKET_PRODUCTS',
  'MINIO_BUCKET_SAV',
  'MINIO_BUCKET_NEWSLETTERS',
] as const;
export const RABBITMQ_SECRET_KEYS = [
  'RABBITMQ_HOST',
  'RABBITMQ_PORT',
  'RABBITMQ_USER',
  'RABBITMQ_PASSWORD',
  'RABBITMQ_VHOST',
  'RABBITMQ_EXCHANGE',
] as const;

/** Spec 4.3 / 5.3 as plain Secrets, values read from the secret store (direct mode only: never in Git). */
export function credentialsSecret(
  name: typeof MINIO_CREDENTIALS | typeof RABBITMQ_CREDENTIALS,
  tenant: TenantProfile,
  options: RenderOptions,
  values: Record<string, string>,
): KubeObject {
  const keys: readonly string[] = name === MINIO_CREDENTIALS ? MINIO_SECRET_KEYS : RABBITMQ_SECRET_KEYS;
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: objectMeta(name, tenant, options),
    type: 'Opaque',
    stringData: Object.fromEntries(
      keys.filter((key) => values[key] !== undefined).map((key) => [key, values[key]]),
    ),
  };
}

export function externalSecrets(tenant: TenantProfile, options: RenderOptions): KubeObject[] {
  return [
    ...BUSINESS_SERVICES.map((service) => databaseExternalSecret(tenant, service, options)),
    minioCredentialsExternalSecret(tenant, options),
    rabbitmqCredentialsExternalSecret(tenant, options),
    authAdminCredentialsExternalSecret(tenant, options),
  ];
}
