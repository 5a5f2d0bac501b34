import { createHash, randomBytes } from 'node:crypto';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync, gzipSync } from 'node:zlib';
import {
  archiveS3Env,
  createS3Client,
  FilesystemBackupTarget,
  listLatest,
  s3BackupTargetFrom,
  s3EndpointFrom,
  type BackupTarget,
} from '@app/archive';
import {
  adminInitialSecretPath,
  databaseName,
  databaseUserName,
  databaseSecretPath,
  generateTenantId,
  TENANT_ID_MAX_LENGTH,
  type TenantProfile,
} from '@app/contracts';
import { loadConfig, type CommandHandler, type CommandHandlers } from '@app/platform';
import { EncryptedPostgresSecretStore } from '@app/secrets';
import mysql, { type RowDataPacket } from 'mysql2/promise';
import { Pool as PgPool } from 'pg';
import type { DatabaseAdmin, TableRows } from './adapters/database-admin';
import { probeTableName } from './adapters/mysql-access-check';
import { parseMysqlUrl } from './adapters/mysql-connections';
import { classifyMysqlError } from './adapters/mysql-errors';
import { scratchDatabaseName } from './adapters/mysql-restore';
import { MysqlServer } from './adapters/mysql-server';
import { parseDumpLine } from './domain/dump-format';
import { createHandlers } from './commands';
import { command, context, testTenant } from '@app/testing';
import { z } from 'zod';

const MYSQL_URL = process.env.MYSQL_URL ?? 'mysql://root@127.0.0.1:3306';
const PG_URL = process.env.SECRET_STORE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** The server's data directory, when this process can write there (the local server, run as root). */
const MYSQL_DATADIR = process.env.MYSQL_DATADIR ?? '/var/lib/mysql';
const itWithDatadir = (() => {
  try {
    accessSync(MYSQL_DATADIR, constants.R_OK | constants.W_OK);
    return it;
  } catch (error) {
    // eslint-disable-next-line no-console -- a skipped test must print why (house rule)
    console.info(
      `database-service: the options-file test is skipped: ${MYSQL_DATADIR} is not writable here (${(error as Error).message}); set MYSQL_DATADIR to the server's data directory to run it`,
    );
    return it.skip;
  }
})();

interface ServerSnapshot {
  databases: string[];
  users: string[];
  dbGrants: string[];
}

/**
 * Rows that belong to a tenant-shaped name not created by this suite are ignored (other suites may run), and so
 * are scratch databases of backup checks this suite did not run (end-to-end suites verify backups too).
 */
function ours(name: string, tenants: TenantProfile[], scratch: ReadonlySet<string>): boolean {
  // A check's scratch database, its account (`restore_x@%`) and that account's grant (`restore\_x:restore_x@%`).
  if (name.startsWith('restore')) return [...scratch].some((s) => name.replace(/\\/g, '').startsWith(s));
  if (!/[a-z0-9]_[0-9a-f]{6}_/.test(name)) return true;
  return tenants.some((t) => name.includes(t.tenantId.replace(/-/g, '_')));
}

describe('database-service handlers (real MariaDB, real encrypted secret store)', () => {
  let root: mysql.Connection;
  let admin: MysqlServer;
  let pg: PgPool;
  let secrets: EncryptedPostgresSecretStore;
  let handlers: CommandHandlers;
  const schema = `test_dbsvc_${randomBytes(4).toString('hex')}`;
  const tenants: TenantProfile[] = [];
  /** Scratch databases this suite's backup checks may create. */
  const scratch = new Set<string>();

  function newTenant(name = 'Test Co', tenantId?: string): TenantProfile {
    const tenant = testTenant(name, tenantId ? { tenantId } : {});
    tenants.push(tenant);
    return tenant;
  }

  async function snapshot(): Promise<ServerSnapshot> {
    const [dbs] = await root.query<RowDataPacket[]>('SHOW DATABASES');
    const [users] = await root.query<RowDataPacket[]>('SELECT User, Host FROM mysql.user');
    const [grants] = await root.query<RowDataPacket[]>('SELECT Db, User, Host FROM mysql.db');
    return {
      databases: dbs
        .map((r) => String(r.Database))
        .filter((n) => ours(n, tenants, scratch))
        .sort(),
      users: users
        .map((r) => `${r.User}@${r.Host}`)
        .filter((n) => ours(n, tenants, scratch))
        .sort(),
      dbGrants: grants
        .map((r) => `${r.Db}:${r.User}@${r.Host}`)
        .filter((n) => ours(n, tenants, scratch))
        .sort(),
    };
  }

  function handler<K extends keyof CommandHandlers>(type: K): NonNullable<CommandHandlers[K]> {
    const found = handlers[type];
    if (!found) throw new Error(`no handler for ${type}`);
    return found;
  }

  async function run<K extends 'ProvisionDatabases' | 'VerifyDatabases' | 'RemoveDatabases'>(
    type: K,
    tenant: TenantProfile,
  ) {
    return (handler(type) as CommandHandler<K>)(command(type, tenant, {} as never), context());
  }

  /** The handlers over another admin (a wrapper that injects a server's behaviour), same store and settings. */
  function handlersWith(other: DatabaseAdmin, settings: { flushPrivileges?: boolean } = {}): CommandHandlers {
    return createHandlers({
      admin: other,
      secrets,
      // Provisioning never touches backups; the final-backup suites below bring their own targets.
      backups: new FilesystemBackupTarget(join(tmpdir(), 'dbsvc-backups-unused')),
      secretHost: 'mysql.e-commerce-shared.svc.cluster.local',
      secretPort: 3306,
      ...settings,
    });
  }

  /** The admin, with every statement it runs recorded. */
  function recording(statements: string[]): DatabaseAdmin {
    return Object.create(admin, {
      run: {
        value: async (sql: string, operation: never, target: string, sensitive?: boolean) => {
          statements.push(sql);
          await admin.run(sql, operation, target, sensitive);
        },
      },
    }) as DatabaseAdmin;
  }

  beforeAll(async () => {
    root = await mysql.createConnection({ ...parseMysqlUrl(MYSQL_URL), multipleStatements: false });
    admin = new MysqlServer(parseMysqlUrl(MYSQL_URL));
    pg = new PgPool({ connectionString: PG_URL, max: 4 });
    secrets = new EncryptedPostgresSecretStore({ pool: pg, schema, key: randomBytes(32) });
    handlers = handlersWith(admin);
  });

  afterAll(async () => {
    for (const tenant of tenants) {
      await run('RemoveDatabases', tenant).catch(() => undefined);
    }
    await admin.close();
    await root.end();
    await pg.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pg.end();
  });

  it('provision → verify → remove leaves the server exactly as before', async () => {
    const before = await snapshot();
    const tenant = newTenant('ABC Corporation');
    const outputs = await run('ProvisionDatabases', tenant);
    expect(outputs.databases).toHaveLength(11);
    expect(JSON.stringify(outputs)).not.toMatch(/password/i);

    const auth = databaseName(tenant.tenantId, 'auth');
    const [schemata] = await root.query<RowDataPacket[]>(
      'SELECT DEFAULT_CHARACTER_SET_NAME AS cs, DEFAULT_COLLATION_NAME AS co FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?',
      [auth],
    );
    expect(schemata[0]).toEqual({ cs: 'utf8mb4', co: 'utf8mb4_unicode_ci' });
    const user = databaseUserName(tenant.tenantId, 'auth');
    const [grants] = await root.query<RowDataPacket[]>('SHOW GRANTS FOR ?@?', [user, '%']);
    const lines = grants.map((r) => String(Object.values(r)[0]));
    expect(lines.filter((l) => !l.startsWith('GRANT USAGE'))).toEqual([
      `GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, INDEX, ALTER ON \`${auth.replace(/_/g, '\\_')}\`.* TO \`${user}\`@\`%\``,
    ]);
    const secret = await secrets.get(databaseSecretPath(tenant.tenantId, 'auth'));
    expect(Object.keys(secret ?? {}).sort()).toEqual(['database', 'host', 'password', 'port', 'username']);
    expect(secret).toMatchObject({
      host: 'mysql.e-commerce-shared.svc.cluster.local',
      port: '3306',
      database: auth,
      username: user,
    });
    expect(secret?.password).toMatch(/^[A-Za-z0-9_-]{32}$/);

    const verified = await run('VerifyDatabases', tenant);
    expect(verified.checks).toEqual(
      expect.arrayContaining([`${user}:foreign-refused`, `${user}:own-database`, `${user}:no-drop`]),
    );

    await run('RemoveDatabases', tenant);
    expect(await snapshot()).toEqual(before);
    expect(await secrets.list(`/e-commerce/tenants/${tenant.tenantId}/`)).toEqual([]);
    // Absent is success.
    await run('RemoveDatabases', tenant);
  });

  it("keeps two tenants apart: each user is refused on the other tenant's databases", async () => {
    const a = newTenant('Alpha Shop');
    const b = newTenant('Beta Shop');
    await Promise.all([run('ProvisionDatabases', a), run('ProvisionDatabases', b)]);
    const credsA = await secrets.get(databaseSecretPath(a.tenantId, 'orders'));
    const credsB = await secrets.get(databaseSecretPath(b.tenantId, 'orders'));
    const aOnB = await admin.checkServiceAccess(
      { username: credsA!.username, password: credsA!.password, database: credsA!.database },
      databaseName(b.tenantId, 'orders'),
    );
    const bOnA = await admin.checkServiceAccess(
      { username: credsB!.username, password: credsB!.password, database: credsB!.database },
      databaseName(a.tenantId, 'auth'),
    );
    expect(aOnB).toEqual({
      connected: true,
      ownDatabaseUsable: true,
      dropRefused: true,
      foreignDatabaseRefused: true,
    });
    expect(bOnA.foreignDatabaseRefused).toBe(true);
    const wrongPassword = await admin.checkServiceAccess(
      { username: credsA!.username, password: credsB!.password, database: credsA!.database },
      databaseName(b.tenantId, 'orders'),
    );
    expect(wrongPassword.connected).toBe(false);
    await Promise.all([run('RemoveDatabases', a), run('RemoveDatabases', b)]);
  });

  it("writes the admin's initial credentials with the databases, keeps them on a redelivery, removes them with the databases", async () => {
    const tenant = newTenant('Admin Seed Co');
    const path = adminInitialSecretPath(tenant.tenantId);
    const outputs = await run('ProvisionDatabases', tenant);
    expect(outputs.adminCredentialsPath).toBe(path);
    const seeded = await secrets.get(path);
    expect(seeded).toEqual({
      ADMIN_LOGIN: tenant.adminEmail,
      TEMPORARY_PASSWORD: expect.stringMatching(/^[!#%+\-=?@_A-Za-z2-9]{16}$/),
      MUST_CHANGE_AT_FIRST_LOGIN: 'true',
    });
    // The value is in the store only: never in the step's outputs (which become an event).
    expect(JSON.stringify(outputs)).not.toContain(seeded!.TEMPORARY_PASSWORD);

    await run('ProvisionDatabases', tenant);
    expect(await secrets.get(path)).toEqual(seeded);

    const removed = await run('RemoveDatabases', tenant);
    expect(removed.removedSecretPaths).toContain(path);
    expect(await secrets.get(path)).toBeUndefined();
  });

  it('is idempotent and never rotates a password already handed out', async () => {
    const tenant = newTenant('Idempotent Co');
    await run('ProvisionDatabases', tenant);
    const first = await secrets.get(databaseSecretPath(tenant.tenantId, 'sav'));
    const again = await run('ProvisionDatabases', tenant);
    expect(again.databases).toHaveLength(11);
    expect(await secrets.get(databaseSecretPath(tenant.tenantId, 'sav'))).toEqual(first);
    await run('VerifyDatabases', tenant);
    await run('RemoveDatabases', tenant);
  });

  it('converges after a crash half-way (some databases, an orphan user, an orphan secret)', async () => {
    const tenant = newTenant('Crash Co');
    const before = await snapshot();
    for (const service of ['auth', 'products', 'orders', 'baskets', 'addresses'] as const) {
      await root.query(`CREATE DATABASE \`${databaseName(tenant.tenantId, service)}\` CHARACTER SET latin1`);
    }
    // A user created before its secret was stored: nobody knows its password, so it must be reset.
    await root.query(`CREATE USER ?@'%' IDENTIFIED BY 'lost-password-from-crash-000000'`, [
      databaseUserName(tenant.tenantId, 'auth'),
    ]);
    await root.query(`GRANT DROP ON *.* TO ?@'%'`, [databaseUserName(tenant.tenantId, 'auth')]);
    // A secret stored before its user was created: the stored password must be used.
    const stored = {
      host: 'mysql.e-commerce-shared.svc.cluster.local',
      port: '3306',
      database: databaseName(tenant.tenantId, 'sav'),
      username: databaseUserName(tenant.tenantId, 'sav'),
      password: 'StoredBeforeCrash_0123456789abcdef',
    };
    await secrets.put(databaseSecretPath(tenant.tenantId, 'sav'), stored);

    await run('ProvisionDatabases', tenant);
    expect(await secrets.get(databaseSecretPath(tenant.tenantId, 'sav'))).toEqual(stored);
    const verified = await run('VerifyDatabases', tenant);
    expect(verified.passed).toBe((verified.checks as string[]).length);
    await run('RemoveDatabases', tenant);
    expect(await snapshot()).toEqual(before);
  });

  it("runs the spec's FLUSH PRIVILEGES by default, and not when configured off, the accounts working either way", async () => {
    for (const flushPrivileges of [undefined, false]) {
      const tenant = newTenant(`Flush ${String(flushPrivileges)}`);
      const statements: string[] = [];
      const flushing = handlersWith(
        recording(statements),
        flushPrivileges === undefined ? {} : { flushPrivileges },
      );
      await (flushing.ProvisionDatabases as CommandHandler<'ProvisionDatabases'>)(
        command('ProvisionDatabases', tenant, {} as never),
        context(),
      );
      expect(statements.filter((sql) => sql === 'FLUSH PRIVILEGES')).toHaveLength(
        flushPrivileges === false ? 0 : 1,
      );
      const verified = await run('VerifyDatabases', tenant);
      expect(verified.passed).toBe((verified.checks as string[]).length);
      await run('RemoveDatabases', tenant);
    }
  });

  it('reads a database back after creating it and repairs a collation the server did not keep', async () => {
    // MariaDB can cache the server's default collation for a database whose options file a concurrent reader
    // caught half-written (see convergeDatabases). The outcome is put in place for real right after the
    // CREATE, and provisioning must notice it and repair it.
    const tenant = newTenant('Collation Co');
    const victim = databaseName(tenant.tenantId, 'questions');
    const statements: string[] = [];
    const racing: DatabaseAdmin = Object.create(admin, {
      run: {
        value: async (sql: string, operation: never, target: string, sensitive?: boolean) => {
          statements.push(sql);
          await admin.run(sql, operation, target, sensitive);
          if (sql.startsWith('CREATE DATABASE') && target === victim) {
            await root.query(`ALTER DATABASE \`${victim}\` COLLATE utf8mb4_general_ci`);
          }
        },
      },
    });
    const racingHandlers = handlersWith(racing);
    await (racingHandlers.ProvisionDatabases as CommandHandler<'ProvisionDatabases'>)(
      command('ProvisionDatabases', tenant, {} as never),
      context(),
    );
    expect(statements.filter((sql) => sql.startsWith('ALTER DATABASE'))).toEqual([
      expect.stringContaining(victim),
    ]);
    const [schemata] = await root.query<RowDataPacket[]>(
      'SELECT DEFAULT_COLLATION_NAME AS co FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?',
      [victim],
    );
    expect(schemata[0].co).toBe('utf8mb4_unicode_ci');
    const verified = await run('VerifyDatabases', tenant);
    expect(verified.passed).toBe((verified.checks as string[]).length);
    await run('RemoveDatabases', tenant);
  });

  it('fails retryably, after a bounded number of repairs, when the server keeps reporting another collation', async () => {
    const tenant = newTenant('Stubborn Co');
    let alters = 0;
    const stubborn: DatabaseAdmin = Object.create(admin, {
      databases: {
        value: async (names: string[]) => {
          const found = await admin.databases(names);
          for (const [name, entry] of found) found.set(name, { ...entry, collation: 'utf8mb4_general_ci' });
          return found;
        },
      },
      run: {
        value: async (sql: string, operation: never, target: string, sensitive?: boolean) => {
          if (sql.startsWith('ALTER DATABASE')) alters += 1;
          await admin.run(sql, operation, target, sensitive);
        },
      },
    });
    const stubbornHandlers = handlersWith(stubborn);
    await expect(
      (stubbornHandlers.ProvisionDatabases as CommandHandler<'ProvisionDatabases'>)(
        command('ProvisionDatabases', tenant, {} as never),
        context(),
      ),
    ).rejects.toMatchObject({ code: 'DATABASE.CHARSET_UNSETTLED', retryable: true });
    // Created in the first round, then altered in each of the two repair rounds that followed.
    expect(alters).toBe(11 * 2);
    await run('RemoveDatabases', tenant);
  });

  itWithDatadir("looks up a tenant's databases without loading any other database's options", async () => {
    // An `IN (...)` query on information_schema.SCHEMATA makes MariaDB load the options of every database on
    // the server, racing other tenants' CREATE DATABASE. Shown here by planting a foreign database whose
    // options file on disk differs from what it was created with, after clearing the server's cache of them:
    // a lookup that loads it caches the planted value.
    const [[{ datadir }]] = await root.query<RowDataPacket[]>('SELECT @@datadir AS datadir');
    expect(resolve(String(datadir))).toBe(resolve(MYSQL_DATADIR));
    const foreign = `test_dbsvc_foreign_${randomBytes(3).toString('hex')}`;
    const optFile = join(MYSQL_DATADIR, foreign, 'db.opt');
    await root.query(`CREATE DATABASE \`${foreign}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
    try {
      const original = await readFile(optFile, 'utf8');
      await root.query('FLUSH TABLES');
      await writeFile(optFile, 'default-character-set=latin1\ndefault-collation=latin1_swedish_ci\n');
      try {
        const tenant = newTenant('Lookup Co');
        await admin.databases([databaseName(tenant.tenantId, 'auth'), databaseName(tenant.tenantId, 'sav')]);
      } finally {
        await writeFile(optFile, original);
      }
      const [schemata] = await root.query<RowDataPacket[]>(
        'SELECT DEFAULT_COLLATION_NAME AS co FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?',
        [foreign],
      );
      expect(schemata[0].co).toBe('utf8mb4_unicode_ci');
    } finally {
      await root.query(`DROP DATABASE IF EXISTS \`${foreign}\``);
    }
  });

  it('resets an orphaned account to the secret an earlier attempt stored before dying', async () => {
    const tenant = newTenant('Second Crash Co');
    const user = databaseUserName(tenant.tenantId, 'orders');
    // The account survived without its secret; attempt 1 stored a new secret, then died before resetting
    // the account's password to it. The redelivery finds that secret (not its own candidate).
    await root.query(`CREATE USER ?@'%' IDENTIFIED BY 'lost-password-from-crash-111111'`, [user]);
    await secrets.put(databaseSecretPath(tenant.tenantId, 'orders'), {
      host: 'mysql.e-commerce-shared.svc.cluster.local',
      port: '3306',
      database: databaseName(tenant.tenantId, 'orders'),
      username: user,
      password: 'StoredByTheDeadAttempt_0123456789',
    });
    await run('ProvisionDatabases', tenant);
    const verified = await run('VerifyDatabases', tenant);
    expect(verified.passed).toBe((verified.checks as string[]).length);
    await run('RemoveDatabases', tenant);
  });

  it('refuses a hostile tenant id before any SQL', async () => {
    const before = await snapshot();
    const hostile = testTenant('Hostile', { tenantId: 'x`; DROP DATABASE mysql; --' });
    for (const type of ['ProvisionDatabases', 'RemoveDatabases', 'VerifyDatabases'] as const) {
      await expect(run(type, hostile)).rejects.toMatchObject({
        code: 'DATABASE.INVALID_TENANT_ID',
        retryable: false,
      });
    }
    expect(await snapshot()).toEqual(before);
  });

  it('works with the longest possible tenant id (27 characters)', async () => {
    const tenantId = generateTenantId(
      'Extraordinarily Long Company Name Ltd',
      randomBytes(3).toString('hex'),
    );
    expect(tenantId).toHaveLength(TENANT_ID_MAX_LENGTH);
    const tenant = newTenant('Extraordinarily Long Company Name Ltd', tenantId);
    const outputs = await run('ProvisionDatabases', tenant);
    for (const user of outputs.users as string[]) expect(user.length).toBeLessThanOrEqual(32);
    await run('VerifyDatabases', tenant);
    await run('RemoveDatabases', tenant);
  });

  /**
   * Where the suite reads and spoils backups behind the target's back: files under a directory, or objects in
   * an S3 bucket of the real RGW (the production archive's adapter, bucket unique to this run).
   */
  interface TargetUnderTest {
    backups: BackupTarget;
    read(key: string): Promise<Buffer>;
    write(key: string, bytes: Buffer): Promise<void>;
    keys(prefix: string): Promise<string[]>;
    remove(): Promise<void>;
  }

  async function filesystemTarget(): Promise<TargetUnderTest> {
    const dir = await mkdtemp(join(tmpdir(), 'dbsvc-backups-'));
    const backups = new FilesystemBackupTarget(dir);
    return {
      backups,
      read: (key) => readFile(join(dir, key)),
      write: (key, bytes) => writeFile(join(dir, key), bytes),
      keys: (prefix) => backups.listObjects(prefix),
      remove: () => rm(dir, { recursive: true, force: true }),
    };
  }

  async function s3Target(): Promise<TargetUnderTest> {
    const config = loadConfig(z.object(archiveS3Env()), {
      ...process.env,
      STORAGE_ARCHIVE_BUCKET: `test-dbsvc-archive-${randomBytes(4).toString('hex')}`,
    });
    const bucket = config.STORAGE_ARCHIVE_BUCKET;
    const s3 = createS3Client(s3EndpointFrom(config));
    const stream = async (readable: Readable) => {
      const chunks: Buffer[] = [];
      for await (const chunk of readable) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    };
    return {
      backups: s3BackupTargetFrom(config),
      read: async (key) => stream(await s3.getObject(bucket, key)),
      write: async (key, bytes) => {
        await s3.putObject(bucket, key, bytes, bytes.length);
      },
      keys: async (prefix) => (await listLatest(s3, bucket, prefix)).map((o) => o.key).sort(),
      remove: async () => {
        if (!(await s3.bucketExists(bucket))) return;
        for (const { key } of await listLatest(s3, bucket)) await s3.removeObject(bucket, key);
        await s3.removeBucket(bucket);
      },
    };
  }

  describe.each([
    ['a directory (BACKUP_TARGET=filesystem)', filesystemTarget],
    ['the S3 archive bucket on RGW (BACKUP_TARGET=s3)', s3Target],
  ])('final backup to %s', (_name, createTarget) => {
    let tenant: TenantProfile;
    let target: TargetUnderTest;
    let backupHandlers: CommandHandlers;
    const backupId = `bk-${randomBytes(3).toString('hex')}`;
    const rowsQuery = 'SELECT * FROM `items` ORDER BY id';
    const manifestKeyOf = () => `${tenant.tenantId}/databases/manifest_${backupId}.json`;
    const dumpKeyOf = (database: string, id = backupId) =>
      `${tenant.tenantId}/databases/${database}_final_20250715_${id}.sql.gz`;

    function backupHandlersWith(backups: BackupTarget): CommandHandlers {
      return createHandlers({
        admin,
        secrets,
        backups,
        secretHost: 'mysql.e-commerce-shared.svc.cluster.local',
        secretPort: 3306,
      });
    }
    const backup = (with_ = backupHandlers, id = backupId) =>
      (with_.BackupDatabases as CommandHandler<'BackupDatabases'>)(
        command('BackupDatabases', tenant, { backupId: id }),
        context(),
      );
    const verifyBackup = async (manifestKey = manifestKeyOf(), id = backupId, with_ = backupHandlers) => {
      // Its scratch databases are named after each dump of the manifest (a missing manifest has none).
      const manifest = await target
        .read(manifestKey)
        .then((raw) => JSON.parse(raw.toString('utf8')) as { dumps?: { key: string; sha256: string }[] })
        .catch(() => ({ dumps: [] }));
      for (const dump of manifest.dumps ?? [])
        scratch.add(scratchDatabaseName(`${dump.key}\u001f${dump.sha256}`));
      return (with_.VerifyDatabaseBackup as CommandHandler<'VerifyDatabaseBackup'>)(
        command('VerifyDatabaseBackup', tenant, { backupId: id, manifestKey }),
        context(),
      );
    };

    beforeAll(async () => {
      target = await createTarget();
      backupHandlers = backupHandlersWith(target.backups);
      tenant = newTenant('Backup Co');
      await run('ProvisionDatabases', tenant);
      const db = databaseName(tenant.tenantId, 'products');
      await root.query(`USE \`${db}\``);
      await root.query(
        'CREATE TABLE items (id BIGINT UNSIGNED PRIMARY KEY, name VARCHAR(200), body TEXT, price DECIMAL(12,4), ratio DOUBLE, ' +
          'raw VARBINARY(16), created DATETIME(3), day DATE, flag BIT(3), doc JSON, total INT AS (id * 2) VIRTUAL) ' +
          "COMMENT 'items; with a\\nnewline'",
      );
      await root.query('CREATE TABLE empty_one (id INT PRIMARY KEY)');
      const rows = Array.from({ length: 2500 }, (_, i) => [
        i + 1,
        i % 7 === 0 ? null : `名前 ${i} it's "quoted" \\ back\nslash;\n-- not a comment`,
        'x'.repeat(i % 300),
        (i * 1.0001).toFixed(4),
        i / 3,
        Buffer.from([i % 256, 0, 255, 10, 39]),
        '2025-06-15 10:00:00.123',
        '2025-06-15',
        i % 8,
        JSON.stringify({ i, tags: ['a', 'b'] }),
      ]);
      await root.query(
        'INSERT INTO items (id, name, body, price, ratio, raw, created, day, flag, doc) VALUES ?',
        [rows],
      );
      await root.query('INSERT INTO items (id, name) VALUES (18446744073709551615, NULL)');
      await root.query('USE mysql');
    });

    afterAll(async () => {
      await target?.remove();
    });

    it('fails a backup whose write breaks mid-dump (retryable), stops the dump, and leaves no dump object', async () => {
      // A dump larger than the pipes between MySQL and the writer hold: once the writer stops reading, the
      // dump can only finish if it is stopped.
      const orders = databaseName(tenant.tenantId, 'orders');
      await root.query(`CREATE TABLE \`${orders}\`.noise (id INT PRIMARY KEY, payload TEXT)`);
      const noise = Array.from({ length: 400 }, (_, i) => [i, randomBytes(1500).toString('base64')]);
      await root.query(`INSERT INTO \`${orders}\`.noise VALUES ?`, [noise]);
      const broken = dumpKeyOf(orders);
      const breaking: BackupTarget = {
        getObject: (key) => target.backups.getObject(key),
        listObjects: (prefix) => target.backups.listObjects(prefix),
        async putObject(key, body, options) {
          if (key !== broken || Buffer.isBuffer(body)) return target.backups.putObject(key, body, options);
          // Reads a little of the dump, then the connection to the archive drops.
          for await (const chunk of body) {
            void chunk;
            throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
          }
        },
      };
      try {
        await expect(backup(backupHandlersWith(breaking))).rejects.toMatchObject({
          code: 'DATABASE.BACKUP_WRITE_FAILED',
          retryable: true,
        });
        const written = await target.keys(`${tenant.tenantId}/databases/`);
        expect(written).toContain(dumpKeyOf(databaseName(tenant.tenantId, 'auth')));
        expect(written).not.toContain(broken);
        expect(written).not.toContain(manifestKeyOf());
      } finally {
        await root.query(`DROP TABLE \`${orders}\`.noise`);
      }
    });

    it('reports a dump that fails mid-way with its own code, not as a failed write', async () => {
      // In the adapter's order: the dump settles `tables` with its classified error, then its stream fails,
      // which reaches the writer as the write's own failure.
      const orders = databaseName(tenant.tenantId, 'orders');
      const lost = classifyMysqlError(
        Object.assign(new Error('Connection lost: The server closed the connection.'), {
          code: 'PROTOCOL_CONNECTION_LOST',
        }),
        'backup',
        orders,
      );
      const failingDump: DatabaseAdmin['dump'] = (database, createdAt) => {
        if (database !== orders) return admin.dump(database, createdAt);
        let fail!: (error: unknown) => void;
        const tables = new Promise<TableRows[]>((_resolve, reject) => {
          fail = reject;
        });
        tables.catch(() => undefined);
        async function* statements(): AsyncGenerator<string> {
          yield '-- dump header\n';
          fail(lost);
          throw lost;
        }
        return { stream: Readable.from(statements()), tables };
      };
      const failingAdmin = new Proxy(admin, {
        get(real, property) {
          if (property === 'dump') return failingDump;
          const value: unknown = Reflect.get(real, property, real);
          return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(real) : value;
        },
      });
      const handlersWithFailingDump = createHandlers({
        admin: failingAdmin,
        secrets,
        backups: target.backups,
        secretHost: 'mysql.e-commerce-shared.svc.cluster.local',
        secretPort: 3306,
      });
      await expect(backup(handlersWithFailingDump)).rejects.toMatchObject({
        code: 'DATABASE.UNAVAILABLE',
        retryable: true,
      });
      expect(await target.keys(`${tenant.tenantId}/databases/`)).not.toContain(dumpKeyOf(orders));
    });

    it('writes one gzipped dump per database and a manifest; the dump reproduces the data', async () => {
      const outputs = await backup();
      expect(outputs.count).toBe(11);
      expect(outputs.manifestKey).toBe(manifestKeyOf());
      const db = databaseName(tenant.tenantId, 'products');
      const manifest = JSON.parse((await target.read(manifestKeyOf())).toString('utf8'));
      // Every dump and the manifest, under the tenant's prefix, read back without the adapter.
      expect(await target.keys(`${tenant.tenantId}/`)).toEqual(
        [manifestKeyOf(), ...manifest.dumps.map((d: { database: string }) => dumpKeyOf(d.database))].sort(),
      );
      expect(manifest.dumps).toHaveLength(11);
      const entry = manifest.dumps.find((d: { database: string }) => d.database === db);
      expect(entry.key).toBe(dumpKeyOf(db));
      expect(entry.tables).toEqual([
        { name: 'empty_one', rows: 0 },
        { name: 'items', rows: 2501 },
      ]);
      expect(outputs.totalBytes).toBe(
        manifest.dumps.reduce((s: number, d: { bytes: number }) => s + d.bytes, 0),
      );
      const dump = await target.read(dumpKeyOf(db));
      expect(createHash('sha256').update(dump).digest('hex')).toBe(entry.sha256);

      // Restore by hand into a scratch database and compare every row.
      const scratchDb = `restore_${randomBytes(6).toString('hex')}`;
      scratch.add(scratchDb);
      await root.query(`CREATE DATABASE \`${scratchDb}\``);
      try {
        const restoreInto = await mysql.createConnection({
          ...parseMysqlUrl(MYSQL_URL),
          database: scratchDb,
        });
        for (const line of gunzipSync(dump).toString('utf8').split('\n')) {
          const parsed = parseDumpLine(line);
          if (parsed.kind === 'statement') await restoreInto.query(parsed.sql);
        }
        const source = await mysql.createConnection({
          ...parseMysqlUrl(MYSQL_URL),
          database: db,
          supportBigNumbers: true,
          bigNumberStrings: true,
          dateStrings: true,
          jsonStrings: true,
        });
        const [original] = await source.query(rowsQuery);
        const exact = {
          ...parseMysqlUrl(MYSQL_URL),
          supportBigNumbers: true,
          bigNumberStrings: true,
          dateStrings: true,
          jsonStrings: true,
        };
        const copy = await mysql.createConnection({ ...exact, database: scratchDb });
        const [restoredExact] = await copy.query(rowsQuery);
        await copy.end();
        expect(restoredExact).toEqual(original);
        expect((restoredExact as unknown[]).length).toBe(2501);
        const [[origCreate]] = await source.query<RowDataPacket[]>('SHOW CREATE TABLE items');
        const [[copyCreate]] = await restoreInto.query<RowDataPacket[]>('SHOW CREATE TABLE items');
        expect(copyCreate['Create Table']).toBe(origCreate['Create Table']);
        await source.end();
        await restoreInto.end();
      } finally {
        await root.query(`DROP DATABASE IF EXISTS \`${scratchDb}\``);
      }
    });

    it('verifies the backup by restoring each dump into a scratch database', async () => {
      const before = await snapshot();
      const outputs = await verifyBackup();
      expect(outputs).toMatchObject({ verifiedDumps: 11, rowsChecked: 2501 });
      expect(await snapshot()).toEqual(before);
    });

    it('keeps two backup rounds of one day apart: each verification reads its own dumps', async () => {
      const db = databaseName(tenant.tenantId, 'products');
      const secondId = `${backupId}-2`;
      const first = JSON.parse((await target.read(manifestKeyOf())).toString('utf8')) as {
        dumps: { key: string }[];
      };
      // The data changes between the rounds, so the second round's dump of it differs from the first's.
      await root.query(`CREATE TABLE \`${db}\`.round_two (id INT PRIMARY KEY)`);
      await root.query(`INSERT INTO \`${db}\`.round_two VALUES (1), (2), (3)`);
      try {
        const second = await backup(backupHandlers, secondId);
        const secondManifest = second.manifestKey as string;
        const secondKeys = (second.dumps as { key: string }[]).map((d) => d.key);
        expect(secondKeys).toHaveLength(11);
        expect(secondKeys.filter((key) => first.dumps.some((d) => d.key === key))).toEqual([]);
        const archived = await target.keys(`${tenant.tenantId}/databases/`);
        for (const key of [...first.dumps.map((d) => d.key), ...secondKeys]) expect(archived).toContain(key);

        const reads: string[] = [];
        const recording = backupHandlersWith({
          getObject: (key) => {
            reads.push(key);
            return target.backups.getObject(key);
          },
          listObjects: (prefix) => target.backups.listObjects(prefix),
          putObject: (key, body, options) => target.backups.putObject(key, body, options),
        });
        // The first round still verifies, from its own dumps only (2,501 rows: without round_two).
        await expect(verifyBackup(manifestKeyOf(), backupId, recording)).resolves.toMatchObject({
          verifiedDumps: 11,
          rowsChecked: 2501,
        });
        expect(new Set(reads)).toEqual(new Set([manifestKeyOf(), ...first.dumps.map((d) => d.key)]));
        reads.length = 0;
        await expect(verifyBackup(secondManifest, secondId, recording)).resolves.toMatchObject({
          verifiedDumps: 11,
          rowsChecked: 2504,
        });
        expect(new Set(reads)).toEqual(new Set([secondManifest, ...secondKeys]));
      } finally {
        await root.query(`DROP TABLE IF EXISTS \`${db}\`.round_two`);
      }
    });

    /**
     * Puts a crafted dump of the products database and a manifest describing it (checksums right) into the
     * archive, as anyone able to write the archive bucket could; returns what verifying it needs.
     */
    async function plantBackup(name: string, lines: string[], tables: TableRows[]) {
      const id = `${name}-${randomBytes(3).toString('hex')}`;
      const real = JSON.parse((await target.read(manifestKeyOf())).toString('utf8')) as { createdAt: string };
      const database = databaseName(tenant.tenantId, 'products');
      const key = dumpKeyOf(database, id);
      const dump = gzipSync(Buffer.from(['SET NAMES utf8mb4;', ...lines, '-- dump complete', ''].join('\n')));
      const sha256 = createHash('sha256').update(dump).digest('hex');
      await target.write(key, dump);
      const manifestKey = `${tenant.tenantId}/databases/manifest_${id}.json`;
      const manifest = {
        version: 1,
        tenantId: tenant.tenantId,
        backupId: id,
        createdAt: real.createdAt,
        format: 'mysql-logical-dump+gzip',
        dumps: [{ service: 'products', database, key, sha256, bytes: dump.length, tables }],
      };
      await target.write(manifestKey, Buffer.from(JSON.stringify(manifest)));
      return { id, manifestKey, scratchDb: scratchDatabaseName(`${key}\u001f${sha256}`) };
    }

    async function accountsNamed(names: string[]): Promise<string[]> {
      const [rows] = await root.query<RowDataPacket[]>('SELECT User FROM mysql.user WHERE User IN (?)', [
        names,
      ]);
      return rows.map((row) => String(row.User));
    }

    it('replays a dump as a temporary account holding only the restore privileges on the scratch database', async () => {
      const planted = await plantBackup(
        'privileges',
        [
          // Each table records what the replaying account is and may do, its row count checked by the manifest.
          "CREATE TABLE `who` (u VARCHAR(200)) SELECT CURRENT_USER() AS u FROM DUAL WHERE CURRENT_USER() = CONCAT(DATABASE(), '@%');",
          "CREATE TABLE `global_privileges` (p VARCHAR(64)) SELECT PRIVILEGE_TYPE AS p FROM information_schema.USER_PRIVILEGES WHERE PRIVILEGE_TYPE <> 'USAGE';",
          'CREATE TABLE `schema_privileges` (p VARCHAR(64)) SELECT PRIVILEGE_TYPE AS p FROM information_schema.SCHEMA_PRIVILEGES;',
          'CREATE TABLE `table_privileges` (p VARCHAR(64)) SELECT PRIVILEGE_TYPE AS p FROM information_schema.TABLE_PRIVILEGES;',
        ],
        [
          { name: 'global_privileges', rows: 0 },
          { name: 'schema_privileges', rows: 5 },
          { name: 'table_privileges', rows: 0 },
          { name: 'who', rows: 1 },
        ],
      );
      expect(await accountsNamed([planted.scratchDb])).toEqual([]);
      await expect(verifyBackup(planted.manifestKey, planted.id)).resolves.toMatchObject({
        verifiedDumps: 1,
      });
      expect(await accountsNamed([planted.scratchDb])).toEqual([]);
      const [left] = await root.query<RowDataPacket[]>('SHOW DATABASES LIKE ?', [planted.scratchDb]);
      expect(left).toHaveLength(0);
    });

    it('fails the verification of a planted dump that reaches into another database, and touches nothing there', async () => {
      const victim = `test_victim_${randomBytes(4).toString('hex')}`;
      await root.query(`CREATE DATABASE \`${victim}\``);
      const planted: { scratchDb: string }[] = [];
      try {
        await root.query(`CREATE TABLE \`${victim}\`.v (a INT) ENGINE=MyISAM`);
        await root.query(`CREATE TABLE \`${victim}\`.secrets (s VARCHAR(64))`);
        await root.query(`INSERT INTO \`${victim}\`.secrets VALUES ('not yours')`);
        // Both pass the dump format's line filter; run as the admin, the first writes into the victim's
        // table through a MERGE table and the second copies its secrets.
        const write = await plantBackup(
          'merge',
          [
            `CREATE TABLE \`m\` (a INT) ENGINE=MRG_MyISAM UNION=(\`${victim}\`.\`v\`) INSERT_METHOD=LAST;`,
            'INSERT INTO `m` (a) VALUES (666);',
          ],
          [{ name: 'm', rows: 1 }],
        );
        const read = await plantBackup(
          'copy',
          [`CREATE TABLE \`stolen\` (s VARCHAR(64)) SELECT s FROM \`${victim}\`.\`secrets\`;`],
          [{ name: 'stolen', rows: 1 }],
        );
        planted.push(write, read);
        for (const { manifestKey, id } of [write, read]) {
          await expect(verifyBackup(manifestKey, id)).rejects.toMatchObject({
            code: 'DATABASE.RESTORE_REFUSED',
            retryable: false,
          });
        }
        const [victimRows] = await root.query<RowDataPacket[]>(`SELECT a FROM \`${victim}\`.v`);
        expect(victimRows).toEqual([]);

        // Statements naming accounts or other databases outright are refused by the line filter, before any SQL.
        const evil = `evil_${randomBytes(3).toString('hex')}`;
        for (const line of [
          `CREATE USER '${evil}'@'%' IDENTIFIED BY 'x';`,
          `GRANT ALL PRIVILEGES ON *.* TO '${evil}'@'%';`,
          `DROP DATABASE \`${victim}\`;`,
          `USE \`${victim}\`;`,
        ]) {
          const outright = await plantBackup('outright', [line], []);
          planted.push(outright);
          await expect(verifyBackup(outright.manifestKey, outright.id)).rejects.toMatchObject({
            code: 'DATABASE.BACKUP_CORRUPTED',
          });
        }
        expect(await accountsNamed([evil])).toEqual([]);
        const [stillThere] = await root.query<RowDataPacket[]>('SHOW DATABASES LIKE ?', [victim]);
        expect(stillThere).toHaveLength(1);
        // Failed or not, every check dropped its account and its scratch database.
        const scratchNames = planted.map((p) => p.scratchDb);
        expect(await accountsNamed(scratchNames)).toEqual([]);
        const [databases] = await root.query<RowDataPacket[]>(
          'SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME IN (?)',
          [scratchNames],
        );
        expect(databases).toEqual([]);
      } finally {
        await root.query(`DROP DATABASE IF EXISTS \`${victim}\``);
      }
    });

    it('drops a scratch database and a probe table left by checks killed half-way', async () => {
      const manifest = JSON.parse((await target.read(manifestKeyOf())).toString('utf8')) as {
        dumps: { key: string; sha256: string }[];
      };
      const leftover = scratchDatabaseName(`${manifest.dumps[0].key}\u001f${manifest.dumps[0].sha256}`);
      await root.query(`CREATE DATABASE \`${leftover}\``);
      await root.query(`CREATE TABLE \`${leftover}\`.pii (email VARCHAR(100))`);
      await root.query(`INSERT INTO \`${leftover}\`.pii VALUES ('left@behind.example')`);
      await verifyBackup();
      const [left] = await root.query<RowDataPacket[]>('SHOW DATABASES LIKE ?', [leftover]);
      expect(left).toHaveLength(0);

      // A VerifyDatabases killed before dropping its probe table, retried as a new attempt (another command
      // id): the probe is named after the account and database, so the new attempt finds and drops it.
      const verify = command('VerifyDatabases', tenant, {}, { id: `verify-attempt-2-${backupId}` });
      const verifyContext = { ...context(), commandId: verify.metadata.messageId };
      const db = databaseName(tenant.tenantId, 'auth');
      const probe = probeTableName(databaseUserName(tenant.tenantId, 'auth'), db);
      await root.query(`CREATE TABLE \`${db}\`.\`${probe}\` (id INT PRIMARY KEY, label VARCHAR(16))`);
      await root.query(`INSERT INTO \`${db}\`.\`${probe}\` VALUES (1, 'ok')`);
      const outputs = await (handler('VerifyDatabases') as CommandHandler<'VerifyDatabases'>)(
        verify,
        verifyContext,
      );
      expect(outputs.passed).toBe((outputs.checks as string[]).length);
      const [tables] = await root.query<RowDataPacket[]>(`SHOW TABLES FROM \`${db}\``);
      expect(tables).toHaveLength(0);
    });

    it('detects a corrupted dump (checksum) and a truncated one (gzip) with clear permanent codes', async () => {
      const db = databaseName(tenant.tenantId, 'products');
      const dumpKey = dumpKeyOf(db);
      const original = await target.read(dumpKey);
      const flipped = Buffer.from(original);
      flipped[Math.floor(flipped.length / 2)] ^= 0xff;
      await target.write(dumpKey, flipped);
      await expect(verifyBackup()).rejects.toMatchObject({
        code: 'DATABASE.BACKUP_CHECKSUM_MISMATCH',
        retryable: false,
      });

      // A dump whose manifest was rewritten to match it still fails: it does not decompress.
      const truncated = original.subarray(0, Math.floor(original.length / 2));
      await target.write(dumpKey, truncated);
      const manifest = JSON.parse((await target.read(manifestKeyOf())).toString('utf8'));
      const entry = manifest.dumps.find((d: { database: string }) => d.database === db);
      entry.sha256 = createHash('sha256').update(truncated).digest('hex');
      entry.bytes = truncated.length;
      await target.write(manifestKeyOf(), Buffer.from(JSON.stringify(manifest)));
      const before = await snapshot();
      await expect(verifyBackup()).rejects.toMatchObject({
        code: 'DATABASE.BACKUP_CORRUPTED',
        retryable: false,
      });
      expect(await snapshot()).toEqual(before);

      // A consistent dump with a wrong row count in the manifest.
      await target.write(dumpKey, original);
      entry.sha256 = createHash('sha256').update(original).digest('hex');
      entry.bytes = original.length;
      entry.tables = [
        { name: 'empty_one', rows: 0 },
        { name: 'items', rows: 2502 },
      ];
      await target.write(manifestKeyOf(), Buffer.from(JSON.stringify(manifest)));
      await expect(verifyBackup()).rejects.toMatchObject({ code: 'DATABASE.BACKUP_ROW_COUNT_MISMATCH' });
    });

    it('refuses a manifest of another tenant and reports a missing one or a missing dump', async () => {
      await expect(verifyBackup('other-co-abcdef/databases/manifest_x.json')).rejects.toMatchObject({
        code: 'DATABASE.BACKUP_MANIFEST_FOREIGN',
      });
      await expect(verifyBackup(`${tenant.tenantId}/databases/manifest_none.json`)).rejects.toMatchObject({
        code: 'DATABASE.BACKUP_MANIFEST_MISSING',
        retryable: false,
      });
      // A manifest naming a dump the archive does not hold (the day-named key older manifests used).
      const manifest = JSON.parse((await target.read(manifestKeyOf())).toString('utf8'));
      const first = manifest.dumps[0] as { key: string; database: string };
      first.key = `${tenant.tenantId}/databases/${first.database}_final_20250715.sql.gz`;
      const orphan = `${tenant.tenantId}/databases/manifest_orphan.json`;
      await target.write(orphan, Buffer.from(JSON.stringify(manifest)));
      await expect(verifyBackup(orphan)).rejects.toMatchObject({
        code: 'DATABASE.BACKUP_OBJECT_MISSING',
        retryable: false,
      });
      // A manifest naming another round's dump, or claiming another backup id, is refused before any read.
      first.key = dumpKeyOf(first.database, 'another-round');
      await target.write(orphan, Buffer.from(JSON.stringify(manifest)));
      await expect(verifyBackup(orphan)).rejects.toMatchObject({ code: 'DATABASE.BACKUP_MANIFEST_INVALID' });
      await expect(verifyBackup(manifestKeyOf(), 'another-round')).rejects.toMatchObject({
        code: 'DATABASE.BACKUP_MANIFEST_INVALID',
      });
    });
  });
});
