import {
  buildMessage,
  deterministicId,
  tenantStream,
  type CommandMessage,
  type CommandType,
} from '@app/contracts';
import { MemoryEventStore } from '@app/event-store';
import type { HandlerContext, MessageConsumer, MessageHandler, Subscription } from '@app/messaging';
import pino from 'pino';
import { z } from 'zod';
import { runResourceService } from './bootstrap';
import { ConfigError } from './config';
import {
  FAULT_INJECTION_VARIABLE,
  INJECTED_FAILURE_CODE,
  injectedFault,
  parseFaultInjection,
} from './fault-injection';
import { startResourceService } from './resource-service';

const TENANT = 'shop-one-abc123';
const TENANT_PROFILE = {
  tenantId: TENANT,
  companyName: 'Shop One',
  adminEmail: 'admin@example.com',
  billingEmail: 'billing@example.com',
  tier: 'premium',
  region: 'eu-west',
  domain: 'shop-one.collectverything.com',
  subscriptionId: 'sub_1',
  plan: { price: 124.99, currency: 'EUR', billingPeriod: 'monthly' },
  createdAt: '2025-06-01T00:00:00.000Z',
} as const;

function commandFor(type: CommandType, tenantId = TENANT): CommandMessage {
  return buildMessage(
    type,
    { step: 'databases', tenant: { ...TENANT_PROFILE, tenantId }, params: {} },
    { tenantId, correlationId: `corr-${type}`, actor: 'test' },
    `cmd-${type}-${tenantId}`,
    new Date('2025-07-15T10:00:00.000Z'),
  ) as CommandMessage;
}

function refusal(env: NodeJS.ProcessEnv): ConfigError {
  try {
    parseFaultInjection(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('parseFaultInjection', () => {
  it('injects nothing when the variable is unset or blank, production included', () => {
    expect(parseFaultInjection({})).toEqual([]);
    expect(parseFaultInjection({ [FAULT_INJECTION_VARIABLE]: '  ' })).toEqual([]);
    expect(parseFaultInjection({ NODE_ENV: 'production' })).toEqual([]);
  });

  it('reads command types, each with an optional tenant id prefix', () => {
    expect(
      parseFaultInjection({
        [FAULT_INJECTION_VARIABLE]: 'ProvisionDatabases, CreateWebsiteRecord@sf1a2b3c-7-,VerifyBroker@x',
      }),
    ).toEqual([
      { command: 'ProvisionDatabases' },
      { command: 'CreateWebsiteRecord', tenantPrefix: 'sf1a2b3c-7-' },
      { command: 'VerifyBroker', tenantPrefix: 'x' },
    ]);
  });

  it.each([
    ['an unknown command type', 'ProvisionDatabase'],
    ['an empty entry', 'ProvisionDatabases,,VerifyBroker'],
    ['an empty prefix', 'ProvisionDatabases@'],
    ['two prefixes', 'ProvisionDatabases@a@b'],
    ['a prefix outside the tenant id alphabet', 'ProvisionDatabases@Shop_One'],
  ])('refuses %s, naming the variable', (_case, value) => {
    const error = refusal({ [FAULT_INJECTION_VARIABLE]: value });
    expect(error.issues.map((issue) => issue.variable)).toEqual([FAULT_INJECTION_VARIABLE]);
  });

  it('refuses any injection under NODE_ENV=production, even a valid one', () => {
    const error = refusal({ NODE_ENV: 'production', [FAULT_INJECTION_VARIABLE]: 'ProvisionDatabases' });
    expect(error.issues).toEqual([
      { variable: FAULT_INJECTION_VARIABLE, message: expect.stringContaining('NODE_ENV=production') },
    ]);
    expect(
      parseFaultInjection({ NODE_ENV: 'test', [FAULT_INJECTION_VARIABLE]: 'VerifyBroker' }),
    ).toHaveLength(1);
  });
});

describe('injectedFault', () => {
  const rules = parseFaultInjection({
    [FAULT_INJECTION_VARIABLE]: 'ProvisionDatabases@shop-one-,VerifyBroker',
  });

  it('fails a listed command permanently, with the stable test code', () => {
    const fault = injectedFault(rules, commandFor('ProvisionDatabases'));
    expect(fault?.toReason()).toEqual({
      code: INJECTED_FAILURE_CODE,
      message: expect.stringContaining('ProvisionDatabases'),
      retryable: false,
    });
    expect(injectedFault(rules, commandFor('VerifyBroker', 'any-tenant-fedcba'))).toBeDefined();
  });

  it('leaves other commands and tenants outside the prefix alone', () => {
    expect(injectedFault(rules, commandFor('ProvisionStorage'))).toBeUndefined();
    expect(injectedFault(rules, commandFor('ProvisionDatabases', 'shop-two-abc123'))).toBeUndefined();
    expect(injectedFault([], commandFor('ProvisionDatabases'))).toBeUndefined();
  });
});

describe('startResourceService with an injected fault', () => {
  async function serve(faults: ReturnType<typeof parseFaultInjection>) {
    const eventStore = new MemoryEventStore();
    let subscription: Subscription | undefined;
    const consumer = {
      subscribe: async (s: Subscription) => void (subscription = s),
    } as unknown as MessageConsumer;
    const ran: string[] = [];
    const logger = pino({ level: 'silent' });
    await startResourceService({
      service: 'database',
      handlers: {
        ProvisionDatabases: async (command) => {
          ran.push(command.metadata.tenantId);
          return { databases: 11 };
        },
      },
      eventStore,
      consumer,
      logger,
      faults,
    });
    const handler = subscription?.handlers.ProvisionDatabases as MessageHandler<CommandMessage>;
    const context = { attempt: 1, redelivered: false, logger } as HandlerContext;
    // Services run only what the orchestrator decided: its StepStarted comes first, as on the real path.
    const deliver = async (command: CommandMessage) => {
      const { step, params } = command.data;
      const commandId = command.metadata.messageId;
      const data = { step, commandId, commandType: command.type, service: 'database', attempt: 1, params };
      const started = { id: deterministicId('started', commandId), type: 'StepStarted', data };
      await eventStore.append(tenantStream(command.metadata.tenantId), [started], {
        expectedRevision: 'any',
      });
      await handler.handle(command, context);
    };
    return { eventStore, ran, deliver };
  }

  it('records a permanent failure without running the handler, and runs it for other tenants', async () => {
    const { eventStore, ran, deliver } = await serve(
      parseFaultInjection({ [FAULT_INJECTION_VARIABLE]: 'ProvisionDatabases@shop-one-' }),
    );
    await deliver(commandFor('ProvisionDatabases'));
    expect(ran).toEqual([]);
    const [, failed] = await eventStore.readStream(tenantStream(TENANT));
    expect(failed.type).toBe('DatabasesProvisioningFailed');
    expect(failed.data).toMatchObject({ error: { code: INJECTED_FAILURE_CODE, retryable: false } });

    await deliver(commandFor('ProvisionDatabases', 'shop-two-abc123'));
    expect(ran).toEqual(['shop-two-abc123']);
    const [, succeeded] = await eventStore.readStream(tenantStream('shop-two-abc123'));
    expect(succeeded.type).toBe('DatabasesProvisioned');
  });
});

describe('runResourceService under NODE_ENV=production', () => {
  it('refuses to start with fault injection configured, before connecting to anything', async () => {
    const createRuntime = jest.fn();
    const start = runResourceService(
      { service: 'database', configSchema: z.object({}), createRuntime },
      {
        NODE_ENV: 'production',
        [FAULT_INJECTION_VARIABLE]: 'ProvisionDatabases',
        // Unreachable on purpose: a start-up that got past the check would fail differently, and slowly.
        EVENTSTORE_URL: 'postgres://nobody@127.0.0.1:1/none',
      },
    );
    await expect(start).rejects.toThrow(ConfigError);
    await expect(start).rejects.toThrow(/FAULT_INJECT_PERMANENT: .*NODE_ENV=production/);
    expect(createRuntime).not.toHaveBeenCalled();
  });
});
