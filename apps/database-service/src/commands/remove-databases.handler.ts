import { adminInitialSecretPath, type CommandMessage, type StepOutputs } from '@app/contracts';
import { HANDLER_DEPS } from '@app/platform';
import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { dropDatabaseSql, dropUserSql } from '@app/plans';
import type { DatabaseHandlerDeps } from './deps';
import { planFor, secretCall } from './tenant-databases';

/** RemoveDatabases: every account, database and credentials secret, and the admin's initial secret; absent is success. */
@Controller()
export class RemoveDatabasesHandler {
  constructor(@Inject(HANDLER_DEPS) private readonly deps: DatabaseHandlerDeps) {}

  @MessagePattern('RemoveDatabases')
  async handle(@Payload() command: CommandMessage<'RemoveDatabases'>): Promise<StepOutputs> {
    const { admin, secrets } = this.deps;
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
  }
}
