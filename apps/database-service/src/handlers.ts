import { createHash, randomBytes } from 'node:crypto';
import { Transform, type Readable } from 'node:stream';
import { createGunzip, createGzip } from 'node:zlib';
import {
  adminInitialSecretPath,
  ContractError,
  tenantLimits,
  type CommandMessage,
  type JsonValue,
  type TenantProfile,
  type Tier,
} from '@app/contracts';
import { BackupObjectNotFoundError, BackupTargetError, type BackupTarget } from '@app/archive';
import { permanent, retryable, StepError, type CommandContext, type CommandHandlers } from '@app/platform';
import { SecretStoreError, type SecretStore } from '@app/secrets';
import { scratchDatabaseName, type DatabaseAdmin, type TableRows } from './adapters/mysql-server';
import { generateTemporaryPassword } from './domain/admin-password';
import {
  backupDate,
  DUMP_CONTENT_TYPE,
  dumpKey,
  isOwnDumpKey,
  MANIFEST_CONTENT_TYPE,
  manifestKey,
  parseManifest,
  type BackupManifest,
  type DumpEntry,
} from './domain/backup-manifest';
import { classifyMysqlError } from './domain/errors';
import { tenantDatabases, type DatabaseCredentials, type ServiceDatabase } from './domain/plan';
import {
  alterDatabaseCharsetSql,
  createDatabaseSql,
  createUserSql,
  dropDatabaseSql,
  dropUserSql,
  grantsMatch,
  grantSql,
  parseGrants,
  revokeAllSql,
  setUserPasswordSql,
  SqlBuilderError,
  userConnectionLimitSql,
} from './domain/sql';

export interface DatabaseHandlerDeps {
  admin: DatabaseAdmin;
  secrets: SecretStore;
  backups: BackupTarget;
  /** Host/port written into the credentials secret (what tenant pods connect to). */
  secretHost: string;
  secretPort: number;
  /** Defaults to 24 random bytes as base64url (32 characters); injectable for tests. */
  generatePassword?: () => string;
  /** The tenant admin's temporary password; defaults to `generateTemporaryPassword` over crypto bytes. */
  generateAdminPassword?: () => string;
}

const CHARSET = 'utf8mb4';
const COLLATION = 'utf8mb4_unicode_ci';
/** Create/repair rounds before a database whose collation will not settle fails the step. */
const CONVERGE_ROUNDS = 3;

export function generateDatabasePassword(): string {
  return randomBytes(24).toString('base64url');
}

/** Names derived from the command's tenant; every identifier is validated here, before any SQL. */
function planFor(command: CommandMessage): ServiceDatabase[] {
  try {
    return tenantDatabases(command.data.tenant.tenantId);
  } catch (error) {
    if (error instanceof ContractError) {
      throw permanent('DATABASE.INVALID_TENANT_ID', error.message);
    }
    throw error;
  }
}

async function secretCall<T>(action: string, path: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof SecretStoreError) {
      const fatal = ['SECRETS.DECRYPTION_FAILED', 'SECRETS.INVALID_PATH', 'SECRETS.PATH_MISMATCH'].includes(
        error.code,
      );
      return Promise.reject(
        fatal
          ? permanent(error.code, error.message)
          : retryable(error.code, `${action} ${path}: ${error.message}`),
      );
    }
    // Driver errors (connection refused, timeouts) are transient; the message names the path only.
    return Promise.reject(
      retryable('DATABASE.SECRET_STORE_UNAVAILABLE', `${action} ${path}: secret store unavailable`),
    );
  }
}

/** Our typed errors keep their codes; anything else is classified by `untyped` (a MySQL error by default). */
function asStepError(
  error: unknown,
  operation: Parameters<typeof classifyMysqlError>[1],
  target: string,
  untyped: (error: unknown) => StepError = (other) => classifyMysqlError(other, operation, target),
): StepError {
  if (error instanceof StepError) return error;
  if (error instanceof SqlBuilderError || error instanceof ContractError)
    return permanent(error.code, error.message);
  if (error instanceof BackupObjectNotFoundError)
    return permanent('DATABASE.BACKUP_OBJECT_MISSING', error.message);
  if (error instanceof BackupTargetError) return permanent(error.code, error.message);
  return untyped(error);
}

export function createHandlers(deps: DatabaseHandlerDeps): CommandHandlers {
  const { admin, secrets, backups } = deps;
  const newPassword = deps.generatePassword ?? generateDatabasePassword;
  const newAdminPassword = deps.generateAdminPassword ?? (() => generateTemporaryPassword(randomBytes));

  /**
   * The admin's first credentials are the auth database's initial data: written here, before DeployWorkloads,
   * so the migration Job's seeder finds them through its ExternalSecret, and the welcome e-mail (after
   * activation) mails the password that was seeded. putIfAbsent: a redelivery never changes a password the
   * seeder may already have used.
   */
  async function provisionAdminInitialSecret(tenant: TenantProfile): Promise<string> {
    const path = adminInitialSecretPath(tenant.tenantId);
    const stored = await secretCall('store', path, () =>
      secrets.putIfAbsent(path, {
        ADMIN_LOGIN: tenant.adminEmail,
        TEMPORARY_PASSWORD: newAdminPassword(),
        MUST_CHANGE_AT_FIRST_LOGIN: 'true',
      }),
    );
    if (!stored.TEMPORARY_PASSWORD) {
      throw permanent('DATABASE.SECRET_MISMATCH', `secret at ${path} has no TEMPORARY_PASSWORD`);
    }
    return path;
  }

  /** The tier's MAX_USER_CONNECTIONS on every service account of the plan (ALTER USER: safe to repeat). */
  async function applyConnectionLimits(plan: ServiceDatabase[], tier: Tier): Promise<number> {
    const max = tenantLimits(tier).database.maxUserConnections;
    await Promise.all(
      plan.map((entry) => admin.run(userConnectionLimitSql(entry.user, max), 'grant', entry.user)),
    );
    return max;
  }

  async function provisionAccount(
    entry: ServiceDatabase,
    existingUsers: Set<string>,
    context: CommandContext,
  ) {
    const fresh = newPassword();
    const candidate: DatabaseCredentials = {
      host: deps.secretHost,
      port: String(deps.secretPort),
      database: entry.database,
      username: entry.user,
      password: fresh,
    };
    // Secret first: a crash after this point leaves a stored password the next attempt will reuse.
    const stored = await secretCall('store', entry.secretPath, () =>
      secrets.putIfAbsent(entry.secretPath, candidate),
    );
    if (stored.username !== entry.user || stored.database !== entry.database || !stored.password) {
      throw permanent('DATABASE.SECRET_MISMATCH', `secret at ${entry.secretPath} belongs to another account`);
    }
    if (!existingUsers.has(entry.user)) {
      await admin.run(createUserSql(entry.user, stored.password), 'create-user', entry.user, true);
    } else {
      // The account exists: its password is set to the stored one every time (idempotent). Only comparing
      // with the fresh candidate would miss an attempt that stored a new secret for an orphaned account and
      // died before resetting it: the redelivery finds that secret, not its own, and the account would keep
      // a password nobody holds.
      if (stored.password === fresh) {
        context.logger.warn(
          { user: entry.user, secretPath: entry.secretPath },
          'resetting password of orphaned account',
        );
      }
      await admin.run(setUserPasswordSql(entry.user, stored.password), 'set-password', entry.user, true);
    }
    const grants = await admin.grants(entry.user);
    if (!grantsMatch(grants, entry.database)) {
      if (parseGrants(grants).size > 0) await admin.run(revokeAllSql(entry.user), 'grant', entry.user);
      await admin.run(grantSql(entry.user, entry.database), 'grant', entry.user);
    }
  }

  /**
   * Creates the missing databases and resets a wrong default character set, then reads them back until the
   * server reports every one as asked. The read-back is not paranoia: MariaDB caches each database's options
   * and fills that cache from `db.opt`, which CREATE/ALTER DATABASE truncate and then write; a concurrent
   * reader of the options (an information_schema query, a CREATE TABLE) that lands between the two caches
   * the server's default collation, and every table created later would get it. Seen once in the
   * fault-injection suite as a tenant failing verification on one database's collation. ALTER DATABASE
   * rewrites both the file and the cache, so a repair round fixes it; a server that keeps disagreeing fails
   * the step as retryable rather than handing out a database with the wrong collation.
   */
  async function convergeDatabases(names: string[]): Promise<void> {
    for (let round = 0; ; round++) {
      const existing = await admin.databases(names);
      const pending = names.filter((name) => {
        const found = existing.get(name);
        return !found || found.charset !== CHARSET || found.collation !== COLLATION;
      });
      if (pending.length === 0) return;
      if (round === CONVERGE_ROUNDS) {
        throw retryable(
          'DATABASE.CHARSET_UNSETTLED',
          `${pending.join(', ')}: still not ${CHARSET}/${COLLATION} after ${CONVERGE_ROUNDS} attempts`,
        );
      }
      await Promise.all(
        pending.map((database) =>
          existing.has(database)
            ? admin.run(alterDatabaseCharsetSql(database), 'create-database', database)
            : admin.run(createDatabaseSql(database), 'create-database', database),
        ),
      );
    }
  }

  return {
    ProvisionDatabases: async (command, context) => {
      const plan = planFor(command);
      const names = plan.map((entry) => entry.database);
      await convergeDatabases(names);
      const users = await admin.users(plan.map((entry) => entry.user));
      await Promise.all(plan.map((entry) => provisionAccount(entry, users, context)));
      const maxUserConnections = await applyConnectionLimits(plan, command.data.tenant.tier);
      // Account statements take effect at once; the spec's FLUSH PRIVILEGES is kept for servers whose grant
      // tables were edited by hand.
      await admin.run('FLUSH PRIVILEGES', 'grant', 'privileges');
      const adminCredentialsPath = await provisionAdminInitialSecret(command.data.tenant);
      return {
        databases: names,
        users: plan.map((entry) => entry.user),
        secretPaths: plan.map((entry) => entry.secretPath),
        adminCredentialsPath,
        charset: CHARSET,
        collation: COLLATION,
        maxUserConnections,
      };
    },

    UpdateDatabaseLimits: async (command) => {
      const plan = planFor(command);
      const { toTier } = command.data.params;
      // ALTER USER of a missing account fails (DATABASE.USER_OPERATION_FAILED): nothing to limit is an error.
      const maxUserConnections = await applyConnectionLimits(plan, toTier);
      return { tier: toTier, users: plan.map((entry) => entry.user), maxUserConnections };
    },

    VerifyDatabases: async (command) => {
      const plan = planFor(command);
      const existing = await admin.databases(plan.map((entry) => entry.database));
      const checks: { name: string; passed: boolean }[] = [];
      const check = (name: string, passed: boolean) => checks.push({ name, passed });
      const maxConnections = tenantLimits(command.data.tenant.tier).database.maxUserConnections;
      const limits = await admin.userConnectionLimits(plan.map((entry) => entry.user));
      for (const [index, entry] of plan.entries()) {
        check(`${entry.user}:max-connections`, limits.get(entry.user) === maxConnections);
        const found = existing.get(entry.database);
        check(`${entry.database}:exists`, found !== undefined);
        check(`${entry.database}:charset`, found?.charset === CHARSET && found?.collation === COLLATION);
        check(`${entry.user}:grants`, grantsMatch(await admin.grants(entry.user), entry.database));
        const stored = await secretCall('read', entry.secretPath, () => secrets.get(entry.secretPath));
        check(`${entry.secretPath}:secret`, stored !== undefined);
        if (!stored || !found) continue;
        const foreign = plan[(index + 1) % plan.length].database;
        const report = await admin.checkServiceAccess(
          { username: stored.username, password: stored.password, database: entry.database },
          foreign,
        );
        check(`${entry.user}:connect`, report.connected);
        check(`${entry.user}:own-database`, report.ownDatabaseUsable);
        check(`${entry.user}:no-drop`, report.dropRefused);
        check(`${entry.user}:foreign-refused`, report.foreignDatabaseRefused);
      }
      const failed = checks.filter((c) => !c.passed).map((c) => c.name);
      if (failed.length > 0) {
        throw permanent('DATABASE.VERIFICATION_FAILED', `failed checks: ${failed.join(', ')}`);
      }
      return { checks: checks.map((c) => c.name), passed: checks.length };
    },

    RemoveDatabases: async (command) => {
      const plan = planFor(command);
      await Promise.all(
        plan.map(async (entry) => {
          await admin.run(dropUserSql(entry.user), 'drop', entry.user);
          await admin.run(dropDatabaseSql(entry.database), 'drop', entry.database);
          await secretCall('delete', entry.secretPath, () => secrets.delete(entry.secretPath));
        }),
      );
      const adminPath = adminInitialSecretPath(command.data.tenant.tenantId);
      await secretCall('delete', adminPath, () => secrets.delete(adminPath));
      return {
        removedDatabases: plan.map((entry) => entry.database),
        removedUsers: plan.map((entry) => entry.user),
        removedSecretPaths: [...plan.map((entry) => entry.secretPath), adminPath],
      };
    },

    BackupDatabases: async (command) => {
      const plan = planFor(command);
      const { backupId } = command.data.params;
      const tenantId = command.data.tenant.tenantId;
      let date: string;
      let key: string;
      try {
        date = backupDate(command.metadata.occurredAt);
        key = manifestKey(tenantId, backupId);
      } catch (error) {
        throw asStepError(error, 'backup', tenantId);
      }
      const existing = await admin.databases(plan.map((entry) => entry.database));
      const missing = plan.filter((entry) => !existing.has(entry.database)).map((entry) => entry.database);
      if (missing.length > 0) {
        throw permanent('DATABASE.BACKUP_SOURCE_MISSING', `databases missing: ${missing.join(', ')}`);
      }
      const dumps: DumpEntry[] = [];
      for (const entry of plan) {
        dumps.push(
          await dumpOne(
            entry,
            dumpKey(tenantId, entry.database, date, backupId),
            command.metadata.occurredAt,
          ),
        );
      }
      const manifest: BackupManifest = {
        version: 1,
        tenantId,
        backupId,
        createdAt: command.metadata.occurredAt,
        format: 'mysql-logical-dump+gzip',
        dumps,
      };
      try {
        await backups.putObject(key, Buffer.from(JSON.stringify(manifest, null, 2)), {
          contentType: MANIFEST_CONTENT_TYPE,
        });
      } catch (error) {
        throw backupWriteError(error, key);
      }
      return {
        manifestKey: key,
        count: dumps.length,
        totalBytes: dumps.reduce((sum, d) => sum + d.bytes, 0),
        dumps: dumps.map((d) => ({ key: d.key, sha256: d.sha256, bytes: d.bytes })) as JsonValue,
      };
    },

    VerifyDatabaseBackup: async (command) => {
      const tenantId = command.data.tenant.tenantId;
      planFor(command);
      const { manifestKey: key } = command.data.params;
      if (typeof key !== 'string' || !key.startsWith(`${tenantId}/databases/`)) {
        throw permanent(
          'DATABASE.BACKUP_MANIFEST_FOREIGN',
          "manifest key is not under this tenant's backup prefix",
        );
      }
      let manifest: BackupManifest;
      try {
        manifest = parseManifest((await readAll(await backups.getObject(key))).toString('utf8'));
      } catch (error) {
        if (error instanceof BackupObjectNotFoundError) {
          throw permanent('DATABASE.BACKUP_MANIFEST_MISSING', `manifest ${key} not found`);
        }
        throw backupReadError(error, key);
      }
      if (manifest.tenantId !== tenantId) {
        throw permanent('DATABASE.BACKUP_MANIFEST_FOREIGN', 'manifest belongs to another tenant');
      }
      if (manifest.backupId !== command.data.params.backupId) {
        throw permanent('DATABASE.BACKUP_MANIFEST_INVALID', `manifest ${key} describes another backup`);
      }
      let tables = 0;
      let rows = 0;
      for (const dump of manifest.dumps) {
        if (!dump.key.startsWith(`${tenantId}/databases/`)) {
          throw permanent(
            'DATABASE.BACKUP_MANIFEST_FOREIGN',
            `dump ${dump.key} is outside this tenant's prefix`,
          );
        }
        let own: boolean;
        try {
          own = isOwnDumpKey(manifest, dump);
        } catch (error) {
          throw asStepError(error, 'restore', key);
        }
        if (!own) {
          throw permanent(
            'DATABASE.BACKUP_MANIFEST_INVALID',
            `dump ${dump.key} is not a dump of backup ${manifest.backupId}`,
          );
        }
        await verifyChecksum(dump);
        const restored = await restore(dump);
        compareCounts(dump, restored);
        tables += restored.length;
        rows += restored.reduce((sum, t) => sum + t.rows, 0);
      }
      return {
        manifestKey: key,
        verifiedDumps: manifest.dumps.length,
        tablesChecked: tables,
        rowsChecked: rows,
      };
    },
  };

  async function dumpOne(entry: ServiceDatabase, key: string, createdAt: string): Promise<DumpEntry> {
    const { stream, tables } = admin.dump(entry.database, createdAt);
    // A failure of the dump itself settles `tables` before it reaches the writer (as the stream's error), so
    // by the time the write fails it is known here, and reported with its own classified code.
    let dumpError: unknown;
    tables.catch((error: unknown) => {
      dumpError = error;
    });
    const hash = createHash('sha256');
    let bytes = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        hash.update(chunk);
        bytes += chunk.length;
        callback(null, chunk);
      },
    });
    const gzip = createGzip();
    stream.on('error', (error) => gzip.destroy(error));
    gzip.on('error', (error) => meter.destroy(error));
    // The dump runs as soon as it is piped, while the writer may still be preparing (creating the bucket): a
    // dump failing then would emit an error nobody listens to yet and crash the process. The writer still
    // sees it (the stream is destroyed with it), and `dumpError` holds it anyway.
    meter.on('error', () => undefined);
    stream.pipe(gzip).pipe(meter);
    try {
      await backups.putObject(key, meter, { contentType: DUMP_CONTENT_TYPE });
    } catch (error) {
      // The write stopped reading: stop the dump too, or it would wait on a full pipe (its connection open).
      // `tables` may then never settle, so it is not awaited: only a failure already recorded counts.
      stream.destroy();
      throw dumpError ?? backupWriteError(error, key);
    }
    const counted: TableRows[] = await tables;
    return {
      service: entry.service,
      database: entry.database,
      key,
      sha256: hash.digest('hex'),
      bytes,
      tables: counted,
    };
  }

  async function verifyChecksum(dump: DumpEntry): Promise<void> {
    const hash = createHash('sha256');
    let bytes = 0;
    try {
      for await (const chunk of await backups.getObject(dump.key)) {
        hash.update(chunk as Buffer);
        bytes += (chunk as Buffer).length;
      }
    } catch (error) {
      throw backupReadError(error, dump.key);
    }
    const digest = hash.digest('hex');
    if (digest !== dump.sha256 || bytes !== dump.bytes) {
      throw permanent(
        'DATABASE.BACKUP_CHECKSUM_MISMATCH',
        `dump ${dump.key}: sha256/size ${digest.slice(0, 12)}/${bytes} differ from manifest ${dump.sha256.slice(0, 12)}/${dump.bytes}`,
      );
    }
  }

  async function restore(dump: DumpEntry): Promise<TableRows[]> {
    let source: Readable;
    try {
      source = await backups.getObject(dump.key);
    } catch (error) {
      throw backupReadError(error, dump.key);
    }
    const gunzip = createGunzip();
    source.on('error', (error) => gunzip.destroy(error));
    source.pipe(gunzip);
    try {
      // Named after the dump: a verification killed mid-restore is redone in the same scratch database,
      // which is dropped first, so no copy of tenant data outlives it.
      return await admin.restoreAndCount(gunzip, scratchDatabaseName(`${dump.key}\u001f${dump.sha256}`));
    } catch (error) {
      if (isZlibError(error)) {
        throw permanent('DATABASE.BACKUP_CORRUPTED', `dump ${dump.key} cannot be decompressed`);
      }
      throw asStepError(error, 'restore', dump.key);
    }
  }
}

function compareCounts(dump: DumpEntry, restored: TableRows[]): void {
  const expected = new Map(dump.tables.map((t) => [t.name, t.rows]));
  const actual = new Map(restored.map((t) => [t.name, t.rows]));
  const differences = [...new Set([...expected.keys(), ...actual.keys()])]
    .filter((name) => expected.get(name) !== actual.get(name))
    .map((name) => `${name} ${expected.get(name) ?? 'absent'}≠${actual.get(name) ?? 'absent'}`);
  if (differences.length > 0) {
    throw permanent('DATABASE.BACKUP_ROW_COUNT_MISMATCH', `dump ${dump.key}: ${differences.join(', ')}`);
  }
}

/** Reading the archive failed (the object store, not MySQL): retried like a failed write. */
function backupReadError(error: unknown, key: string): StepError {
  return asStepError(error, 'restore', key, (other) =>
    retryable(
      'DATABASE.BACKUP_READ_FAILED',
      `reading ${key} failed: ${other instanceof Error ? other.message : 'error'}`,
    ),
  );
}

function backupWriteError(error: unknown, key: string): StepError {
  if (error instanceof StepError) return error;
  if (error instanceof BackupTargetError) return permanent(error.code, error.message);
  return retryable(
    'DATABASE.BACKUP_WRITE_FAILED',
    `writing ${key} failed: ${error instanceof Error ? error.message : 'error'}`,
  );
}

function isZlibError(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && code.startsWith('Z_');
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
