import { deterministicId, earliestDeletionDate, type FailureReason, type StepOutputs } from '@app/contracts';
import type { DeciderConfig } from './config';
import {
  DELETION_CONFIRMATION_STEP,
  PURGE_STEPS,
  backupKey,
  cancellationKey,
  purgeKey,
  reactivationKey,
  type PurgeStep,
  type CancellationState,
  type StepState,
  type TenantState,
} from '@app/lifecycle';
import {
  UNKNOWN_FAILURE,
  addSeconds,
  hasFailed,
  isPast,
  isSucceeded,
  mayRetry,
  restartStep,
  startStep,
  websiteIdOf,
  websiteRecordBusy,
  type Decision,
  type DecisionContext,
} from './decision';
import { PURGE_NOT_AUTHORISED } from './guardrails';

export const BACKUP_MANIFEST_MISSING = 'ORCHESTRATOR.BACKUP_MANIFEST_MISSING';

/** The id of one final-backup round: a retried backup gets a fresh id, so a broken copy is never reused. */
export function backupIdFor(tenantId: string, cycle: number, round: number): string {
  return deterministicId(tenantId, 'final-backup', String(cycle), String(round));
}

/**
 * The deletion date as enforced here: the cancellation's date (or the grace period after its request if that is
 * unusable), but never before the end of this orchestrator's grace period counted from when the cancellation
 * entered the stream. The intake clamps already; this holds for older events and for any writer that does not.
 */
export function deletionDateOf(cancellation: CancellationState, config: DeciderConfig): Date {
  const floor = earliestDeletionDate(new Date(cancellation.cancelledAt), config.gracePeriodDays);
  const given = Date.parse(cancellation.deletionDate);
  let date: number;
  if (!Number.isNaN(given)) date = given;
  else {
    const requested = Date.parse(cancellation.requestedAt);
    const base = Number.isNaN(requested) ? Date.parse(cancellation.cancelledAt) : requested;
    date = addSeconds(new Date(base), config.gracePeriodDays * 86400).getTime();
  }
  return Number.isNaN(floor.getTime()) || date >= floor.getTime() ? new Date(date) : floor;
}

/** The deletion date to announce (namespace annotation, notice): the recorded one unless it was moved. */
function announcedDeletionDate(cancellation: CancellationState, config: DeciderConfig): string {
  const enforced = deletionDateOf(cancellation, config);
  return enforced.getTime() === Date.parse(cancellation.deletionDate)
    ? cancellation.deletionDate
    : enforced.toISOString();
}

/**
 * When the final backup and the purge fall due: the deletion date, or the instant an operator asked for the
 * purge if that is earlier.
 */
export function purgeDueAt(cancellation: CancellationState, config: DeciderConfig): Date {
  const scheduled = deletionDateOf(cancellation, config);
  const asked = cancellation.purgeRequested ? Date.parse(cancellation.purgeRequested.requestedAt) : NaN;
  return !Number.isNaN(asked) && asked < scheduled.getTime() ? new Date(asked) : scheduled;
}

/**
 * Status deprovisioning: mark the namespace, tell the customer, soft-delete the website record, take a backup
 * until verified, take the final one at the deletion date (unless the first began then), then purge.
 */
export function decideDeprovisioning(ctx: DecisionContext): Decision[] {
  const { state, now } = ctx;
  const cancellation = state.cancellation;
  if (!cancellation) return [];
  const decisions: Decision[] = [];

  const markKey = cancellationKey(cancellation.cycle, 'mark-namespace');
  if (!state.steps[markKey] && !unmarkInFlight(state)) {
    decisions.push(
      startStep(ctx, markKey, 'MarkNamespaceDeprovisioning', {
        deprovisioningDate: cancellation.requestedAt,
        deletionDate: announcedDeletionDate(cancellation, ctx.config),
      }),
    );
  }
  const noticeKey = cancellationKey(cancellation.cycle, 'cancellation-notice');
  if (!state.steps[noticeKey]) {
    decisions.push(
      startStep(ctx, noticeKey, 'SendCancellationNotice', {
        deletionDate: announcedDeletionDate(cancellation, ctx.config),
        reason: cancellation.reason,
      }),
    );
  }
  // The purge does not wait for the soft delete: it deletes the record anyway, and a soft delete reaching
  // the service after that finds nothing (`found: false`).
  const softDeleteKey = cancellationKey(cancellation.cycle, 'soft-delete-website');
  if (!state.steps[softDeleteKey] && !websiteRecordBusy(state)) {
    decisions.push(
      startStep(ctx, softDeleteKey, 'SoftDeleteWebsiteRecord', {
        websiteId: websiteIdOf(state),
        deletedAt: cancellation.requestedAt,
      }),
    );
  }
  decisions.push(...decideBackup(ctx, cancellation));
  if (decisions.length > 0) return decisions;

  const { backup } = cancellation;
  const deletionDate = purgeDueAt(cancellation, ctx.config);
  if (!backup.verified || !backup.backupId || now < deletionDate) return [];
  // The round taken at cancellation guards the grace period, but the tenant kept working during it: a verified
  // round begun before the deletion date (or the operator's purge request) is followed by a final one, and the
  // purge starts from that one.
  if (!backup.startedAt || Date.parse(backup.startedAt) < deletionDate.getTime()) {
    return newBackupRound(ctx, cancellation);
  }
  const refusal = purgeRefusal(ctx, cancellation);
  if (!refusal) {
    return [{ type: 'PurgeStarted', data: { backupId: backup.backupId, startedAt: now.toISOString() } }];
  }
  // Already waiting for this reason: stay quiet until the retry falls due, then alert again.
  const waiting = backup.blockedReason?.code === refusal.reason.code && backup.blockedUntil !== undefined;
  if (waiting && !isPast(backup.blockedUntil, now)) return [];
  return [{ type: 'PurgeBlocked', data: refusal }];
}

/**
 * Why the purge may not start now, if it may not: only a billing cancellation, or an operator's with a reason
 * recorded, ever leads to a purge; and the cross-tenant guardrails (hourly cap, breaker) must agree.
 */
function purgeRefusal(
  ctx: DecisionContext,
  cancellation: CancellationState,
): { reason: FailureReason; retryAt: string } | undefined {
  const byBilling = cancellation.requestedBy === 'billing';
  const byOperator =
    cancellation.requestedBy.startsWith('operator:') &&
    cancellation.requestedBy.length > 'operator:'.length &&
    cancellation.reason.trim().length > 0;
  if (!byBilling && !byOperator) {
    return {
      reason: {
        code: PURGE_NOT_AUTHORISED,
        message: `cancellation by ${JSON.stringify(cancellation.requestedBy)} is neither billing's nor an operator's with a reason`,
        retryable: false,
      },
      retryAt: addSeconds(ctx.now, ctx.config.purgeRetryDelaySeconds).toISOString(),
    };
  }
  return ctx.purge.allowed ? undefined : { reason: ctx.purge.reason, retryAt: ctx.purge.retryAt };
}

/** Unmarking from an earlier reactivation must land before this cycle's marking, never after it. */
function unmarkInFlight(state: TenantState): boolean {
  const reactivation = state.reactivation;
  if (!reactivation) return false;
  return state.steps[reactivationKey(reactivation.count, 'unmark-namespace')]?.status === 'running';
}

/** The next backup round of this cancellation cycle. */
function newBackupRound(ctx: DecisionContext, cancellation: CancellationState): Decision[] {
  const backupId = backupIdFor(ctx.tenant.tenantId, cancellation.cycle, cancellation.backup.round + 1);
  return [{ type: 'BackupStarted', data: { backupId } }];
}

/**
 * Dump and copy, then verify each copy from its manifest. Any final failure blocks the purge (an alert) and
 * schedules a new round; nothing is ever purged without a verified backup.
 */
function decideBackup(ctx: DecisionContext, cancellation: CancellationState): Decision[] {
  const { state, now, config } = ctx;
  const { backup, cycle } = cancellation;
  const newRound = (): Decision[] => newBackupRound(ctx, cancellation);
  if (backup.round === 0) return newRound();
  if (backup.verified || !backup.backupId) return [];
  if (backup.blockedUntil) {
    return backup.retryRequested || isPast(backup.blockedUntil, now) ? newRound() : [];
  }
  const backupId = backup.backupId;
  const block = (reason: FailureReason): Decision[] => [
    {
      type: 'PurgeBlocked',
      data: { reason, retryAt: addSeconds(now, config.purgeRetryDelaySeconds).toISOString() },
    },
  ];

  const keys = {
    databases: backupKey(cycle, backup.round, 'databases'),
    storage: backupKey(cycle, backup.round, 'storage'),
    verifyDatabases: backupKey(cycle, backup.round, 'verify-databases'),
    verifyStorage: backupKey(cycle, backup.round, 'verify-storage'),
  };
  const decisions: Decision[] = [];
  for (const key of Object.values(keys)) {
    const run = state.steps[key];
    if (!run || !hasFailed(run)) continue;
    if (!mayRetry(run, config.maxAttempts)) return block(run.error ?? UNKNOWN_FAILURE);
    decisions.push(restartStep(ctx, run));
  }

  if (!state.steps[keys.databases])
    decisions.push(startStep(ctx, keys.databases, 'BackupDatabases', { backupId }));
  if (!state.steps[keys.storage]) decisions.push(startStep(ctx, keys.storage, 'BackupStorage', { backupId }));
  const copies = [
    {
      copy: state.steps[keys.databases],
      verifyKey: keys.verifyDatabases,
      command: 'VerifyDatabaseBackup' as const,
    },
    {
      copy: state.steps[keys.storage],
      verifyKey: keys.verifyStorage,
      command: 'VerifyStorageBackup' as const,
    },
  ];
  for (const { copy, verifyKey, command } of copies) {
    if (copy?.status !== 'succeeded' || state.steps[verifyKey]) continue;
    const manifestKey = manifestKeyOf(copy);
    if (manifestKey === undefined) {
      return block({
        code: BACKUP_MANIFEST_MISSING,
        message: `${copy.commandType} reported no manifestKey to verify the backup against`,
        retryable: true,
      });
    }
    decisions.push(startStep(ctx, verifyKey, command, { backupId, manifestKey }));
  }

  if (
    decisions.length === 0 &&
    isSucceeded(state, keys.verifyDatabases) &&
    isSucceeded(state, keys.verifyStorage)
  ) {
    const manifests = copies.map(({ copy }) => (copy ? manifestKeyOf(copy) : undefined));
    return [
      {
        type: 'BackupCompleted',
        data: { backupId, manifests: manifests.filter((key): key is string => key !== undefined) },
      },
    ];
  }
  return decisions;
}

function manifestKeyOf(run: StepState): string | undefined {
  const key = run.outputs?.['manifestKey'];
  return typeof key === 'string' && key.length > 0 ? key : undefined;
}

/**
 * Status purging: delete in the fixed order, retrying each step; a step that keeps failing raises an alert
 * and is tried again later. The purge waits for it: skipping would leave resources behind.
 */
export function decidePurge(ctx: DecisionContext): Decision[] {
  const { state, now, config } = ctx;
  const decisions: Decision[] = [];
  for (const step of PURGE_STEPS) {
    const key = purgeKey(step.resource);
    const run = state.steps[key];
    if (!run) {
      if (step.dependsOn.every((dep) => isSucceeded(state, purgeKey(dep)))) {
        decisions.push(startStep(ctx, key, step.command, purgeParams(state, step)));
      }
      continue;
    }
    if (hasFailed(run)) {
      if (mayRetry(run, config.maxAttempts)) {
        decisions.push(restartStep(ctx, run));
      } else {
        const retryAt = addSeconds(now, config.purgeRetryDelaySeconds).toISOString();
        const reason = run.error ?? UNKNOWN_FAILURE;
        decisions.push({
          type: 'StepParked',
          data: { step: key, commandId: run.commandId, reason, retryAt },
        });
      }
    } else if (run.status === 'parked' && (run.retryRequested || isPast(run.retryAt, now))) {
      decisions.push(restartStep(ctx, run));
    }
  }
  if (decisions.length === 0 && PURGE_STEPS.every((step) => isSucceeded(state, purgeKey(step.resource)))) {
    return [{ type: 'TenantPurged', data: { purgedAt: now.toISOString() } }];
  }
  return decisions;
}

function purgeParams(state: TenantState, step: PurgeStep): StepOutputs {
  return step.command === 'DeleteWebsiteRecord' ? { websiteId: websiteIdOf(state) } : {};
}

/** Status purged: tell the customer (its failure is an alert like any notice). */
export function decidePurged(ctx: DecisionContext): Decision[] {
  const { state } = ctx;
  if (state.steps[DELETION_CONFIRMATION_STEP]) return [];
  const purgedAt = state.purge?.purgedAt ?? ctx.now.toISOString();
  return [startStep(ctx, DELETION_CONFIRMATION_STEP, 'SendDeletionConfirmation', { purgedAt })];
}
