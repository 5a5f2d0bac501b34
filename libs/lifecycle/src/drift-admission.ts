import { LifecycleRefusal, REFUSAL_CODES, type Admission } from './admission';
import { checkInProgress, driftOf, repairRound, repairStarted } from './drift';
import type { TenantState } from './state';

/**
 * Admission of drift checks and repair approvals (operators, and the orchestrator's schedule for checks): the
 * events to append, none when the request changes nothing, or a refusal with a stable code.
 */

export interface DriftCheckRequest {
  requestedBy: string;
  requestedAt: string;
  /** The schedule's window; a check for a window already checked appends nothing. */
  window?: number;
}

export function admitDriftCheck(state: TenantState, request: DriftCheckRequest): Admission {
  const tenantId = state.tenant?.tenantId;
  if (!tenantId) return new LifecycleRefusal(REFUSAL_CODES.TENANT_NOT_FOUND, 'tenant not found');
  if (state.status !== 'active') {
    return new LifecycleRefusal(
      REFUSAL_CODES.TENANT_NOT_ACTIVE,
      `tenant ${tenantId} is ${state.status}: only an active tenant is checked for drift`,
    );
  }
  const drift = driftOf(state);
  const running = checkInProgress(state);
  if (running) {
    return new LifecycleRefusal(
      REFUSAL_CODES.DRIFT_CHECK_IN_PROGRESS,
      `drift check ${running.check} of tenant ${tenantId} is still running`,
    );
  }
  const { window } = request;
  if (window !== undefined && drift.lastWindow !== undefined && window <= drift.lastWindow) {
    return { events: [] };
  }
  return {
    events: [
      {
        type: 'DriftCheckRequested',
        data: {
          check: drift.checks + 1,
          requestedBy: request.requestedBy,
          requestedAt: request.requestedAt,
          ...(window === undefined ? {} : { window }),
        },
      },
    ],
  };
}

export interface DriftRepairRequest {
  driftId: string;
  reason: string;
  approvedBy: string;
  approvedAt: string;
}

export function admitDriftRepair(state: TenantState, request: DriftRepairRequest): Admission {
  const tenantId = state.tenant?.tenantId;
  if (!tenantId) return new LifecycleRefusal(REFUSAL_CODES.TENANT_NOT_FOUND, 'tenant not found');
  const open = driftOf(state).open[request.driftId];
  if (!open) {
    return new LifecycleRefusal(
      REFUSAL_CODES.DRIFT_NOT_FOUND,
      `tenant ${tenantId} has no open drift ${request.driftId}`,
    );
  }
  if (state.status !== 'active') {
    return new LifecycleRefusal(
      REFUSAL_CODES.TENANT_NOT_ACTIVE,
      `tenant ${tenantId} is ${state.status}: drift is repaired only on an active tenant`,
    );
  }
  if (repairRound(open).allowed || repairStarted(state, open)) {
    return new LifecycleRefusal(
      REFUSAL_CODES.DRIFT_REPAIR_IN_PROGRESS,
      `the repair of drift ${request.driftId} already runs or is about to`,
    );
  }
  return { events: [{ type: 'DriftRepairApproved', data: request }] };
}
