import {
  ACTIVATE_STEP,
  PROVISIONING_STEPS,
  provisioningStep,
  type CommandType,
  type ProvisioningStep,
} from '@app/contracts';
import { DRIFT_STEP_PREFIX } from './drift';
import type { StepKind } from './state';

/*
 * Step keys. A key names one unit of work in the tenant stream (StepStarted.step, echoed by results) and is
 * part of every command id, so work that can happen more than once per tenant (cancellation cycles, backup
 * rounds, tier changes) carries its sequence number: a repeat must never reuse an earlier command id, which
 * services would deduplicate away.
 */

export const COMPENSATION_PREFIX = 'compensate:';
export const PURGE_PREFIX = 'purge:';
export const DELETION_CONFIRMATION_STEP = 'purged:deletion-confirmation';

export function compensationKey(step: string): string {
  return `${COMPENSATION_PREFIX}${step}`;
}

export function purgeKey(resource: string): string {
  return `${PURGE_PREFIX}${resource}`;
}

export type CancellationWork = 'mark-namespace' | 'cancellation-notice' | 'soft-delete-website';
export function cancellationKey(cycle: number, work: CancellationWork): string {
  return `cancel-${cycle}:${work}`;
}

export type BackupWork = 'databases' | 'storage' | 'verify-databases' | 'verify-storage';
export function backupKey(cycle: number, round: number, work: BackupWork): string {
  return `cancel-${cycle}:backup-${round}:${work}`;
}
const BACKUP_KEY = /^cancel-\d+:backup-\d+:/;

export type ReactivationWork = 'unmark-namespace' | 'reactivation-notice' | 'restore-website';
export function reactivationKey(count: number, work: ReactivationWork): string {
  return `reactivate-${count}:${work}`;
}

export function tierChangeKey(seq: number): string {
  return `tier-${seq}:update-quota`;
}

/** A tier change's limits on the shared servers, applied once its quota update succeeded. */
export const TIER_LIMITS_WORK = [
  { work: 'database-limits', command: 'UpdateDatabaseLimits' },
  { work: 'broker-limits', command: 'UpdateBrokerLimits' },
  { work: 'storage-quota', command: 'UpdateStorageQuota' },
] as const satisfies readonly { work: string; command: CommandType }[];
export type TierLimitsWork = (typeof TIER_LIMITS_WORK)[number]['work'];
export function tierLimitsKey(seq: number, work: TierLimitsWork): string {
  return `tier-${seq}:${work}`;
}

export function workloadsOperationKey(seq: number, kind: 'suspend' | 'resume'): string {
  return `workloads-${seq}:${kind}`;
}
const WORKLOADS_KEY = /^workloads-\d+:(suspend|resume)$/;

/** For a suspension or resumption step key, its kind. */
export function workloadsOperationKind(key: string): 'suspend' | 'resume' | undefined {
  const match = WORKLOADS_KEY.exec(key);
  return match ? (match[1] as 'suspend' | 'resume') : undefined;
}

export function stepKind(key: string): StepKind {
  const dagStep = provisioningStep(key);
  if (dagStep) return dagStep.phase;
  if (key.startsWith(COMPENSATION_PREFIX)) return 'compensation';
  if (key.startsWith(PURGE_PREFIX)) return 'purge';
  if (BACKUP_KEY.test(key)) return 'backup';
  if (key.startsWith(DRIFT_STEP_PREFIX)) return 'drift';
  return 'operation';
}

/** For a compensation key, the provisioning step it undoes. */
export function compensatedStep(key: string): string | undefined {
  return key.startsWith(COMPENSATION_PREFIX) ? key.slice(COMPENSATION_PREFIX.length) : undefined;
}

// ---------------------------------------------------------------------------------------------------------
// Provisioning DAG

/** Steps that gate activation, in declaration order (which is a topological order). */
export const GATING_STEPS: readonly ProvisioningStep[] = PROVISIONING_STEPS.filter(
  (step) => step.phase === 'provision' || step.phase === 'verify',
);

export const AFTER_ACTIVATION_STEPS: readonly ProvisioningStep[] = PROVISIONING_STEPS.filter(
  (step) => step.phase === 'after-activation',
);

/** Gating steps that have an undo command, i.e. the ones a rollback compensates. */
export const COMPENSABLE_STEPS: readonly (ProvisioningStep & { compensation: CommandType })[] =
  GATING_STEPS.filter(
    (step): step is ProvisioningStep & { compensation: CommandType } => step.compensation !== undefined,
  );

/** Steps that name `step` among their dependencies. */
export function dependentsOf(step: string): readonly ProvisioningStep[] {
  return PROVISIONING_STEPS.filter((candidate) => candidate.dependsOn.includes(step));
}

/** Whether every dependency of `step` is done, `activate` counting as done once the tenant was activated. */
export function dependenciesMet(
  step: ProvisioningStep,
  isSucceeded: (name: string) => boolean,
  activated: boolean,
): boolean {
  return step.dependsOn.every((dep) => (dep === ACTIVATE_STEP ? activated : isSucceeded(dep)));
}

// ---------------------------------------------------------------------------------------------------------
// Purge DAG

export interface PurgeStep {
  resource: string;
  command: CommandType;
  dependsOn: readonly string[];
}

/**
 * Deletion order of the spec's clean-up script: the Argo CD application first (or it would recreate what is
 * deleted), then the namespace (which takes the ingress, certificate and secrets with it), then the shared
 * services, the monitoring objects and finally the website record. Each waits for the one before it.
 */
export const PURGE_STEPS: readonly PurgeStep[] = [
  { resource: 'workloads', command: 'RemoveWorkloads', dependsOn: [] },
  { resource: 'namespace', command: 'RemoveNamespace', dependsOn: ['workloads'] },
  { resource: 'databases', command: 'RemoveDatabases', dependsOn: ['namespace'] },
  { resource: 'storage', command: 'RemoveStorage', dependsOn: ['databases'] },
  { resource: 'broker', command: 'RemoveBroker', dependsOn: ['storage'] },
  { resource: 'monitoring', command: 'RemoveMonitoring', dependsOn: ['broker'] },
  { resource: 'grafana-viewer', command: 'RemoveGrafanaViewer', dependsOn: ['broker'] },
  { resource: 'website', command: 'DeleteWebsiteRecord', dependsOn: ['monitoring', 'grafana-viewer'] },
];
