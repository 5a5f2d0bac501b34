/**
 * This service's server-side apply field manager: stable, so re-applies never conflict with ourselves. Defined
 * with the render variables (`@app/plans`), so a what-if plan labels the monitoring objects as this service does.
 */
export { MONITORING_SERVICE_FIELD_MANAGER as FIELD_MANAGER } from '@app/plans';
