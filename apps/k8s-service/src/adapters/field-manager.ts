import { K8S_SERVICE_FIELD_MANAGER } from '@app/plans';

/**
 * This service's server-side apply field manager: stable, so re-applies never conflict with ourselves. Defined
 * beside the render variables, since it is also the `managed-by` label of what direct delivery applies.
 */
export const FIELD_MANAGER = K8S_SERVICE_FIELD_MANAGER;
