import type { LifecycleRuleSpec } from '@app/archive';

/**
 * Spec 4.1's `mc ilm add --expiry-days 30 --expired-object-delete-marker` as an S3 lifecycle configuration.
 * S3 (and RGW, measured) refuses `Days` and `ExpiredObjectDeleteMarker` in one Expiration element, so they
 * are two rules over the whole bucket.
 */
export const LIFECYCLE_EXPIRY_DAYS = 30;

export function productsLifecycleRules(): LifecycleRuleSpec[] {
  return [
    { id: 'expire-after-30-days', expirationDays: LIFECYCLE_EXPIRY_DAYS },
    { id: 'remove-expired-delete-markers', expiredObjectDeleteMarker: true },
  ];
}

/** True when the configuration expires objects after 30 days and removes expired delete markers. */
export function satisfiesProductsLifecycle(rules: LifecycleRuleSpec[]): boolean {
  return (
    rules.some((r) => r.expirationDays === LIFECYCLE_EXPIRY_DAYS) &&
    rules.some((r) => r.expiredObjectDeleteMarker)
  );
}
