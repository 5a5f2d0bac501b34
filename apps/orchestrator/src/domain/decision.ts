import {
  COMMAND_CATALOG,
  deterministicId,
  provisioningStep,
  type CommandType,
  type FailureReason,
  type LifecycleEventData,
  type LifecycleEventType,
  type StepOutputs,
  type TenantProfile,
} from '@app/contracts';
import { DEFAULT_COMMAND_DEADLINE_SECONDS, FALLBACK_DEADLINE_SECONDS, type DeciderConfig } from './config';
import type { PurgeGuard } from './guardrails';
import {
  imageTagParams,
  provisioningRun,
  WORKLOADS_RENDERING_COMMANDS,
  type StepState,
  type TenantState,
} from '@app/lifecycle';

/** A lifecycle event the orchestrator decided to append; the runtime adds the metadata. */
export type Decision = {
  [K in LifecycleEventType]: { type: K; data: LifecycleEventData[K] };
}[LifecycleEventType];

/** What every sub-decider sees: the folded state, the instant of the decision and the policy. */
export interface DecisionContext {
  state: TenantState;
  tenant: TenantProfile;
  now: Date;
  config: DeciderConfig;
  /** The guardrails' answer for a purge about to start; permissive unless the runtime says otherwise. */
  purge: PurgeGuard;
}

export const UNKNOWN_FAILURE: FailureReason = {
  code: 'ORCHESTRATOR.UNKNOWN_FAILURE',
  message: 'the step failed without a recorded reason',
  retryable: false,
};

export function addSeconds(instant: Date, seconds: number): Date {
  return new Date(instant.getTime() + seconds * 1000);
}

export function isPast(iso: string | undefined, now: Date): boolean {
  return iso !== undefined && Date.parse(iso) <= now.getTime();
}

export function deadlineSeconds(step: string, command: CommandType, config: DeciderConfig): number {
  const ownStep = provisioningStep(step);
  const seconds =
    config.deadlineSeconds?.[command] ??
    (ownStep?.command === command ? ownStep.deadlineSeconds : undefined) ??
    DEFAULT_COMMAND_DEADLINE_SECONDS[command] ??
    FALLBACK_DEADLINE_SECONDS;
  return seconds * (config.deadlineScale ?? 1);
}

/**
 * The id of a command: it depends only on the tenant, its provisioning run, the step, the command and the
 * attempt, so two orchestrators deciding on the same state issue the same command and services deduplicate it,
 * while a re-provisioned tenant's steps (whose keys and attempts start again) get ids no service has seen. The
 * first run's ids leave the run out, as they did before tenants could be provisioned again.
 */
export function commandId(
  tenantId: string,
  run: number,
  step: string,
  commandType: CommandType,
  attempt: number,
): string {
  const parts = [step, commandType, String(attempt)];
  return run > 1 ? deterministicId(tenantId, `run-${run}`, ...parts) : deterministicId(tenantId, ...parts);
}

/** The decision to run a command (see `commandId`). */
export function startStep(
  ctx: DecisionContext,
  step: string,
  commandType: CommandType,
  params: StepOutputs,
  attempt = 1,
): Decision {
  return {
    type: 'StepStarted',
    data: {
      step,
      commandId: commandId(ctx.tenant.tenantId, provisioningRun(ctx.state), step, commandType, attempt),
      commandType,
      service: COMMAND_CATALOG[commandType].service,
      attempt,
      deadline: addSeconds(ctx.now, deadlineSeconds(step, commandType, ctx.config)).toISOString(),
      // Every command that renders the workloads renders them with the tenant's applied image tag (a tier change,
      // a suspension, a drift repair), unless the step names another one (an image tag change).
      params: WORKLOADS_RENDERING_COMMANDS.has(commandType)
        ? { ...imageTagParams(ctx.state), ...params }
        : params,
    },
  };
}

/** The next attempt of a step, with its original parameters unless new ones are given. */
export function restartStep(
  ctx: DecisionContext,
  run: StepState,
  params: StepOutputs = run.params,
): Decision {
  return startStep(ctx, run.step, run.commandType, params, run.attempt + 1);
}

/** A failed or timed-out attempt is retried when the failure may pass and the round has attempts left. */
export function mayRetry(run: StepState, maxAttempts: number): boolean {
  const retryable = run.status === 'timed_out' || run.error?.retryable === true;
  return retryable && run.roundAttempt < maxAttempts;
}

/** The latest attempt ended without success and nothing has been decided about it yet. */
export function hasFailed(run: StepState): boolean {
  return run.status === 'failed' || run.status === 'timed_out';
}

/** A run whose outcome is not final yet: in flight, or failed and about to be retried or parked. */
function isUnsettled(run: StepState | undefined): boolean {
  return run !== undefined && (run.status === 'running' || hasFailed(run));
}

const WEBSITE_RECORD_PATCHES: ReadonlySet<CommandType> = new Set<CommandType>([
  'ActivateWebsiteRecord',
  'SoftDeleteWebsiteRecord',
  'RestoreWebsiteRecord',
]);

/**
 * Activation, soft deletes and restores of the website record run one at a time, in the order decided: two
 * in flight could land in either order and leave a reactivated tenant's record deleted, or a cancelled one's
 * active.
 */
export function websiteRecordBusy(state: TenantState, except?: string): boolean {
  return Object.values(state.steps).some(
    (run) => run.step !== except && WEBSITE_RECORD_PATCHES.has(run.commandType) && isUnsettled(run),
  );
}

export function isSucceeded(state: TenantState, step: string): boolean {
  return state.steps[step]?.status === 'succeeded';
}

/** The website id the notification service returned (spec 9.1), needed to delete the record again. */
export function websiteIdOf(state: TenantState): string | number | null {
  const id = state.steps['website']?.outputs?.['websiteId'];
  return typeof id === 'string' || typeof id === 'number' ? id : null;
}
