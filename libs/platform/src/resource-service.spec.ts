import {
  buildMessage,
  COMMAND_CATALOG,
  deterministicId,
  domainFor,
  generateTenantId,
  resultEventId,
  tenantStream,
  type CommandMessage,
  type CommandType,
  type LifecycleEventData,
  type StepOutputs,
  type TenantProfile,
} from '@app/contracts';
import { MemoryEventStore, StreamNotFoundError, type RecordedEvent } from '@app/event-store';
import {
  PermanentError,
  type HandlerContext,
  type MessageConsumer,
  type MessageHandler,
  type ParkedMessage,
  type Subscription,
} from '@app/messaging';
import pino from 'pino';
import { commandViolations, startResourceService, UNDECIDED_COMMAND_CODE } from './resource-service';

const tenantId = generateTenantId('Spec Co', 'a1b2c3');
const tenant: TenantProfile = {
  tenantId,
  companyName: 'Spec Co',
  adminEmail: 'admin@example.com',
  billingEmail: 'billing@example.com',
  tier: 'standard',
  region: 'eu-west',
  domain: domainFor(tenantId),
  subscriptionId: 'sub_1',
  plan: { price: 1, currency: 'EUR', billingPeriod: 'monthly' },
  createdAt: '2025-06-01T00:00:00.000Z',
};

function commandWith(params: unknown) {
  return buildMessage(
    'ProvisionNamespace',
    { step: 'namespace', tenant, params: params as Record<string, never> },
    { tenantId, correlationId: 'c', actor: 'test' },
    'cmd-1',
    new Date('2025-06-01T00:00:00.000Z'),
  );
}

describe('commandViolations', () => {
  it('accepts a well-formed command', () => {
    expect(commandViolations(commandWith({}))).toEqual([]);
  });

  it.each([
    ['null', null],
    ['missing', undefined],
    ['a string', 'x'],
  ])('refuses params that are %s, so the command is parked at once rather than retried', (_, params) => {
    expect(commandViolations(commandWith(params))).toEqual(['data.params must be an object']);
  });
});

const BACKUP_PARAMS = { backupId: 'backup-1', manifestKey: 'tenants/x/backup-1/manifest.json' };

function command(
  type: CommandType,
  commandId: string,
  step: string,
  params: StepOutputs,
  who: TenantProfile = tenant,
): CommandMessage {
  return buildMessage(
    type,
    { step, tenant: who, params: params as never },
    { tenantId: who.tenantId, correlationId: 'corr-1', actor: 'orchestrator' },
    commandId,
    new Date('2025-07-15T10:00:00.000Z'),
  ) as CommandMessage;
}

/** What the orchestrator appends before it dispatches a command (the stream is its outbox). */
async function decide(
  store: MemoryEventStore,
  type: CommandType,
  commandId: string,
  step: string,
  params: StepOutputs,
): Promise<void> {
  const data: LifecycleEventData['StepStarted'] = {
    step,
    commandId,
    commandType: type,
    service: COMMAND_CATALOG[type].service,
    attempt: 1,
    deadline: '2025-07-15T10:05:00.000Z',
    params,
  };
  const id = deterministicId('decision', commandId);
  await store.append(tenantStream(tenantId), [{ id, type: 'StepStarted', data }], {
    expectedRevision: 'any',
  });
}

async function streamOf(store: MemoryEventStore, id = tenantId): Promise<RecordedEvent[]> {
  try {
    return await store.readStream(tenantStream(id));
  } catch (error) {
    if (error instanceof StreamNotFoundError) return [];
    throw error;
  }
}

/** A database service over the in-memory store, its consumer replaced by direct calls to what it subscribed. */
async function databaseService() {
  const store = new MemoryEventStore();
  await store.append(
    tenantStream(tenantId),
    [
      {
        id: deterministicId('requested', tenantId),
        type: 'TenantRequested',
        data: { tenant, source: 'bus' },
      },
    ],
    { expectedRevision: 'no_stream' },
  );
  let subscription: Subscription | undefined;
  const consumer = {
    subscribe: async (s: Subscription) => void (subscription = s),
  } as unknown as MessageConsumer;
  const ran: string[] = [];
  const logger = pino({ level: 'silent' });
  const run = async (message: CommandMessage) => {
    ran.push(`${message.type} ${message.metadata.messageId}`);
    return { done: true };
  };
  await startResourceService({
    service: 'database',
    handlers: { RemoveDatabases: run, VerifyDatabaseBackup: run, ProvisionDatabases: run },
    eventStore: store,
    consumer,
    logger,
  });
  const context = { attempt: 1, redelivered: false, logger } as HandlerContext;
  const deliver = (message: CommandMessage) =>
    (subscription?.handlers[message.type] as MessageHandler<CommandMessage>).handle(message, context);
  const park = (
    message: CommandMessage,
    code: string,
    reason: ParkedMessage['reason'] = 'retries-exhausted',
  ) =>
    (subscription?.onParked as (parked: ParkedMessage) => Promise<void>)({
      queue: 'provisioning.database-service',
      reason,
      error: { code, message: 'x', retryable: false },
      attempts: 5,
      envelope: message,
    } as ParkedMessage);
  return { store, ran, deliver, park };
}

/** The refusal a delivery ends with: a permanent error (parked at once), never a retry. */
async function refusalOf(delivery: Promise<void>): Promise<PermanentError> {
  const error = await delivery.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PermanentError);
  expect(error).toMatchObject({ code: UNDECIDED_COMMAND_CODE, retryable: false });
  return error as PermanentError;
}

const refusals = (events: RecordedEvent[]) => events.filter((e) => e.type === 'UndecidedCommandRefused');
const outcomes = (events: RecordedEvent[]) =>
  events.filter((e) => ['DatabasesRemoved', 'DatabasesRemovalFailed'].includes(e.type));

describe('startResourceService runs only the commands the orchestrator decided', () => {
  it('runs a decided command, matching its params whatever their key order, and records its outcome once', async () => {
    const { store, ran, deliver } = await databaseService();
    await decide(
      store,
      'VerifyDatabaseBackup',
      'cmd-verify',
      'purge:backup-1:verify-databases',
      BACKUP_PARAMS,
    );
    const sent = command('VerifyDatabaseBackup', 'cmd-verify', 'purge:backup-1:verify-databases', {
      manifestKey: BACKUP_PARAMS.manifestKey,
      backupId: BACKUP_PARAMS.backupId,
    });
    await deliver(sent);
    await deliver(sent);
    expect(ran).toEqual(['VerifyDatabaseBackup cmd-verify']);
    const events = await streamOf(store);
    expect(events.filter((e) => e.id === resultEventId('cmd-verify')).map((e) => e.type)).toEqual([
      'DatabaseBackupVerified',
    ]);
    expect(refusals(events)).toEqual([]);
  });

  it('finds a decision older than the last 500 events of the stream', async () => {
    const { store, ran, deliver } = await databaseService();
    await decide(store, 'RemoveDatabases', 'cmd-old', 'purge:databases', {});
    const filler = Array.from({ length: 1200 }, (_, i) => ({
      id: deterministicId('filler', String(i)),
      type: 'BackupStarted',
      data: { backupId: `b-${i}` },
    }));
    await store.append(tenantStream(tenantId), filler, { expectedRevision: 'any' });
    await deliver(command('RemoveDatabases', 'cmd-old', 'purge:databases', {}));
    expect(ran).toEqual(['RemoveDatabases cmd-old']);
  });

  it('refuses a forged command id: nothing runs, no outcome, one security event however often it comes', async () => {
    const { store, ran, deliver, park } = await databaseService();
    const forged = command('RemoveDatabases', 'forged-1', 'purge:databases', {});
    const error = await refusalOf(deliver(forged));
    expect(error.message).toContain('no StepStarted with this command id');
    await refusalOf(deliver(forged));
    // The consumer parks it at once; the hook must not turn the refusal into a failure the saga reacts to.
    await park(forged, UNDECIDED_COMMAND_CODE, 'permanent-error');

    expect(ran).toEqual([]);
    const events = await streamOf(store);
    expect(outcomes(events)).toEqual([]);
    expect(refusals(events)).toHaveLength(1);
    expect(refusals(events)[0]).toMatchObject({
      id: deterministicId('undecided', 'forged-1'),
      data: {
        commandId: 'forged-1',
        commandType: 'RemoveDatabases',
        step: 'purge:databases',
        service: 'database',
        reason: 'the tenant stream has no StepStarted with this command id',
        refusedAt: expect.any(String),
      },
      metadata: expect.objectContaining({ tenantId, actor: 'database-service', causationId: 'forged-1' }),
    });
  });

  it.each([
    [
      'other params',
      'VerifyDatabaseBackup',
      'verify',
      { ...BACKUP_PARAMS, backupId: 'backup-2' },
      'params differ',
    ],
    ['an extra param', 'VerifyDatabaseBackup', 'verify', { ...BACKUP_PARAMS, drop: true }, 'params differ'],
    ['another command type', 'RemoveDatabases', 'verify', BACKUP_PARAMS, 'is a VerifyDatabaseBackup'],
    ['another step', 'VerifyDatabaseBackup', 'purge:databases', BACKUP_PARAMS, 'for step verify'],
  ] as const)('refuses a real command id reused with %s', async (_case, type, step, params, why) => {
    const { store, ran, deliver } = await databaseService();
    await decide(store, 'VerifyDatabaseBackup', 'cmd-real', 'verify', BACKUP_PARAMS);
    const error = await refusalOf(deliver(command(type, 'cmd-real', step, params)));
    expect(error.message).toContain(why);
    expect(ran).toEqual([]);
    const events = await streamOf(store);
    expect(refusals(events).map((e) => (e.data as { reason: string }).reason)).toEqual([
      expect.stringContaining(why),
    ]);
    expect(events.filter((e) => e.id === resultEventId('cmd-real'))).toEqual([]);
    // The genuine command with that id still runs afterwards.
    await deliver(command('VerifyDatabaseBackup', 'cmd-real', 'verify', BACKUP_PARAMS));
    expect(ran).toEqual(['VerifyDatabaseBackup cmd-real']);
  });

  it('refuses a command for a tenant without a stream, and creates no stream for it', async () => {
    const { store, ran, deliver, park } = await databaseService();
    const stranger = { ...tenant, tenantId: generateTenantId('Nobody', 'ffffff') };
    const forged = command('RemoveDatabases', 'forged-2', 'purge:databases', {}, stranger);
    const error = await refusalOf(deliver(forged));
    expect(error.message).toContain('the tenant has no stream');
    await park(forged, 'MESSAGING.REDELIVERY_LIMIT', 'redelivery-limit');
    expect(ran).toEqual([]);
    await expect(store.readStream(tenantStream(stranger.tenantId))).rejects.toThrow(StreamNotFoundError);
  });

  it('records a failure for a decided command parked after its last attempt, and none for an undecided one', async () => {
    const { store, park } = await databaseService();
    await decide(store, 'RemoveDatabases', 'cmd-decided', 'purge:databases', {});
    await park(command('RemoveDatabases', 'cmd-decided', 'purge:databases', {}), 'DATABASE.UNREACHABLE');
    // Parked before its check ever ran (the event store was down for every attempt, say): still no failure.
    await park(command('RemoveDatabases', 'forged-3', 'purge:databases', {}), 'DATABASE.UNREACHABLE');
    const events = await streamOf(store);
    expect(outcomes(events).map((e) => [e.type, (e.data as { commandId: string }).commandId])).toEqual([
      ['DatabasesRemovalFailed', 'cmd-decided'],
    ]);
    expect(refusals(events).map((e) => (e.data as { commandId: string }).commandId)).toEqual(['forged-3']);
  });
});
