import { BUCKET_KINDS, gibibytes, tenantLimits, type BucketKind, type Tier } from '@app/contracts';

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
