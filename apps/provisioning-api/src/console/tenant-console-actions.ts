import {
  admitOperatorCancel,
  admitOperatorPurge,
  isRefusal,
  provisioningRun,
  reprovisionBlock,
  type TenantState,
} from '@app/lifecycle';
import type { TenantSummary } from '@app/tenancy';
import { consoleTenantView } from './views';

/**
 * The operator actions the tenant page offers, decided on the server by the lifecycle's own deciders over the
 * tenant's state as the orchestrator folds it, so the page never restates a lifecycle rule.
 */

/** An action the page offers as a button; the use case behind it still decides (and refuses the others). */
export type TenantConsoleAction = 'cancel' | 'purge' | 'reprovision';

/**
 * Whether the operator cancel and purge use cases would admit a request now. Their deciders look at the state
 * only (the request's fields are what the admitted event records), so any well-formed request asks the question.
 */
const PROBE = { reason: 'console', requestedAt: new Date(0).toISOString() };
const cancelAdmitted = (state: TenantState) =>
  !isRefusal(
    admitOperatorCancel(state, {
      ...PROBE,
      deletionDate: PROBE.requestedAt,
      requestedBy: 'operator:console',
    }),
  );
const purgeAdmitted = (state: TenantState) =>
  !isRefusal(admitOperatorPurge(state, { ...PROBE, operator: 'console' }));

export interface TenantConsoleActions {
  /** What an operator may do now: `admitReprovisioning` admits exactly when `reprovisionBlock` has no block. */
  available: TenantConsoleAction[];
  /** The run a re-provisioning would start (the current run + 1). */
  next_run: number;
  /**
   * Why a tenant whose provisioning failed (or is rolling back) cannot be provisioned again yet, as the API
   * would refuse it; null when it can, and for tenants that never failed (nothing to explain there).
   */
  reprovision_blocked: string | null;
}

export function tenantConsoleActions(state: TenantState): TenantConsoleActions {
  const nextRun = provisioningRun(state) + 1;
  const none: TenantConsoleActions = { available: [], next_run: nextRun, reprovision_blocked: null };
  if (!state.tenant) return none;
  const available: TenantConsoleAction[] = [
    ...(cancelAdmitted(state) ? (['cancel'] as const) : []),
    ...(purgeAdmitted(state) ? (['purge'] as const) : []),
  ];
  const blocked = reprovisionBlock(state);
  if (!blocked) return { ...none, available: [...available, 'reprovision'] };
  const failedRun = state.status === 'failed' || state.status === 'rolling_back';
  return { ...none, available, reprovision_blocked: failedRun ? blocked.message : null };
}

/** The `tenant` frame of the live stream: the tenant page's view and the actions it may offer. */
export function consoleTenantFrame(summary: TenantSummary, state: TenantState, grafanaBaseUrl: string) {
  return { ...consoleTenantView(summary, grafanaBaseUrl), actions: tenantConsoleActions(state) };
}
