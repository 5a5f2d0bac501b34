import type { CommandMessage, StepOutputs } from '@app/contracts';
import { HANDLER_DEPS } from '@app/platform';
import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import type { DatabaseHandlerDeps } from './deps';
import { applyConnectionLimits, planFor } from './tenant-databases';

/** UpdateDatabaseLimits: the connection limit of the tier the tenant moves to, on every service account. */
@Controller()
export class UpdateDatabaseLimitsHandler {
  constructor(@Inject(HANDLER_DEPS) private readonly deps: DatabaseHandlerDeps) {}

  @MessagePattern('UpdateDatabaseLimits')
  async handle(@Payload() command: CommandMessage<'UpdateDatabaseLimits'>): Promise<StepOutputs> {
    const plan = planFor(command);
    const { toTier } = command.data.params;
    // ALTER USER of a missing account fails (DATABASE.USER_OPERATION_FAILED): nothing to limit is an error.
    const maxUserConnections = await applyConnectionLimits(this.deps.admin, plan, toTier);
    return { tier: toTier, users: plan.map((entry) => entry.user), maxUserConnections };
  }
}
