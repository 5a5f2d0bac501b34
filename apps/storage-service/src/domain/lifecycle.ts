import type { LifecycleRuleSpec } from '@app/archive';

/**
 * Spec 4.1's `mc ilm add --expiry-days 30 --expired-object-delete-marker`, as its comment means it: old
 * versions go after 30 days, live objects never. Read literally (`--expiry-days` is mc's current-object
 * expiration) it would put a delete marker on every product image a month after it was uploaded. Each action
 * is its own rule over the whole bucket.
 */
export const LIFECYCLE_EXPIRY_DAYS = 30;

export function productsLifecycleRules(): LifecycleRuleSpec[] {
  return [
    { id: 'expire-noncurrent-after-30-days', noncurrentExpirationDays: LIFECYCLE_EXPIRY_DAYS },
    { id: 'remove-expired-delete-markers', expiredObjectDeleteMarker: true },
  ];
}

/** Rules that expire current objects: on the products bucket they would delete the shop's live images. */
export function currentObjectExpirations(rules: LifecycleRuleSpec[]): LifecycleRuleSpec[] {
  return rules.filter((r) => r.expirationDays !== undefined || r.expirationDate !== undefined);
}

/**
 * True when the configuration removes noncurrent versions after 30 days and expired delete markers, and
 * expires no current object (the spec's literal reading, set by earlier versions of this service, fails).
 */
export function satisfiesProductsLifecycle(rules: LifecycleRuleSpec[]): boolean {
  return (
    currentObjectExpirations(rules).length === 0 &&
    rules.some((r) => r.noncurrentExpirationDays === LIFECYCLE_EXPIRY_DAYS) &&
    rules.some((r) => r.expiredObjectDeleteMarker)
  );
}
