import { INTEGRATION_EVENTS, type IntegrationEventType } from '../integration-events';
import type { LifecycleEventType } from '../tenant-events';

/**
 * The integration event catalog: which lifecycle events of a tenant stream the outside world hears about on
 * `tenant.events`, and under which routing key (also the message type). The published message is the house
 * envelope whose `data` is `{ tenantId, event: <lifecycle event type>, ...<the lifecycle event's data> }`.
 */
export const INTEGRATION_EVENT_SOURCES = {
  TenantActivated: INTEGRATION_EVENTS.activated,
  TenantProvisioningFailed: INTEGRATION_EVENTS.provisioningFailed,
  // Cancelled before activation: billing's last word on the tenant, as for a purge (nothing is left).
  ProvisioningCancelled: INTEGRATION_EVENTS.deprovisioned,
  CancellationRequested: INTEGRATION_EVENTS.deprovisioningStarted,
  TenantReactivated: INTEGRATION_EVENTS.reactivated,
  TenantPurged: INTEGRATION_EVENTS.deprovisioned,
} as const satisfies Partial<Record<LifecycleEventType, IntegrationEventType>>;

export type IntegrationSourceType = keyof typeof INTEGRATION_EVENT_SOURCES;
