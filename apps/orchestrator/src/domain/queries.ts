import type { CommandType, ResourceService, StepOutputs } from '@app/contracts';
import { DEFAULT_DECIDER_CONFIG, type DeciderConfig } from './config';
import {
  PURGE_PREFIX,
  compensationKey,
  type StepState,
  type StepStatus,
  type TenantState,
} from '@app/lifecycle';
import { purgeDueAt } from './deprovisioning';

export interface PendingCommand {
  commandId: string;
  commandType: CommandType;
  service: ResourceService;
  step: string;
  params: StepOutputs;
  attempt: number;
  deadline: string;
}

/**
 * Commands decided but not answered, which the runtime (re)dispatches on start-up: the stream is the outbox,
 * and services deduplicate by command id. During a rollback the provisioning commands still in flight are
 * left alone: sending one again would recreate what the rollback removes; so is drift work once the tenant is
 * no longer active (a repair could recreate what a purge removes). With `now`, commands past their
 * deadline are left out (the next decision times them out).
 */
export function pendingCommands(state: TenantState, now?: Date): PendingCommand[] {
  const rollingBack =
    state.status === 'rolling_back' || state.status === 'failed' || state.status === 'cancelled';
  return Object.values(state.steps)
    .filter((run) => run.status === 'running')
    .filter((run) => !(rollingBack && (run.kind === 'provision' || run.kind === 'verify')))
    .filter((run) => run.kind !== 'drift' || state.status === 'active')
    .filter((run) => now === undefined || Date.parse(run.deadline) > now.getTime())
    .map((run) => ({
      commandId: run.commandId,
      commandType: run.commandType,
      service: run.service,
      step: run.step,
      params: run.params,
      attempt: run.attempt,
      deadline: run.deadline,
    }));
}

/**
 * The earliest instant at which time alone changes a decision: a command deadline, a blocked backup's
 * retry (or a purge held by the guardrails), a parked purge step's retry, or the deletion date (or an operator's
 * earlier purge request) once the backup is verified. Timers derive
 * from the stream, so they survive restarts.
 */
export function nextDeadline(
  state: TenantState,
  config: DeciderConfig = DEFAULT_DECIDER_CONFIG,
): Date | undefined {
  const instants: number[] = Object.values(state.steps)
    .filter((run) => run.status === 'running')
    .map((run) => Date.parse(run.deadline));
  const cancellation = state.cancellation;
  if (state.status === 'deprovisioning' && cancellation) {
    const { backup } = cancellation;
    // On a verified backup a block is a purge on hold (guardrails): its retry replaces the passed deletion date.
    if (backup.blockedUntil) instants.push(Date.parse(backup.blockedUntil));
    else if (backup.verified) instants.push(purgeDueAt(cancellation, config).getTime());
  }
  if (state.status === 'purging') {
    for (const run of Object.values(state.steps)) {
      if (run.step.startsWith(PURGE_PREFIX) && run.status === 'parked' && run.retryAt) {
        instants.push(Date.parse(run.retryAt));
      }
    }
  }
  const valid = instants.filter((instant) => !Number.isNaN(instant));
  return valid.length > 0 ? new Date(Math.min(...valid)) : undefined;
}

/** The status of a provisioning step as the API and console show it, its compensation included. */
export function stepStatus(state: TenantState, step: string): StepStatus {
  const run: StepState | undefined = state.steps[step];
  if (!run) return 'pending';
  const compensation = state.steps[compensationKey(step)];
  if (compensation) {
    if (compensation.status === 'succeeded' && !compensation.stale) return 'compensated';
    if (compensation.status === 'parked' && !compensation.stale) return 'compensation_failed';
    return 'compensating';
  }
  return run.status;
}
