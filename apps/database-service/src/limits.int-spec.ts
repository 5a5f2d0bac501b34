import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FilesystemBackupTarget } from '@app/archive';
import {
  BUSINESS_SERVICES,
  databaseSecretPath,
  databaseUserName,
  TIERS,
  type ParamsOf,
  type TenantProfile,
  type Tier,
} from '@app/contracts';
import type { CommandHandler, CommandHandlers } from '@app/platform';
import { EncryptedPostgresSecretStore } from '@app/secrets';
import { command, context, testTenant } from '@app/testing';
import mysql, { type RowDataPacket } from 'mysql2/promise';
import { Pool as PgPool } from 'pg';
import { parseMysqlUrl } from './adapters/mysql-connections';
import { MysqlServer } from './adapters/mysql-server';
import { createHandlers } from './commands';

const MYSQL_URL = process.env.MYSQL_URL ?? 'mysql://root@127.0.0.1:3306';
const PG_URL = process.env.SECRET_STORE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

type LimitsCommand = 'ProvisionDatabases' | 'VerifyDatabases' | 'RemoveDatabases' | 'UpdateDatabaseLimits';

describe("database-service: the tier's MAX_USER_CONNECTIONS (real MariaDB)", () => {
  let root: mysql.Connection;
  let admin: MysqlServer;
  let pg: PgPool;
  let secrets: EncryptedPostgresSecretStore;
  let handlers: CommandHandlers;
  const schema = `test_dblimits_${randomBytes(4).toString('hex')}`;
  const tenant: TenantProfile = testTenant('Limits Co', { tier: 'standard' });
  const users = BUSINESS_SERVICES.map((service) => databaseUserName(tenant.tenantId, service));

  async function run<K extends LimitsCommand>(type: K, tier: Tier, params = {} as ParamsOf<K>) {
    const handler = handlers[type] as CommandHandler<K>;
    return handler(command(type, { ...tenant, tier }, params), context());
  }

  /** What the server holds, read as root: every service account of the tenant and its limit. */
  async function limits(): Promise<Record<string, number>> {
    const [rows] = await root.query<RowDataPacket[]>(
      "SELECT User AS user, max_user_connections AS max FROM mysql.user WHERE Host = '%' AND User IN (?)",
      [users],
    );
    return Object.fromEntries(rows.map((row) => [String(row.user), Number(row.max)]));
  }

  beforeAll(async () => {
    root = await mysql.createConnection({ ...parseMysqlUrl(MYSQL_URL), multipleStatements: false });
    admin = new MysqlServer(parseMysqlUrl(MYSQL_URL));
    pg = new PgPool({ connectionString: PG_URL, max: 2 });
    secrets = new EncryptedPostgresSecretStore({ pool: pg, schema, key: randomBytes(32) });
    handlers = createHandlers({
      admin,
      secrets,
      backups: new FilesystemBackupTarget(join(tmpdir(), 'dbsvc-backups-unused')),
      secretHost: 'mysql.e-commerce-shared.svc.cluster.local',
      secretPort: 3306,
    });
  });

  afterAll(async () => {
    await run('RemoveDatabases', tenant.tier).catch(() => undefined);
    await admin.close();
    await root.end();
    await pg.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pg.end();
  });

  it("provisions every account with its tier's limit, verifies it, and a tier change changes it", async () => {
    const outputs = await run('ProvisionDatabases', 'standard');
    expect(outputs.maxUserConnections).toBe(25);
    const provisioned = await limits();
    expect(Object.keys(provisioned)).toHaveLength(11);
    expect(new Set(Object.values(provisioned))).toEqual(new Set([25]));
    const [grants] = await root.query<RowDataPacket[]>('SHOW GRANTS FOR ?@?', [users[0], '%']);
    expect(grants.map((row) => String(Object.values(row)[0])).join('\n')).toMatch(
      /WITH MAX_USER_CONNECTIONS 25$/m,
    );
    await run('VerifyDatabases', 'standard');

    await run('UpdateDatabaseLimits', 'standard', { fromTier: 'standard', toTier: 'business' });
    expect(new Set(Object.values(await limits()))).toEqual(new Set([100]));
    await expect(run('VerifyDatabases', 'standard')).rejects.toMatchObject({
      code: 'DATABASE.VERIFICATION_FAILED',
      message: expect.stringContaining(`${users[0]}:max-connections`),
    });
    await run('VerifyDatabases', 'business');
    // A redelivered provision keeps the limit of the tier it carries.
    await run('ProvisionDatabases', 'business');
    expect(new Set(Object.values(await limits()))).toEqual(new Set([100]));
  });

  it('lowers the limit while connections are open; the server then refuses the ones beyond it', async () => {
    const stored = await secrets.get(databaseSecretPath(tenant.tenantId, 'auth'));
    if (!stored) throw new Error('no stored credentials');
    const connect = () =>
      mysql.createConnection({
        host: '127.0.0.1',
        port: parseMysqlUrl(MYSQL_URL).port,
        user: stored.username,
        password: stored.password,
      });
    const open = [await connect(), await connect()];
    try {
      await run('UpdateDatabaseLimits', 'business', { fromTier: 'business', toTier: 'premium' });
      expect(new Set(Object.values(await limits()))).toEqual(new Set([50]));
      // The same statement with a limit below current use: accepted, sessions kept, new ones refused.
      await root.query(`ALTER USER ?@'%' WITH MAX_USER_CONNECTIONS 2`, [stored.username]);
      await expect(connect()).rejects.toMatchObject({ errno: 1226 });
      await expect(open[0].query('SELECT 1')).resolves.toBeDefined();
    } finally {
      await Promise.all(open.map((c) => c.end()));
    }
    await run('UpdateDatabaseLimits', 'premium', { fromTier: 'business', toTier: 'premium' });
    await run('VerifyDatabases', 'premium');
  });

  it('fails permanently when the accounts are gone (nothing to limit)', async () => {
    await run('RemoveDatabases', 'premium');
    await expect(
      run('UpdateDatabaseLimits', 'premium', { fromTier: 'premium', toTier: TIERS[2] }),
    ).rejects.toMatchObject({ retryable: false });
    expect(await limits()).toEqual({});
  });
});
