import { tenantLimits, type CommandMessage, type StepOutputs } from '@app/contracts';
import { HANDLER_DEPS, permanent } from '@app/platform';
import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { grantsMatch } from '@app/plans';
import type { DatabaseHandlerDeps } from './deps';
import { CHARSET, COLLATION, planFor, secretCall } from './tenant-databases';

/**
 * VerifyDatabases: each database exists with the right character set, each account has its limit, exactly its
 * grants and a stored secret, and connecting with that secret reaches its own database but cannot drop a table
 * or enter another tenant database.
 */
@Controller()
export class VerifyDatabasesHandler {
  constructor(@Inject(HANDLER_DEPS) private readonly deps: DatabaseHandlerDeps) {}

  @MessagePattern('VerifyDatabases')
  async handle(@Payload() command: CommandMessage<'VerifyDatabases'>): Promise<StepOutputs> {
    const { admin, secrets } = this.deps;
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
  }
}
