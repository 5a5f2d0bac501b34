import { randomBytes } from 'node:crypto';
import {
  adminInitialSecretPath,
  type CommandMessage,
  type StepOutputs,
  type TenantProfile,
} from '@app/contracts';
import { HANDLER_DEPS, permanent, retryable, type CommandContext } from '@app/platform';
import { Controller, Inject } from '@nestjs/common';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import { generateTemporaryPassword } from '../domain/admin-password';
import {
  type DatabaseCredentials,
  type ServiceDatabase,
  alterDatabaseCharsetSql,
  createDatabaseSql,
  createUserSql,
  grantsMatch,
  grantSql,
  parseGrants,
  revokeAllSql,
  setUserPasswordSql,
} from '@app/plans';
import type { DatabaseHandlerDeps } from './deps';
import {
  applyConnectionLimits,
  CHARSET,
  COLLATION,
  generateDatabasePassword,
  planFor,
  secretCall,
} from './tenant-databases';

/** Create/repair rounds before a database whose collation will not settle fails the step. */
const CONVERGE_ROUNDS = 3;

/**
 * ProvisionDatabases (spec 3.1-3.3): the tenant's eleven databases, one least-privilege account and credentials
 * secret per database, the tier's connection limits and the tenant admin's initial secret; converging on
 * redelivery.
 */
@Controller()
export class ProvisionDatabasesHandler {
  constructor(@Inject(HANDLER_DEPS) private readonly deps: DatabaseHandlerDeps) {}

  @MessagePattern('ProvisionDatabases')
  async handle(
    @Payload() command: CommandMessage<'ProvisionDatabases'>,
    @Ctx() context: CommandContext,
  ): Promise<StepOutputs> {
    const { admin } = this.deps;
    const plan = planFor(command);
    const names = plan.map((entry) => entry.database);
    await this.convergeDatabases(names);
    const users = await admin.users(plan.map((entry) => entry.user));
    await Promise.all(plan.map((entry) => this.provisionAccount(entry, users, context)));
    const maxUserConnections = await applyConnectionLimits(admin, plan, command.data.tenant.tier);
    // Account statements take effect at once; the spec's FLUSH PRIVILEGES is kept (by default) for servers whose
    // grant tables were edited by hand. It reloads every account on the server (MYSQL_FLUSH_PRIVILEGES).
    if (this.deps.flushPrivileges !== false) await admin.run('FLUSH PRIVILEGES', 'grant', 'privileges');
    const adminCredentialsPath = await this.provisionAdminInitialSecret(command.data.tenant);
    return {
      databases: names,
      users: plan.map((entry) => entry.user),
      secretPaths: plan.map((entry) => entry.secretPath),
      adminCredentialsPath,
      charset: CHARSET,
      collation: COLLATION,
      maxUserConnections,
    };
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
  private async convergeDatabases(names: string[]): Promise<void> {
    const { admin } = this.deps;
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

  private async provisionAccount(
    entry: ServiceDatabase,
    existingUsers: Set<string>,
    context: CommandContext,
  ): Promise<void> {
    const { admin, secrets } = this.deps;
    const fresh = (this.deps.generatePassword ?? generateDatabasePassword)();
    const candidate: DatabaseCredentials = {
      host: this.deps.secretHost,
      port: String(this.deps.secretPort),
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
   * The admin's first credentials are the auth database's initial data: written here, before DeployWorkloads,
   * so the migration Job's seeder finds them through its ExternalSecret, and the welcome e-mail (after
   * activation) mails the password that was seeded. putIfAbsent: a redelivery never changes a password the
   * seeder may already have used.
   */
  private async provisionAdminInitialSecret(tenant: TenantProfile): Promise<string> {
    const path = adminInitialSecretPath(tenant.tenantId);
    const newAdminPassword =
      this.deps.generateAdminPassword ?? (() => generateTemporaryPassword(randomBytes));
    const stored = await secretCall('store', path, () =>
      this.deps.secrets.putIfAbsent(path, {
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
}
