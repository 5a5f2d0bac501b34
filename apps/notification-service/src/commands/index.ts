import { commandHandlersOf, type CommandHandlers } from '@app/platform';
import { ActivateWebsiteRecordHandler } from './activate-website-record.handler';
import { CreateWebsiteRecordHandler } from './create-website-record.handler';
import { DeleteWebsiteRecordHandler } from './delete-website-record.handler';
import type { NotificationHandlerDeps } from './deps';
import { RestoreWebsiteRecordHandler } from './restore-website-record.handler';
import { SendCancellationNoticeHandler } from './send-cancellation-notice.handler';
import { SendDeletionConfirmationHandler } from './send-deletion-confirmation.handler';
import { SendReactivationNoticeHandler } from './send-reactivation-notice.handler';
import { SendWelcomeEmailHandler } from './send-welcome-email.handler';
import { SoftDeleteWebsiteRecordHandler } from './soft-delete-website-record.handler';

export type { NotificationHandlerDeps } from './deps';

/** The notification-service's command handlers: one `@MessagePattern` class per command it owns. */
export const NOTIFICATION_COMMAND_HANDLERS = [
  SendWelcomeEmailHandler,
  SendCancellationNoticeHandler,
  SendReactivationNoticeHandler,
  SendDeletionConfirmationHandler,
  CreateWebsiteRecordHandler,
  DeleteWebsiteRecordHandler,
  ActivateWebsiteRecordHandler,
  SoftDeleteWebsiteRecordHandler,
  RestoreWebsiteRecordHandler,
] as const;

/** The same handlers as plain command functions over `deps`, for tests that drive them without the broker. */
export function createNotificationHandlers(deps: NotificationHandlerDeps): CommandHandlers {
  return commandHandlersOf(
    'notification',
    NOTIFICATION_COMMAND_HANDLERS.map((Handler) => new Handler(deps)),
  );
}
