import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { brokerSecretPath, brokerUserName, type ParamsOf, type TenantProfile } from '@app/contracts';
import { probeAmqpAccess } from '@app/messaging';
import { RabbitManagementClient } from '@app/rabbitmq-admin';
import type { CommandHandler, CommandHandlers } from '@app/platform';
import { EncryptedPostgresSecretStore } from '@app/secrets';
import { Pool as PgPool } from 'pg';
import { DEFAULT_EXCHANGES } from '@app/plans';
import { createHandlers, type BrokerManagement } from './commands';
import { command, context, testTenant } from '@app/testing';
import { FaultyProxy } from './faulty-proxy.test-helpers';

const MANAGEMENT_URL = process.env.RABBITMQ_MANAGEMENT_URL ?? 'http://127.0.0.1:15672';
const AMQP_URL = process.env.RABBITMQ_AMQP_URL ?? 'amqp://127.0.0.1:5672';
const PG_URL = process.env.SECRET_STORE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

type BrokerCommand = 'ProvisionBroker' | 'VerifyBroker' | 'RemoveBroker' | 'UpdateBrokerLimits';

/**
 * Runs Erlang inside the local broker: the states a cut vhost creation leaves behind cannot be made through
 * the management API (it neither stops a vhost nor deletes a default exchange).
 */
function rabbitEval(expression: string): string {
  return execFileSync('rabbitmqctl', ['eval', expression], { encoding: 'utf8', timeout: 60_000 }).trim();
}

function erlangBinary(name: string): string {
  if (!/^[a-z0-9.-]+$/.test(name)) throw new Error(`unexpected name ${name}`);
  return `<<"${name}">>`;
}

/** Stops the vhost's supervisor (keeping its data): rabbit_vhost_sup_sup's table holds its wrapper's pid. */
function stopVhost(vhost: string): void {
  const stop =
    `[R] = ets:lookup(rabbit_vhost_sup_sup, ${erlangBinary(vhost)}), ` +
    'supervisor:terminate_child(rabbit_vhost_sup_sup, element(4, R)).';
  expect(rabbitEval(stop)).toBe('ok');
}

function deleteDefaultExchange(vhost: string, exchange: string): void {
  const name = `rabbit_misc:r(${erlangBinary(vhost)}, exchange, ${erlangBinary(exchange)})`;
  expect(rabbitEval(`rabbit_exchange:delete(${name}, false, <<"test">>).`)).toBe('ok');
}

describe('broker-service handlers (real RabbitMQ management API and AMQP)', () => {
  const schema = `test_brokersvc_${randomBytes(4).toString('hex')}`;
  const tenants: TenantProfile[] = [];
  let pg: PgPool;
  let secrets: EncryptedPostgresSecretStore;
  let direct: RabbitManagementClient;
  let proxy: FaultyProxy;
  let proxied: CommandHandlers;
  let handlers: CommandHandlers;

  function build(
    baseUrl: string,
    attempts = 3,
    wrap: (client: RabbitManagementClient) => BrokerManagement = (client) => client,
    probe: typeof probeAmqpAccess = probeAmqpAccess,
  ): CommandHandlers {
    return createHandlers({
      management: wrap(
        new RabbitManagementClient({
          baseUrl,
          username: 'guest',
          password: 'guest',
          attempts,
          backoffMs: 10,
        }),
      ),
      adminUser: 'guest',
      secrets,
      probe,
      amqpUrl: AMQP_URL,
      secretHost: 'rabbitmq.e-commerce-shared.svc.cluster.local',
      secretPort: 5672,
      foreignVhost: '/',
    });
  }

  function newTenant(name = 'Test Co'): TenantProfile {
    const tenant = testTenant(name);
    tenants.push(tenant);
    return tenant;
  }

  async function run<K extends BrokerCommand>(
    type: K,
    tenant: TenantProfile,
    using = handlers,
    params?: ParamsOf<K>,
  ) {
    const handler = using[type] as CommandHandler<K>;
    return handler(command(type, tenant, params), context());
  }

  /** The vhost's limits as RabbitMQ's management API reports them (read directly, not through the client). */
  async function vhostLimits(vhost: string): Promise<unknown> {
    const response = await fetch(`${MANAGEMENT_URL}/api/vhost-limits/${encodeURIComponent(vhost)}`, {
      headers: { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}` },
    });
    expect(response.status).toBe(200);
    return ((await response.json()) as Array<{ value: unknown }>)[0]?.value;
  }

  function ours(name: string): boolean {
    return !/-[0-9a-f]{6}/.test(name) || tenants.some((t) => name.includes(t.tenantId));
  }

  async function snapshot() {
    return {
      vhosts: (await direct.listVhosts())
        .map((v) => v.name)
        .filter(ours)
        .sort(),
      users: (await direct.listUsers())
        .map((u) => u.name)
        .filter(ours)
        .sort(),
      permissions: (await direct.listPermissions())
        .map((p) => `${p.user}@${p.vhost}:${p.configure}/${p.write}/${p.read}`)
        .filter(ours)
        .sort(),
    };
  }

  beforeAll(async () => {
    pg = new PgPool({ connectionString: PG_URL, max: 4 });
    secrets = new EncryptedPostgresSecretStore({ pool: pg, schema, key: randomBytes(32) });
    direct = new RabbitManagementClient({ baseUrl: MANAGEMENT_URL, username: 'guest', password: 'guest' });
    const overview = await direct.overview();
    expect(overview.managementVersion).toMatch(/^3\./);
    proxy = new FaultyProxy(new URL(MANAGEMENT_URL));
    proxied = build(await proxy.start());
    handlers = build(MANAGEMENT_URL);
  });

  afterAll(async () => {
    for (const tenant of tenants) await run('RemoveBroker', tenant).catch(() => undefined);
    await proxy.stop();
    await pg.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pg.end();
  });

  it('provision → verify → remove leaves vhosts, users and permissions exactly as before', async () => {
    const before = await snapshot();
    const tenant = newTenant('ABC Corporation');
    const outputs = await run('ProvisionBroker', tenant);
    expect(outputs).toMatchObject({
      vhost: tenant.tenantId,
      user: `${tenant.tenantId}-app-user`,
      exchange: `${tenant.tenantId}.events`,
      queues: [`${tenant.tenantId}.auth`, `${tenant.tenantId}.products`, `${tenant.tenantId}.orders`],
    });
    expect(JSON.stringify(outputs)).not.toMatch(/PASSWORD/i);
    const auth = await direct.getQueue(tenant.tenantId, `${tenant.tenantId}.auth`);
    expect(auth?.arguments).toEqual({ 'x-message-ttl': 86400000, 'x-max-length': 10000 });
    // No tags (spec 5.1 `"tags":""`): no management UI access.
    expect((await direct.getUser(brokerUserName(tenant.tenantId)))?.tags).toEqual([]);
    const secret = await secrets.get(brokerSecretPath(tenant.tenantId));
    expect(Object.keys(secret ?? {}).sort()).toEqual([
      'RABBITMQ_EXCHANGE',
      'RABBITMQ_HOST',
      'RABBITMQ_PASSWORD',
      'RABBITMQ_PORT',
      'RABBITMQ_USER',
      'RABBITMQ_VHOST',
    ]);
    expect(secret).toMatchObject({
      RABBITMQ_HOST: 'rabbitmq.e-commerce-shared.svc.cluster.local',
      RABBITMQ_PORT: '5672',
      RABBITMQ_USER: `${tenant.tenantId}-app-user`,
      RABBITMQ_VHOST: tenant.tenantId,
      RABBITMQ_EXCHANGE: `${tenant.tenantId}.events`,
    });

    const verified = await run('VerifyBroker', tenant);
    expect(verified.checks).toEqual(
      expect.arrayContaining(['amqp:connect-publish-consume', 'amqp:foreign-vhost-refused']),
    );
    // The probe message was consumed: the queue is left empty.
    expect(await direct.peekMessages(tenant.tenantId, `${tenant.tenantId}.auth`, 1)).toEqual([]);

    // Idempotent re-run: same password, still verifies.
    await run('ProvisionBroker', tenant);
    expect(await secrets.get(brokerSecretPath(tenant.tenantId))).toEqual(secret);
    await run('VerifyBroker', tenant);

    await run('RemoveBroker', tenant);
    expect(await snapshot()).toEqual(before);
    expect(await secrets.get(brokerSecretPath(tenant.tenantId))).toBeUndefined();
    await run('RemoveBroker', tenant);
  });

  it("sets the tier's vhost limits, verifies them, and a tier change changes them (RabbitMQ enforces them)", async () => {
    const tenant = newTenant();
    const standard = { ...tenant, tier: 'standard' as const };
    await run('ProvisionBroker', standard);
    expect(await vhostLimits(tenant.tenantId)).toEqual({ 'max-connections': 60, 'max-queues': 50 });
    await run('VerifyBroker', standard);

    await run('UpdateBrokerLimits', standard, handlers, { fromTier: 'standard', toTier: 'business' });
    expect(await vhostLimits(tenant.tenantId)).toEqual({ 'max-connections': 240, 'max-queues': 200 });
    // Verification reads the tenant's tier: the old one no longer matches, the new one does.
    await expect(run('VerifyBroker', standard)).rejects.toMatchObject({
      code: 'BROKER.VERIFICATION_FAILED',
      message: expect.stringContaining('vhost:limit:max-connections'),
    });
    const business = { ...tenant, tier: 'business' as const };
    await run('VerifyBroker', business);

    // A downgrade below current use is accepted; the server then refuses a queue beyond the limit.
    await direct.setVhostLimit(tenant.tenantId, 'max-queues', 3);
    await expect(
      direct.declareQueue(tenant.tenantId, { name: `${tenant.tenantId}.one-too-many` }),
    ).rejects.toMatchObject({ status: 400 });
    await run('UpdateBrokerLimits', business, handlers, { fromTier: 'business', toTier: 'premium' });
    expect(await vhostLimits(tenant.tenantId)).toEqual({ 'max-connections': 120, 'max-queues': 100 });
    expect(await direct.getVhostLimits(tenant.tenantId)).toEqual({
      'max-connections': 120,
      'max-queues': 100,
    });
    expect(await direct.getVhostLimits(`${tenant.tenantId}-absent`)).toBeUndefined();

    await run('RemoveBroker', tenant);
    await expect(
      run('UpdateBrokerLimits', business, handlers, { fromTier: 'business', toTier: 'premium' }),
    ).rejects.toMatchObject({ code: 'BROKER.NOT_FOUND', retryable: false });
  });

  it("isolates two tenants: a user cannot open the other tenant's vhost", async () => {
    const a = newTenant('Alpha Shop');
    const b = newTenant('Beta Shop');
    await Promise.all([run('ProvisionBroker', a), run('ProvisionBroker', b)]);
    const credsA = await secrets.get(brokerSecretPath(a.tenantId));
    const crossed = await probeAmqpAccess({
      url: AMQP_URL,
      vhost: b.tenantId,
      user: credsA!.RABBITMQ_USER,
      password: credsA!.RABBITMQ_PASSWORD,
      exchange: `${b.tenantId}.events`,
      routingKey: 'user.x',
    });
    expect(crossed).toMatchObject({ ok: false, failure: { step: 'connect', code: 'ACCESS_REFUSED' } });
    const own = await probeAmqpAccess({
      url: AMQP_URL,
      vhost: a.tenantId,
      user: credsA!.RABBITMQ_USER,
      password: credsA!.RABBITMQ_PASSWORD,
      exchange: `${a.tenantId}.events`,
      routingKey: 'order.created',
      queue: `${a.tenantId}.orders`,
    });
    expect(own.ok).toBe(true);
    await Promise.all([run('VerifyBroker', a), run('VerifyBroker', b)]);
    await Promise.all([run('RemoveBroker', a), run('RemoveBroker', b)]);
  });

  it('resets a user left without a stored secret (crash half-way)', async () => {
    const tenant = newTenant('Crash Co');
    await direct.createVhost(tenant.tenantId);
    await direct.putUser(brokerUserName(tenant.tenantId), `lost-${randomBytes(8).toString('hex')}`);
    await run('ProvisionBroker', tenant);
    await run('VerifyBroker', tenant);
    await run('RemoveBroker', tenant);
  });

  it('enters a vhost whose creation was cut before RabbitMQ granted the admin (killed mid-request)', async () => {
    const tenant = newTenant('Cut Co');
    await direct.createVhost(tenant.tenantId);
    // What a request killed between "vhost added" and "creator granted" leaves behind.
    expect(await direct.deletePermissions(tenant.tenantId, 'guest')).toBe(true);
    await run('ProvisionBroker', tenant);
    await run('VerifyBroker', tenant);
    expect(await direct.getPermissions(tenant.tenantId, 'guest')).toMatchObject({
      configure: '.*',
      write: '.*',
      read: '.*',
    });
    await run('RemoveBroker', tenant);
  });

  async function vhostStates(vhost: string): Promise<string[]> {
    return Object.values((await direct.getVhost(vhost))?.clusterState ?? {});
  }

  async function exchangeNames(vhost: string): Promise<string[]> {
    return (await direct.listExchanges(vhost)).map((x) => x.name);
  }

  it('starts a vhost whose cut creation left it stopped (vhost_supervisor_not_running)', async () => {
    const tenant = newTenant('Stopped Co');
    await direct.createVhost(tenant.tenantId);
    stopVhost(tenant.tenantId);
    expect(await vhostStates(tenant.tenantId)).toContain('stopped');
    await run('ProvisionBroker', tenant);
    await run('VerifyBroker', tenant);
    expect(new Set(await vhostStates(tenant.tenantId))).toEqual(new Set(['running']));
    await run('RemoveBroker', tenant);
  });

  it.each([
    ['running', false],
    ['stopped', true],
  ])(
    'recreates a %s vhost whose cut creation left default exchanges missing, while it holds no queue',
    async (_state, stopped) => {
      const tenant = newTenant('Half Made Co');
      await direct.createVhost(tenant.tenantId);
      deleteDefaultExchange(tenant.tenantId, 'amq.headers');
      deleteDefaultExchange(tenant.tenantId, 'amq.match');
      if (stopped) stopVhost(tenant.tenantId);
      expect(await exchangeNames(tenant.tenantId)).not.toContain('amq.headers');
      await run('ProvisionBroker', tenant);
      await run('VerifyBroker', tenant);
      expect(new Set(await vhostStates(tenant.tenantId))).toEqual(new Set(['running']));
      expect(await exchangeNames(tenant.tenantId)).toEqual(expect.arrayContaining(DEFAULT_EXCHANGES));
      await run('RemoveBroker', tenant);
    },
  );

  it('keeps a vhost missing a default exchange once it holds queues: permanent error, queues kept', async () => {
    const tenant = newTenant('Damaged Co');
    await run('ProvisionBroker', tenant);
    deleteDefaultExchange(tenant.tenantId, 'amq.headers');
    await expect(run('VerifyBroker', tenant)).rejects.toMatchObject({
      code: 'BROKER.VERIFICATION_FAILED',
      message: expect.stringContaining('vhost:default-exchanges'),
    });
    await expect(run('ProvisionBroker', tenant)).rejects.toMatchObject({
      code: 'BROKER.VHOST_DAMAGED',
      retryable: false,
      message: expect.stringMatching(new RegExp(`${tenant.tenantId}.*"amq\\.headers"`)),
    });
    expect((await direct.listQueues(tenant.tenantId)).length).toBe(3);
    await run('RemoveBroker', tenant);
  });

  it('verification fails on a vhost stopped after provisioning', async () => {
    const tenant = newTenant('Stopped Later Co');
    await run('ProvisionBroker', tenant);
    stopVhost(tenant.tenantId);
    await expect(run('VerifyBroker', tenant)).rejects.toMatchObject({
      code: 'BROKER.VERIFICATION_FAILED',
      message: expect.stringContaining('vhost:running'),
    });
    await run('RemoveBroker', tenant);
  });

  it('waits (retryable) while a cluster node is down rather than failing the tenant', async () => {
    const tenant = newTenant('Node Down Co');
    // One node only here: a second one, down, is added to what the API answers.
    const withNodeDown = build(MANAGEMENT_URL, 3, (client) =>
      Object.assign(Object.create(client) as RabbitManagementClient, {
        getVhost: async (vhost: string) => {
          const found = await client.getVhost(vhost);
          return found && { ...found, clusterState: { ...found.clusterState, 'rabbit@gone': 'nodedown' } };
        },
      }),
    );
    for (const type of ['ProvisionBroker', 'VerifyBroker'] as const) {
      await expect(run(type, tenant, withNodeDown)).rejects.toMatchObject({
        code: 'BROKER.VHOST_NODE_DOWN',
        retryable: true,
        message: expect.stringContaining('rabbit@gone'),
      });
    }
    await run('ProvisionBroker', tenant);
    await run('VerifyBroker', tenant);
    await run('RemoveBroker', tenant);
  });

  it('waits (retryable) when the broker drops between its two AMQP probes rather than failing the tenant', async () => {
    // Seen in the restart e2e: the node went down after the tenant's own probe and before the foreign-vhost one,
    // whose connection failure was taken for a failed isolation check and failed the tenant for good.
    const tenant = newTenant('Probe Drop Co');
    await run('ProvisionBroker', tenant);
    const droppingForeign = build(MANAGEMENT_URL, 3, undefined, async (options) =>
      options.vhost === '/'
        ? {
            ok: false,
            vhost: options.vhost,
            user: options.user,
            steps: [],
            failure: {
              step: 'connect',
              code: 'CONNECTION_FAILED',
              message: 'connect ECONNREFUSED 127.0.0.1:5672',
            },
          }
        : probeAmqpAccess(options),
    );
    await expect(run('VerifyBroker', tenant, droppingForeign)).rejects.toMatchObject({
      code: 'BROKER.AMQP_UNAVAILABLE',
      retryable: true,
    });
    await run('VerifyBroker', tenant);
    await run('RemoveBroker', tenant);
  });

  it('retries a management API answering 500 once and converges', async () => {
    const before = await snapshot();
    const tenant = newTenant('Retry Co');
    proxy.status = 500;
    proxy.failures = 1;
    const seenBefore = proxy.seen;
    await run('ProvisionBroker', tenant, proxied);
    expect(proxy.failures).toBe(0);
    expect(proxy.seen).toBeGreaterThan(seenBefore + 1);
    await run('VerifyBroker', tenant);

    // Failing longer than the client's attempts: a retryable StepError; the redelivery then converges.
    proxy.failures = 10;
    await expect(run('ProvisionBroker', tenant, proxied)).rejects.toMatchObject({
      code: 'BROKER.MANAGEMENT_UNAVAILABLE',
      retryable: true,
    });
    proxy.failures = 0;
    await run('ProvisionBroker', tenant, proxied);
    await run('VerifyBroker', tenant);
    await run('RemoveBroker', tenant, proxied);
    expect(await snapshot()).toEqual(before);
  });

  it('fails permanently with a clear code on a 400', async () => {
    const tenant = newTenant('Bad Request Co');
    proxy.status = 400;
    proxy.failures = 1;
    await expect(run('ProvisionBroker', tenant, proxied)).rejects.toMatchObject({
      code: 'BROKER.BAD_REQUEST',
      retryable: false,
    });
    proxy.failures = 0;
    // A queue already declared with other arguments is RabbitMQ's own 400: a topology conflict.
    await direct.createVhost(tenant.tenantId);
    await direct.declareQueue(tenant.tenantId, {
      name: `${tenant.tenantId}.auth`,
      arguments: { 'x-max-length': 5 },
    });
    await expect(run('ProvisionBroker', tenant)).rejects.toMatchObject({
      code: 'BROKER.TOPOLOGY_CONFLICT',
      retryable: false,
    });
    await run('RemoveBroker', tenant);
  });

  it('refuses a hostile tenant id before any request', async () => {
    const hostile = { ...testTenant('Hostile'), tenantId: '..%2F..%2Fapi%2Fusers' };
    const seen = proxy.seen;
    await expect(run('ProvisionBroker', hostile, proxied)).rejects.toMatchObject({
      code: 'BROKER.INVALID_TENANT_ID',
    });
    await expect(run('RemoveBroker', hostile, proxied)).rejects.toMatchObject({
      code: 'BROKER.INVALID_TENANT_ID',
    });
    expect(proxy.seen).toBe(seen);
  });
});
