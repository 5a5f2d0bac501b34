import type { Message } from './envelope';
import type { Region, Tier } from './tiers';

/**
 * The catalog of commands, with the bus names they travel by and their payloads. Commands are imperative and
 * travel over RabbitMQ to one resource service; each has exactly one success and one failure event, appended
 * by that service to the tenant stream. The other events are in tenant-events.ts (lifecycle, reservations),
 * integration-events.ts (billing and others) and guardrail-events.ts (purge guardrails).
 */

export const RESOURCE_SERVICES = [
  'k8s',
  'database',
  'storage',
  'broker',
  'monitoring',
  'notification',
] as const;
export type ResourceService = (typeof RESOURCE_SERVICES)[number];

export const EXCHANGES = {
  billing: 'billing.events',
  commands: 'provisioning.commands',
  tenantEvents: 'tenant.events',
} as const;

/** The durable queue each resource service consumes (competing consumers share it). */
export function serviceQueueName(service: ResourceService): string {
  return `provisioning.${service}-service`;
}

/** The queue through which billing's `billing.events` reach the API's intake (replicas compete on it). */
export const API_INTAKE_QUEUE = 'provisioning.api-intake';

/** What a tenant is, as intake accepted it. Carried by every command so services need no lookup. */
export interface TenantProfile {
  tenantId: string;
  companyName: string;
  adminEmail: string;
  billingEmail: string;
  tier: Tier;
  region: Region;
  domain: string;
  subscriptionId: string;
  plan: { price: number; currency: string; billingPeriod: 'monthly' | 'annual' };
  companySize?: string;
  industry?: string;
  /** When billing created the subscription (spec's `created-date` annotation). */
  createdAt: string;
}

interface CommandSpec {
  service: ResourceService;
  succeeded: string;
  failed: string;
}

export const COMMAND_CATALOG = {
  // k8s-service
  ProvisionNamespace: {
    service: 'k8s',
    succeeded: 'NamespaceProvisioned',
    failed: 'NamespaceProvisioningFailed',
  },
  RemoveNamespace: { service: 'k8s', succeeded: 'NamespaceRemoved', failed: 'NamespaceRemovalFailed' },
  DeployWorkloads: { service: 'k8s', succeeded: 'WorkloadsDeployed', failed: 'WorkloadsDeploymentFailed' },
  RemoveWorkloads: { service: 'k8s', succeeded: 'WorkloadsRemoved', failed: 'WorkloadsRemovalFailed' },
  ConfigureIngress: { service: 'k8s', succeeded: 'IngressConfigured', failed: 'IngressConfigurationFailed' },
  RemoveIngress: { service: 'k8s', succeeded: 'IngressRemoved', failed: 'IngressRemovalFailed' },
  VerifyKubernetes: {
    service: 'k8s',
    succeeded: 'KubernetesVerified',
    failed: 'KubernetesVerificationFailed',
  },
  MarkNamespaceDeprovisioning: {
    service: 'k8s',
    succeeded: 'NamespaceMarkedDeprovisioning',
    failed: 'NamespaceMarkingFailed',
  },
  UnmarkNamespaceDeprovisioning: {
    service: 'k8s',
    succeeded: 'NamespaceUnmarked',
    failed: 'NamespaceUnmarkingFailed',
  },
  UpdateQuota: { service: 'k8s', succeeded: 'QuotaUpdated', failed: 'QuotaUpdateRefused' },
  SuspendWorkloads: { service: 'k8s', succeeded: 'WorkloadsSuspended', failed: 'WorkloadsSuspensionFailed' },
  ResumeWorkloads: { service: 'k8s', succeeded: 'WorkloadsResumed', failed: 'WorkloadsResumptionFailed' },
  // database-service
  ProvisionDatabases: {
    service: 'database',
    succeeded: 'DatabasesProvisioned',
    failed: 'DatabasesProvisioningFailed',
  },
  RemoveDatabases: { service: 'database', succeeded: 'DatabasesRemoved', failed: 'DatabasesRemovalFailed' },
  VerifyDatabases: {
    service: 'database',
    succeeded: 'DatabasesVerified',
    failed: 'DatabasesVerificationFailed',
  },
  BackupDatabases: { service: 'database', succeeded: 'DatabasesBackedUp', failed: 'DatabasesBackupFailed' },
  VerifyDatabaseBackup: {
    service: 'database',
    succeeded: 'DatabaseBackupVerified',
    failed: 'DatabaseBackupVerificationFailed',
  },
  UpdateDatabaseLimits: {
    service: 'database',
    succeeded: 'DatabaseLimitsUpdated',
    failed: 'DatabaseLimitsUpdateFailed',
  },
  // storage-service
  ProvisionStorage: {
    service: 'storage',
    succeeded: 'StorageProvisioned',
    failed: 'StorageProvisioningFailed',
  },
  RemoveStorage: { service: 'storage', succeeded: 'StorageRemoved', failed: 'StorageRemovalFailed' },
  VerifyStorage: { service: 'storage', succeeded: 'StorageVerified', failed: 'StorageVerificationFailed' },
  BackupStorage: { service: 'storage', succeeded: 'StorageBackedUp', failed: 'StorageBackupFailed' },
  VerifyStorageBackup: {
    service: 'storage',
    succeeded: 'StorageBackupVerified',
    failed: 'StorageBackupVerificationFailed',
  },
  UpdateStorageQuota: {
    service: 'storage',
    succeeded: 'StorageQuotaUpdated',
    failed: 'StorageQuotaUpdateFailed',
  },
  // broker-service
  ProvisionBroker: { service: 'broker', succeeded: 'BrokerProvisioned', failed: 'BrokerProvisioningFailed' },
  RemoveBroker: { service: 'broker', succeeded: 'BrokerRemoved', failed: 'BrokerRemovalFailed' },
  VerifyBroker: { service: 'broker', succeeded: 'BrokerVerified', failed: 'BrokerVerificationFailed' },
  UpdateBrokerLimits: {
    service: 'broker',
    succeeded: 'BrokerLimitsUpdated',
    failed: 'BrokerLimitsUpdateFailed',
  },
  // monitoring-service
  ProvisionMonitoring: {
    service: 'monitoring',
    succeeded: 'MonitoringProvisioned',
    failed: 'MonitoringProvisioningFailed',
  },
  RemoveMonitoring: {
    service: 'monitoring',
    succeeded: 'MonitoringRemoved',
    failed: 'MonitoringRemovalFailed',
  },
  CreateGrafanaViewer: {
    service: 'monitoring',
    succeeded: 'GrafanaViewerCreated',
    failed: 'GrafanaViewerCreationFailed',
  },
  RemoveGrafanaViewer: {
    service: 'monitoring',
    succeeded: 'GrafanaViewerRemoved',
    failed: 'GrafanaViewerRemovalFailed',
  },
  // notification-service
  CreateWebsiteRecord: {
    service: 'notification',
    succeeded: 'WebsiteRecordCreated',
    failed: 'WebsiteRecordCreationFailed',
  },
  DeleteWebsiteRecord: {
    service: 'notification',
    succeeded: 'WebsiteRecordDeleted',
    failed: 'WebsiteRecordDeletionFailed',
  },
  ActivateWebsiteRecord: {
    service: 'notification',
    succeeded: 'WebsiteRecordActivated',
    failed: 'WebsiteRecordActivationFailed',
  },
  SoftDeleteWebsiteRecord: {
    service: 'notification',
    succeeded: 'WebsiteRecordSoftDeleted',
    failed: 'WebsiteRecordSoftDeletionFailed',
  },
  RestoreWebsiteRecord: {
    service: 'notification',
    succeeded: 'WebsiteRecordRestored',
    failed: 'WebsiteRecordRestorationFailed',
  },
  SendWelcomeEmail: { service: 'notification', succeeded: 'WelcomeEmailSent', failed: 'WelcomeEmailFailed' },
  SendCancellationNotice: {
    service: 'notification',
    succeeded: 'CancellationNoticeSent',
    failed: 'CancellationNoticeFailed',
  },
  SendReactivationNotice: {
    service: 'notification',
    succeeded: 'ReactivationNoticeSent',
    failed: 'ReactivationNoticeFailed',
  },
  SendDeletionConfirmation: {
    service: 'notification',
    succeeded: 'DeletionConfirmationSent',
    failed: 'DeletionConfirmationFailed',
  },
} as const satisfies Record<string, CommandSpec>;

export type CommandType = keyof typeof COMMAND_CATALOG;
export type CommandSucceededType = (typeof COMMAND_CATALOG)[CommandType]['succeeded'];
export type CommandFailedType = (typeof COMMAND_CATALOG)[CommandType]['failed'];

export const COMMAND_TYPES = Object.keys(COMMAND_CATALOG) as CommandType[];

export function isCommandType(value: unknown): value is CommandType {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(COMMAND_CATALOG, value);
}

/** `<service>.<action>`, e.g. `database.provision-databases` (DESIGN.md section 5). */
export function commandRoutingKey(type: CommandType): string {
  const action = type.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
  return `${COMMAND_CATALOG[type].service}.${action}`;
}

type ResultIndexEntry = { command: CommandType; outcome: 'succeeded' | 'failed' };
const RESULT_INDEX: ReadonlyMap<string, ResultIndexEntry> = new Map(
  COMMAND_TYPES.flatMap((command): [string, ResultIndexEntry][] => [
    [COMMAND_CATALOG[command].succeeded, { command, outcome: 'succeeded' }],
    [COMMAND_CATALOG[command].failed, { command, outcome: 'failed' }],
  ]),
);

/** For an event type, the command it answers and whether it reports success or failure. */
export function commandForResult(
  eventType: string,
): { command: CommandType; outcome: 'succeeded' | 'failed' } | undefined {
  return RESULT_INDEX.get(eventType);
}

// ---------------------------------------------------------------------------------------------------------
// Command payloads

/** Parameters some commands need beyond the tenant profile. */
export interface CommandParams {
  MarkNamespaceDeprovisioning: { deprovisioningDate: string; deletionDate: string };
  UpdateQuota: { fromTier: Tier; toTier: Tier; imageTag?: string };
  /** The tier change's limits on the shared servers, applied once its quota update succeeded. */
  UpdateDatabaseLimits: { fromTier: Tier; toTier: Tier };
  UpdateBrokerLimits: { fromTier: Tier; toTier: Tier };
  UpdateStorageQuota: { fromTier: Tier; toTier: Tier };
  SendCancellationNotice: { deletionDate: string; reason: string };
  SendReactivationNotice: { reactivatedAt: string };
  SendDeletionConfirmation: { purgedAt: string };
  BackupDatabases: { backupId: string };
  BackupStorage: { backupId: string };
  VerifyDatabaseBackup: { backupId: string; manifestKey: string };
  VerifyStorageBackup: { backupId: string; manifestKey: string };
  DeleteWebsiteRecord: { websiteId: string | number | null };
  /** `activatedAt` is TenantActivated's instant, so the record and the tenant name the same moment. */
  ActivateWebsiteRecord: { websiteId: string | number | null; activatedAt: string };
  /** `websiteId` from CreateWebsiteRecord's outputs, null to look the record up by tenant. */
  SoftDeleteWebsiteRecord: { websiteId: string | number | null; deletedAt: string };
  RestoreWebsiteRecord: { websiteId: string | number | null };
  /**
   * `imageTag`: the tenant's own image tag (an image tag change, or one applied earlier), instead of the
   * k8s-service's IMAGE_TAG; absent, the service's. Every command that renders the workloads carries it, so a
   * tier change, suspension or resumption keeps the tag the tenant runs.
   */
  DeployWorkloads: { imageTag?: string };
  SuspendWorkloads: { imageTag?: string };
  ResumeWorkloads: { imageTag?: string };
}
export type ParamsOf<C extends CommandType> = C extends keyof CommandParams
  ? CommandParams[C]
  : Record<string, never>;

export interface CommandData<C extends CommandType = CommandType> {
  /** The saga step this command serves (e.g. `databases`, `purge:databases`). */
  step: string;
  tenant: TenantProfile;
  params: ParamsOf<C>;
}

export type CommandMessage<C extends CommandType = CommandType> = Message<C, CommandData<C>>;

// ---------------------------------------------------------------------------------------------------------
// Result payloads

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** Facts a service reports: names, ids, secret-store paths, checksums. Never secret values. */
export type StepOutputs = { [key: string]: JsonValue };

export interface CommandSucceededData {
  commandId: string;
  step: string;
  outputs: StepOutputs;
}

export interface FailureReason {
  /** Stable code, e.g. `DATABASE.GRANT_REFUSED`. */
  code: string;
  message: string;
  retryable: boolean;
}

export interface CommandFailedData {
  commandId: string;
  step: string;
  error: FailureReason;
  attempts: number;
}

export type CommandSucceededEvent = Message<CommandSucceededType, CommandSucceededData>;
export type CommandFailedEvent = Message<CommandFailedType, CommandFailedData>;
