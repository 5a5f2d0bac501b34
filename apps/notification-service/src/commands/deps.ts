import type { SecretStore } from '@app/secrets';
import type { MailerPort } from '../adapters/mailer';
import type { SentLog } from '../adapters/sent-log';
import type { WebsitesClient } from '../adapters/websites-client';

/** What the notification-service's command handlers are constructed with (the `HANDLER_DEPS` provider). */
export interface NotificationHandlerDeps {
  mailer: MailerPort;
  sentLog: SentLog;
  secrets: SecretStore;
  websites: WebsitesClient;
  messageIdDomain: string;
  now?: () => Date;
}
