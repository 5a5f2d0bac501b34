/**
 * The events that cross the system's boundary on the bus: the integration events published on `tenant.events`
 * for billing and others, and the billing events consumed from `billing.events`.
 */

export const INTEGRATION_EVENTS = {
  activated: 'tenant.activated',
  provisioningFailed: 'tenant.provisioning_failed',
  deprovisioningStarted: 'tenant.deprovisioning_started',
  reactivated: 'tenant.reactivated',
  deprovisioned: 'tenant.deprovisioned',
} as const;
export type IntegrationEventType = (typeof INTEGRATION_EVENTS)[keyof typeof INTEGRATION_EVENTS];

export const BILLING_EVENTS = {
  created: 'subscription.created',
  cancelled: 'subscription.cancelled',
  updated: 'subscription.updated',
  suspended: 'subscription.suspended',
  resumed: 'subscription.resumed',
  reactivated: 'subscription.reactivated',
} as const;
export type BillingEventType = (typeof BILLING_EVENTS)[keyof typeof BILLING_EVENTS];
