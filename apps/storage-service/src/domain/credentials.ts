import { bucketName, storageUserName } from '@app/contracts';
import type { SecretValues } from '@app/secrets';

/** Spec 4.3's keys, stored at `storageSecretPath(tenantId)`; the k8s-service renders them as `minio-credentials`. */
export function storageSecretValues(
  tenantId: string,
  endpoint: string,
  useSsl: boolean,
  secretKey: string,
): SecretValues {
  return {
    MINIO_ENDPOINT: endpoint,
    MINIO_ACCESS_KEY: storageUserName(tenantId),
    MINIO_SECRET_KEY: secretKey,
    MINIO_USE_SSL: useSsl ? 'true' : 'false',
    MINIO_BUCKET_PRODUCTS: bucketName(tenantId, 'products'),
    MINIO_BUCKET_SAV: bucketName(tenantId, 'sav'),
    MINIO_BUCKET_NEWSLETTERS: bucketName(tenantId, 'newsletters'),
  };
}

export const SECRET_KEY_LENGTH = 40;
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/**
 * A 40-character alphanumeric secret (MinIO accepts 8-40) from caller-supplied random bytes; rejection
 * sampling keeps every character equally likely.
 */
export function secretFromRandom(nextBytes: (n: number) => Buffer): string {
  let out = '';
  while (out.length < SECRET_KEY_LENGTH) {
    for (const byte of nextBytes(64)) {
      if (byte < 248 && out.length < SECRET_KEY_LENGTH) out += ALPHABET[byte % ALPHABET.length];
    }
  }
  return out;
}
