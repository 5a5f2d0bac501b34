import { adminInitialSecretPath, type CommandMessage, type StepOutputs } from '@app/contracts';
import { HANDLER_DEPS, permanent } from '@app/platform';
import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { renderWelcomeEmail } from '@app/plans';
import type { NotificationHandlerDeps } from './deps';
import { secretCall } from './notification-step';
import { sendOnce } from './notices';

/**
 * SendWelcomeEmail (spec 11.2): the admin's login and temporary password, once. The password is only read:
 * the database-service wrote it before the workloads, and the auth service seeded that very password; one
 * made here would be a password nobody can log in with.
 */
@Controller()
export class SendWelcomeEmailHandler {
  constructor(@Inject(HANDLER_DEPS) private readonly deps: NotificationHandlerDeps) {}

  @MessagePattern('SendWelcomeEmail')
  async handle(@Payload() command: CommandMessage<'SendWelcomeEmail'>): Promise<StepOutputs> {
    const { tenant } = command.data;
    const path = adminInitialSecretPath(tenant.tenantId);
    const outputs = await sendOnce(
      this.deps,
      tenant,
      'welcome',
      async () => {
        const stored = await secretCall('read', path, () => this.deps.secrets.get(path));
        if (!stored) throw permanent('NOTIFICATION.ADMIN_SECRET_MISSING', `no admin credentials at ${path}`);
        const password = stored.TEMPORARY_PASSWORD;
        if (!password) throw permanent('NOTIFICATION.SECRET_CORRUPT', `no TEMPORARY_PASSWORD at ${path}`);
        return renderWelcomeEmail(tenant, password);
      },
      'NOTIFICATION.WELCOME_SEND_FAILED',
    );
    return { ...outputs, adminCredentialsPath: path };
  }
}
