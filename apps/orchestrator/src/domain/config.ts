import type { CommandType } from '@app/contracts';

/** Policy knobs of the decider; the runtime reads them from its validated configuration. */
export interface DeciderConfig {
  /** Attempts of one command (first run included) before a provision/verify failure rolls the tenant back. */
  maxAttempts: number;
  /** Attempts of one compensation before it is parked for an operator. */
  compensationMaxAttempts: number;
  /** Grace period used when a cancellation carries no usable deletion date. */
  gracePeriodDays: number;
  /** Wait before a blocked backup or a parked purge step is tried again. */
  purgeRetryDelaySeconds: number;
  /** Per-command deadline overrides; provisioning steps default to PROVISIONING_STEPS, the rest to the table below. */
  deadlineSeconds?: Partial<Record<CommandType, number>>;
  /** Multiplies every deadline (fault-injection tests shrink them so a silent service times out fast). */
  deadlineScale?: number;
}

export const DEFAULT_DECIDER_CONFIG: DeciderConfig = {
  maxAttempts: 2,
  compensationMaxAttempts: 3,
  gracePeriodDays: 30,
  purgeRetryDelaySeconds: 3600,
};

/**
 * Deadlines of commands outside the provisioning DAG. Removing a namespace waits for its finalizers and
 * backups copy whole buckets, hence their longer budgets.
 */
export const DEFAULT_COMMAND_DEADLINE_SECONDS: Partial<Record<CommandType, number>> = {
  RemoveNamespace: 900,
  RemoveWorkloads: 300,
  RemoveIngress: 120,
  RemoveDatabases: 300,
  RemoveStorage: 600,
  RemoveBroker: 120,
  RemoveMonitoring: 120,
  RemoveGrafanaViewer: 60,
  DeleteWebsiteRecord: 60,
  SoftDeleteWebsiteRecord: 60,
  RestoreWebsiteRecord: 60,
  MarkNamespaceDeprovisioning: 120,
  UnmarkNamespaceDeprovisioning: 120,
  SendCancellationNotice: 120,
  SendReactivationNotice: 120,
  SendDeletionConfirmation: 120,
  BackupDatabases: 3600,
  BackupStorage: 3600,
  VerifyDatabaseBackup: 900,
  VerifyStorageBackup: 900,
  UpdateQuota: 120,
  UpdateDatabaseLimits: 120,
  UpdateBrokerLimits: 60,
  UpdateStorageQuota: 120,
  SuspendWorkloads: 300,
  ResumeWorkloads: 300,
};

/** Used only for a command missing from every table (a new catalog entry not yet given a budget). */
export const FALLBACK_DEADLINE_SECONDS = 300;
