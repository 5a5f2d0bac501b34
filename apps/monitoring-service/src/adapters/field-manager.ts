/** This service's server-side apply field manager: stable, so re-applies never conflict with ourselves. */
export const FIELD_MANAGER = 'provisioning-monitoring-service';
