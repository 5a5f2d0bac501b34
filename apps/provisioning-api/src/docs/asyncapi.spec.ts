import { Parser } from '@asyncapi/parser';
import {
  BILLING_EVENTS,
  buildMessage,
  COMMAND_CATALOG,
  COMMAND_TYPES,
  commandRoutingKey,
  deterministicId,
  EXCHANGES,
  generateTenantId,
  INTEGRATION_EVENT_SOURCES,
  INTEGRATION_EVENTS,
  serviceQueueName,
  validateSubscriptionCreated,
  type CommandParams,
  type CommandType,
  type JsonSchema,
  type LifecycleEventData,
  type TenantProfile,
} from '@app/contracts';
import {
  billingCloudEventType,
  encodeCloudEvent,
  INTEGRATION_EVENT_SOURCE,
  integrationCloudEventType,
  parseEnvelope,
} from '@app/messaging';
import { commandViolations } from '@app/platform';
import Ajv from 'ajv';
import { buildAsyncApiDocument } from './asyncapi-document';

// The document as a client reads it from /api/asyncapi.json.
const document = JSON.parse(JSON.stringify(buildAsyncApiDocument())) as JsonSchema & {
  channels: Record<string, { address: string; bindings?: { amqp?: JsonSchema }; messages: JsonSchema }>;
  operations: Record<string, { action: string; reply?: { messages: { $ref: string }[] } }>;
  components: {
    schemas: Record<string, JsonSchema>;
    messages: Record<string, { payload?: { $ref: string } }>;
  };
};
// Formats (`email`) are documentation here: the rules they stand for are class-validator's, checked below.
const ajv = new Ajv({ strict: false, validateFormats: false, allErrors: true });
ajv.addSchema(document, 'asyncapi');
function validator(id: string) {
  const validate = ajv.getSchema(`asyncapi#/components/schemas/${id}`);
  if (!validate) throw new Error(`no schema ${id}`);
  return validate;
}

const now = new Date('2025-03-01T10:00:00.000Z');
const tenantId = generateTenantId('ABC Corporation', '7f3a9c');
const tenant: TenantProfile = {
  tenantId,
  companyName: 'ABC Corporation',
  adminEmail: 'admin@abc.example',
  billingEmail: 'billing@abc.example',
  tier: 'premium',
  region: 'eu-west',
  domain: 'abc-corporation.collectverything.com',
  subscriptionId: 'sub_123',
  plan: { price: 99.99, currency: 'EUR', billingPeriod: 'monthly' },
  createdAt: '2025-03-01T09:59:00Z',
};
const SAMPLE_PARAMS: { [C in keyof CommandParams]: CommandParams[C] } = {
  MarkNamespaceDeprovisioning: { deprovisioningDate: now.toISOString(), deletionDate: now.toISOString() },
  UpdateQuota: { fromTier: 'standard', toTier: 'premium' },
  UpdateDatabaseLimits: { fromTier: 'standard', toTier: 'premium' },
  UpdateBrokerLimits: { fromTier: 'standard', toTier: 'premium' },
  UpdateStorageQuota: { fromTier: 'standard', toTier: 'premium' },
  SendCancellationNotice: { deletionDate: now.toISOString(), reason: 'customer request' },
  SendReactivationNotice: { reactivatedAt: now.toISOString() },
  SendDeletionConfirmation: { purgedAt: now.toISOString() },
  BackupDatabases: { backupId: 'b-1' },
  BackupStorage: { backupId: 'b-1' },
  VerifyDatabaseBackup: { backupId: 'b-1', manifestKey: 'tenant/b-1/manifest.json' },
  VerifyStorageBackup: { backupId: 'b-1', manifestKey: 'tenant/b-1/manifest.json' },
  DeleteWebsiteRecord: { websiteId: 42 },
  ActivateWebsiteRecord: { websiteId: '42', activatedAt: now.toISOString() },
  SoftDeleteWebsiteRecord: { websiteId: null, deletedAt: now.toISOString() },
  RestoreWebsiteRecord: { websiteId: 42 },
  DeployWorkloads: { imageTag: 'v2.0.1' },
  SuspendWorkloads: {},
  ResumeWorkloads: { imageTag: 'v2.0.1' },
};

/** A command as the orchestrator's dispatcher builds it (`buildMessage`, a deterministic command id). */
function sampleCommand(type: CommandType) {
  const commandId = deterministicId(tenantId, type, '1');
  const params = (SAMPLE_PARAMS as Partial<Record<CommandType, object>>)[type] ?? {};
  return buildMessage(
    type,
    { step: 'databases', tenant, params },
    {
      tenantId,
      correlationId: 'corr-1',
      causationId: deterministicId('started', commandId),
      commandId,
      actor: 'orchestrator',
    },
    commandId,
    now,
  ) as unknown as JsonSchema & { data: JsonSchema; metadata: JsonSchema };
}

/** Whether the consumers' own checks (envelope parsing, then the resource services' command checks) accept it. */
function consumersAccept(message: unknown): boolean {
  const parsed = parseEnvelope(Buffer.from(JSON.stringify(message)), { contentType: 'application/json' });
  return parsed.ok && commandViolations(parsed.message).length === 0;
}

describe('AsyncAPI document of the bus', () => {
  it('is a valid AsyncAPI 3 document: the parser reports no error', async () => {
    const diagnostics = await new Parser().validate(document as never);
    const errors = diagnostics
      .filter((d) => d.severity === 0)
      .map((d) => `${d.code} at ${d.path.join('.')}: ${d.message}`);
    expect(errors).toEqual([]);
    expect(document.asyncapi).toMatch(/^3\./);
  });

  it('has a channel, a message with a payload schema and a dispatch with both results for every command', () => {
    for (const type of COMMAND_TYPES) {
      const { service, succeeded, failed } = COMMAND_CATALOG[type];
      const channel = document.channels[`commands.${commandRoutingKey(type)}`];
      expect({ type, address: channel?.address }).toEqual({ type, address: commandRoutingKey(type) });
      expect(channel.bindings?.amqp).toMatchObject({
        is: 'routingKey',
        exchange: { name: EXCHANGES.commands },
      });
      for (const message of [type, succeeded, failed]) {
        expect({ message, payload: document.components.messages[message]?.payload }).toEqual({
          message,
          payload: { $ref: `#/components/schemas/${message}` },
        });
        expect(document.components.schemas[message]).toMatchObject({ type: 'object' });
      }
      const replies = document.operations[`dispatch.${type}`].reply?.messages.map((m) => m.$ref);
      expect(replies).toEqual([
        `#/channels/tenant-stream/messages/${succeeded}`,
        `#/channels/tenant-stream/messages/${failed}`,
      ]);
      const queue = document.channels[`queue.${serviceQueueName(service)}`];
      expect(queue.bindings?.amqp?.['x-bound-to']).toContainEqual({
        exchange: EXCHANGES.commands,
        routingKey: commandRoutingKey(type),
      });
      expect(Object.keys(queue.messages)).toContain(type);
    }
  });

  it('has a channel on tenant.events and a payload schema for every integration event, and billing events', () => {
    for (const type of [...Object.values(INTEGRATION_EVENTS), ...Object.values(BILLING_EVENTS)]) {
      const exchange = type.startsWith('tenant.') ? EXCHANGES.tenantEvents : EXCHANGES.billing;
      const channel = Object.values(document.channels).find(
        (c) =>
          c.address === type && (c.bindings?.amqp?.exchange as JsonSchema | undefined)?.name === exchange,
      );
      expect({ type, channel: channel !== undefined }).toEqual({ type, channel: true });
      expect(document.components.messages[type]?.payload).toEqual({ $ref: `#/components/schemas/${type}` });
      expect(document.components.schemas[type]).toMatchObject({ type: 'object' });
    }
  });

  it('accepts every command as the orchestrator builds it', () => {
    for (const type of COMMAND_TYPES) {
      const validate = validator(type);
      const command = sampleCommand(type);
      expect(consumersAccept(command)).toBe(true);
      expect({ type, valid: validate(command), errors: validate.errors ?? null }).toEqual({
        type,
        valid: true,
        errors: null,
      });
    }
  });

  it('refuses every command the consumers refuse', () => {
    const validate = validator('UpdateQuota');
    const base = () => sampleCommand('UpdateQuota');
    const broken: [string, (c: ReturnType<typeof base>) => void][] = [
      ['an unknown type', (c) => (c.type = 'DropEverything')],
      ['no data', (c) => delete (c as Partial<typeof c>).data],
      ['no step', (c) => (c.data.step = '')],
      ['params not an object', (c) => (c.data.params = 'fromTier=standard')],
      ['tenant id not a tenant id', (c) => (c.metadata.tenantId = 'ABC Corp')],
      ['no message id', (c) => (c.metadata.messageId = '')],
      ['no correlation id', (c) => delete c.metadata.correlationId],
      ['schema version not an integer', (c) => (c.metadata.schemaVersion = 1.5)],
      ['causation id a number', (c) => (c.metadata.causationId = 7)],
      ['no actor', (c) => delete c.metadata.actor],
    ];
    for (const [what, breakIt] of broken) {
      const command = base();
      breakIt(command);
      expect({ what, consumers: consumersAccept(command), schema: validate(command) }).toEqual({
        what,
        consumers: false,
        schema: false,
      });
    }
    // What the schema adds to the consumers' checks: the contract of the params and of the tenant profile.
    const wrongTier = base();
    wrongTier.data.params = { fromTier: 'standard', toTier: 'gold' };
    expect(validate(wrongTier)).toBe(false);
  });

  it('describes each integration event as the orchestrator publishes it, and nothing else', () => {
    const sources: { [K in keyof typeof INTEGRATION_EVENT_SOURCES]: LifecycleEventData[K] } = {
      TenantActivated: { activatedAt: now.toISOString() },
      TenantProvisioningFailed: {
        failedStep: 'databases',
        reason: { code: 'DATABASE.GRANT_REFUSED', message: 'refused', retryable: false },
        compensatedSteps: ['namespace'],
      },
      ProvisioningCancelled: {
        subscriptionId: 'sub_123',
        reason: 'customer request',
        compensatedSteps: [],
        cancelledAt: now.toISOString(),
      },
      CancellationRequested: {
        subscriptionId: 'sub_123',
        reason: 'customer request',
        requestedAt: now.toISOString(),
        deletionDate: now.toISOString(),
        requestedBy: 'billing',
      },
      TenantReactivated: {
        subscriptionId: 'sub_123',
        reactivatedAt: now.toISOString(),
        requestedBy: 'billing',
      },
      TenantPurged: { purgedAt: now.toISOString() },
    };
    for (const [event, data] of Object.entries(sources)) {
      const type = INTEGRATION_EVENT_SOURCES[event as keyof typeof sources];
      const id = deterministicId('integration', event);
      // The body on the wire, built as the orchestrator's integration publisher builds it.
      const publish = (payload: object) =>
        JSON.parse(
          encodeCloudEvent({
            id,
            source: INTEGRATION_EVENT_SOURCE,
            type: integrationCloudEventType(type),
            subject: tenantId,
            time: now.toISOString(),
            data: payload,
            correlationId: 'corr-1',
            causationId: event,
          }).body.toString('utf8'),
        ) as JsonSchema;
      const validate = validator(type);
      expect({ event, valid: validate(publish({ tenantId, event, ...data })) }).toEqual({
        event,
        valid: true,
      });
      expect({ event, other: validate(publish({ tenantId, event: 'StepStarted', ...data })) }).toEqual({
        event,
        other: false,
      });
      expect({ event, noTenant: validate(publish({ event, ...data })) }).toEqual({ event, noTenant: false });
      const other = { ...publish({ tenantId, event, ...data }), type: 'com.collectverything.tenant.other' };
      expect({ event, otherType: validate(other) }).toEqual({ event, otherType: false });
    }
    expect(document.components.messages[INTEGRATION_EVENTS.activated]).toMatchObject({
      contentType: 'application/cloudevents+json; charset=utf-8',
      title: 'com.collectverything.tenant.activated',
    });
  });

  it('describes billing events sent as CloudEvents, structured or binary, with the DTO rules on their data', () => {
    const payload = {
      event: 'subscription.cancelled',
      timestamp: '2025-03-01T09:59:00Z',
      data: { subscription_id: 'sub_123', tenant_id: tenantId, cancellation_reason: 'customer request' },
    };
    const structured = (data: object) =>
      JSON.parse(
        encodeCloudEvent({
          id: 'billing-1',
          source: '/billing',
          type: billingCloudEventType(BILLING_EVENTS.cancelled),
          subject: 'sub_123',
          time: now.toISOString(),
          data,
          correlationId: 'c',
        }).body.toString('utf8'),
      ) as JsonSchema;
    const validate = validator(`${BILLING_EVENTS.cancelled}.cloudevent-structured`);
    expect(validate(structured(payload))).toBe(true);
    const noSubscription = { ...payload, data: { tenant_id: tenantId } };
    expect(validate(structured(noSubscription))).toBe(false);
    const binary = validator(`${BILLING_EVENTS.cancelled}.cloudevent-binary`);
    expect(binary(payload)).toBe(true);
    expect(binary(noSubscription)).toBe(false);
    const channel = document.channels[`billing-events.${BILLING_EVENTS.cancelled}`];
    expect(Object.keys(channel.messages)).toEqual([
      BILLING_EVENTS.cancelled,
      `${BILLING_EVENTS.cancelled}.cloudevent-structured`,
      `${BILLING_EVENTS.cancelled}.cloudevent-binary`,
    ]);
  });

  it("gives billing events the rules of intake's class-validator DTOs", () => {
    const payload = {
      event: 'subscription.created',
      timestamp: '2025-03-01T09:59:00Z',
      data: {
        subscription_id: 'sub_123',
        customer: { name: 'ABC Corporation', email: 'admin@abc.example' },
        plan: { tier: 'premium', price: 99.99, currency: 'EUR', billing_period: 'monthly' },
        metadata: { region: 'eu-west', industry: null },
      },
    };
    const envelope = (data: unknown) =>
      buildMessage(
        BILLING_EVENTS.created,
        data,
        { tenantId: 'sub_123', correlationId: 'c', actor: 'billing' },
        'm-1',
        now,
      );
    const validate = validator(BILLING_EVENTS.created);
    const cases: [string, (p: typeof payload) => void][] = [
      ['as sent', () => undefined],
      ['company name with a tab', (p) => (p.data.customer.name = 'ABC\tCorp')],
      ['unknown tier', (p) => (p.data.plan.tier = 'gold')],
      ['negative price', (p) => (p.data.plan.price = -1)],
      ['another event', (p) => (p.event = 'subscription.cancelled')],
      ['no region', (p) => delete (p.data.metadata as Partial<typeof p.data.metadata>).region],
      ['subscription id with a slash', (p) => (p.data.subscription_id = 'sub/1')],
      ['industry too long', (p) => (p.data.metadata.industry = 'x'.repeat(101) as never)],
    ];
    for (const [what, change] of cases) {
      const changed = structuredClone(payload);
      change(changed);
      const intake = validateSubscriptionCreated(changed).ok;
      expect({ what, intake }).toEqual({ what, intake: what === 'as sent' });
      expect({ what, schema: validate(envelope(changed)) }).toEqual({ what, schema: intake });
    }
  });
});
