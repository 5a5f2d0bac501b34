/** Injection tokens of the tenancy use cases (ports are interfaces, so they are injected by symbol). */
export const TENANT_READ_MODEL = Symbol('TENANT_READ_MODEL');
export const CLOCK = Symbol('CLOCK');
export const TENANCY_OPTIONS = Symbol('TENANCY_OPTIONS');
export const REQUESTS_IN_FLIGHT = Symbol('REQUESTS_IN_FLIGHT');

export type Clock = () => Date;

export interface TenancyOptions {
  /** Days between a cancellation and the deletion (GRACE_PERIOD_DAYS). */
  gracePeriodDays: number;
  /** Event id of an operator request without an Idempotency-Key (a random UUID by default). */
  newId: () => string;
}
