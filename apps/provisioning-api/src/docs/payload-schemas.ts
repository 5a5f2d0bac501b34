import {
  COMMAND_CATALOG,
  INTEGRATION_EVENT_SOURCES,
  REGIONS,
  TENANT_ID_PATTERN,
  TIERS,
  IMAGE_TAG_PATTERN,
  type CommandFailedData,
  type CommandParams,
  type CommandSucceededData,
  type CommandType,
  type FailureReason,
  type BillingEventType,
  type IntegrationEventType,
  type IntegrationSourceType,
  type JsonValue,
  type LifecycleEventData,
  type MessageMetadata,
  type TenantProfile,
} from '@app/contracts';
import { billingCloudEventType, INTEGRATION_EVENT_SOURCE, integrationCloudEventType } from '@app/messaging';
import { z } from 'zod';

/**
 * The bus's payloads as zod schemas, typed against the contracts' interfaces (each `satisfies` one, and every
 * command's params and every integration source has its schema, or this file does not compile), and holding
 * the rules the consumers check at run time: the envelope checks of `@app/messaging` and the command checks of
 * `@app/platform` (`commandViolations`); `asyncapi.spec.ts` runs both against the schemas. Objects stay open
 * (`looseObject`): consumers ignore fields they do not know, so producers may add some.
 */

const text = z.string().min(1);
const instant = text.describe('ISO-8601 instant');
const tenantId = z.string().regex(TENANT_ID_PATTERN).describe('Tenant id, e.g. abc-corporation-7f3a9c');
const tier = z.enum(TIERS);

const metadataShape = {
  messageId: text.describe('Unique id of the message; consumers dedupe by it'),
  schemaVersion: z.int().describe('Version of the `data` schema of this message type'),
  occurredAt: instant,
  tenantId: text.describe(
    'The tenant concerned (for billing messages: the subscription id until one exists)',
  ),
  correlationId: text.describe('Shared by every message that stems from one business request'),
  causationId: text.nullable().describe('The message that directly caused this one; null for the first'),
  commandId: text.optional().describe('The command this message is or answers'),
  actor: text.describe('Service (or operator:<name>) that produced the message'),
};

export const messageMetadata = z.looseObject(metadataShape) satisfies z.ZodType<MessageMetadata>;
/** A command names a real tenant in its metadata (`commandViolations`). */
export const commandMetadata = z.looseObject({
  ...metadataShape,
  tenantId,
}) satisfies z.ZodType<MessageMetadata>;

/** AMQP application headers the publisher sets beside the standard properties (`publishOptionsFor`). */
export const amqpHeaders = z.looseObject({
  'causation-id': text.nullable(),
  'tenant-id': text,
  'schema-version': z.int(),
  'command-id': text.optional(),
  actor: text,
  traceparent: text
    .optional()
    .describe('W3C trace context of the publish span, when tracing is on (OpenTelemetry, README "Tracing")'),
  tracestate: text.optional().describe('W3C tracestate beside `traceparent`'),
});

export const tenantProfile = z.looseObject({
  tenantId,
  companyName: z.string(),
  adminEmail: z.string(),
  billingEmail: z.string(),
  tier,
  region: z.enum(REGIONS),
  domain: z.string(),
  subscriptionId: z.string(),
  plan: z.looseObject({
    price: z.number(),
    currency: z.string(),
    billingPeriod: z.enum(['monthly', 'annual']),
  }),
  companySize: z.string().optional(),
  industry: z.string().optional(),
  createdAt: instant,
}) satisfies z.ZodType<TenantProfile>;

const imageTag = z
  .string()
  .regex(IMAGE_TAG_PATTERN)
  .optional()
  .describe("The tenant's own image tag (an OCI tag); absent: the k8s-service's IMAGE_TAG");
const tierChange = z.looseObject({ fromTier: tier, toTier: tier });
const workloadsRendering = z.looseObject({ imageTag });
const websiteId = z.union([z.string(), z.number(), z.null()]).describe('null: look the record up by tenant');
const backup = z.looseObject({ backupId: text });
const backupCheck = z.looseObject({ backupId: text, manifestKey: text });

const PARAMS: { [C in keyof CommandParams]: z.ZodType<CommandParams[C]> } = {
  MarkNamespaceDeprovisioning: z.looseObject({ deprovisioningDate: instant, deletionDate: instant }),
  UpdateQuota: z.looseObject({ fromTier: tier, toTier: tier, imageTag }),
  UpdateDatabaseLimits: tierChange,
  UpdateBrokerLimits: tierChange,
  UpdateStorageQuota: tierChange,
  SendCancellationNotice: z.looseObject({ deletionDate: instant, reason: z.string() }),
  SendReactivationNotice: z.looseObject({ reactivatedAt: instant }),
  SendDeletionConfirmation: z.looseObject({ purgedAt: instant }),
  BackupDatabases: backup,
  BackupStorage: backup,
  VerifyDatabaseBackup: backupCheck,
  VerifyStorageBackup: backupCheck,
  DeleteWebsiteRecord: z.looseObject({ websiteId }),
  ActivateWebsiteRecord: z.looseObject({ websiteId, activatedAt: instant }),
  SoftDeleteWebsiteRecord: z.looseObject({ websiteId, deletedAt: instant }),
  RestoreWebsiteRecord: z.looseObject({ websiteId }),
  DeployWorkloads: workloadsRendering,
  SuspendWorkloads: workloadsRendering,
  ResumeWorkloads: workloadsRendering,
};
const NO_PARAMS = z.looseObject({}).describe('No parameters beyond the tenant profile');

function paramsOf(type: CommandType): z.ZodType {
  return (PARAMS as Partial<Record<CommandType, z.ZodType>>)[type] ?? NO_PARAMS;
}

function envelope(type: string, data: z.ZodType, metadata: z.ZodType = messageMetadata): z.ZodType {
  return z.looseObject({ type: z.literal(type), data, metadata });
}

export function commandSchema(type: CommandType): z.ZodType {
  const data = z.looseObject({
    step: text.describe('The saga step this command serves, e.g. databases or purge:databases'),
    tenant: tenantProfile.describe('The tenant as intake accepted it; tenantId equals metadata.tenantId'),
    params: paramsOf(type),
  });
  return envelope(type, data, commandMetadata);
}

/** Any JSON value (recursive: registered once as `JsonValue`, referred to by the schemas that hold one). */
export const jsonValue: z.ZodType<JsonValue> = z.lazy(() =>
  z.union([
    z.string(),
    z.number(),
    z.boolean(),
    z.null(),
    z.array(jsonValue),
    z.record(z.string(), jsonValue),
  ]),
);
const stepOutputs = z.record(z.string(), jsonValue).describe('Names, ids, secret-store paths: never secrets');
export const failureReason = z.looseObject({
  code: text.describe('Stable code, e.g. DATABASE.GRANT_REFUSED'),
  message: z.string(),
  retryable: z.boolean(),
}) satisfies z.ZodType<FailureReason>;

const succeededData = z.looseObject({
  commandId: text,
  step: text,
  outputs: stepOutputs,
}) satisfies z.ZodType<CommandSucceededData>;
const failedData = z.looseObject({
  commandId: text,
  step: text,
  error: failureReason,
  attempts: z.int().min(1),
}) satisfies z.ZodType<CommandFailedData>;

/** The two result events of a command, as its service appends them to the tenant stream. */
export function resultSchemas(type: CommandType): { succeeded: z.ZodType; failed: z.ZodType } {
  const { succeeded, failed } = COMMAND_CATALOG[type];
  return { succeeded: envelope(succeeded, succeededData), failed: envelope(failed, failedData) };
}

const steps = z.array(z.string());
const SOURCE_DATA = {
  TenantActivated: z.looseObject({ activatedAt: instant }),
  TenantProvisioningFailed: z.looseObject({
    failedStep: z.string(),
    reason: failureReason,
    compensatedSteps: steps,
  }),
  ProvisioningCancelled: z.looseObject({
    subscriptionId: z.string(),
    reason: z.string(),
    compensatedSteps: steps,
    cancelledAt: instant,
  }),
  CancellationRequested: z.looseObject({
    subscriptionId: z.string(),
    reason: z.string(),
    requestedAt: instant,
    deletionDate: instant,
    requestedBy: z.string(),
    requestedEffectiveDate: z.string().optional(),
    clampedReason: z.string().optional(),
  }),
  TenantReactivated: z.looseObject({
    subscriptionId: z.string(),
    reactivatedAt: instant,
    requestedAt: instant.optional(),
    requestedBy: z.string(),
  }),
  TenantPurged: z.looseObject({ purgedAt: instant }),
} satisfies { [K in IntegrationSourceType]: z.ZodType<LifecycleEventData[K]> };

/** The CloudEvents 1.0 context attributes every structured event carries (`@app/messaging` cloudevents.ts). */
function cloudEvent(type: string, source: z.ZodType, subject: z.ZodType, data: z.ZodType) {
  return z.looseObject({
    specversion: z.literal('1.0'),
    id: text.describe('Unique per source; consumers dedupe by it (it is also the AMQP message id)'),
    source,
    type: z.literal(type),
    subject,
    time: z.iso.datetime({ offset: true }).describe('When the fact happened (RFC 3339)'),
    datacontenttype: z.literal('application/json'),
    correlationid: text.optional().describe('Extension: shared by every message of one business request'),
    causationid: text.optional().describe('Extension: the message or event that caused this one'),
    traceparent: z
      .string()
      .regex(/^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/)
      .optional()
      .describe('Distributed Tracing extension: the W3C trace context the fact was recorded in'),
    tracestate: text.optional().describe('Distributed Tracing extension: the W3C tracestate beside it'),
    data,
  });
}

/**
 * An integration event as published: a CloudEvent in structured mode whose `data` is the lifecycle event's own
 * data with the tenant id and the lifecycle event type beside it, one shape per lifecycle event that publishes
 * it; its id derived from that lifecycle event's id, so a republished event keeps it.
 */
export function integrationSchema(type: IntegrationEventType): z.ZodType {
  const sources = (Object.keys(INTEGRATION_EVENT_SOURCES) as IntegrationSourceType[]).filter(
    (source) => INTEGRATION_EVENT_SOURCES[source] === type,
  );
  const shapes = sources.map((source) => SOURCE_DATA[source].extend({ tenantId, event: z.literal(source) }));
  if (shapes.length === 0) throw new Error(`no lifecycle event publishes ${type}`);
  const [first, ...others] = shapes;
  return cloudEvent(
    integrationCloudEventType(type),
    z.literal(INTEGRATION_EVENT_SOURCE),
    tenantId.describe('The tenant the event is about'),
    others.length === 0 ? first : z.discriminatedUnion('event', [first, ...others]),
  ).extend({ correlationid: text, causationid: text.describe('The lifecycle event published') });
}

/** A billing event as a CloudEvent in structured mode: `data` is billing's payload (`data` given as JSON Schema). */
export function billingCloudEventSchema(type: BillingEventType): z.ZodType {
  return cloudEvent(
    billingCloudEventType(type),
    z.string().min(1).describe("Billing's URI-reference for itself, e.g. /billing"),
    z.string().min(1).optional().describe('The subscription id'),
    z.looseObject({}).describe('The webhook payload'),
  );
}

/** The AMQP application properties of the CloudEvents binding (binary mode; copied beside a structured event). */
export const cloudEventHeaders = z.looseObject({
  'cloudEvents:specversion': z.literal('1.0'),
  'cloudEvents:id': text,
  'cloudEvents:type': text,
  'cloudEvents:source': text,
  'cloudEvents:subject': text.optional(),
  'cloudEvents:time': text.optional(),
  'cloudEvents:traceparent': text.optional(),
  'cloudEvents:tracestate': text.optional(),
});
