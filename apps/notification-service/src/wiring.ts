import type { ServiceRuntime } from '@app/platform';
import { createSecretStore, secretStoreKeys, type SecretStore } from '@app/secrets';
import type { Logger } from 'pino';
import { SmtpMailer } from './adapters/mailer';
import { SecretStoreSentLog } from './adapters/sent-log';
import { WebsitesClient } from './adapters/websites-client';
import type { NotificationHandlerDeps } from './commands';
import type { NotificationConfig } from './config';

/** Builds the notification-service from its configuration; `secretStore` overrides SECRET_STORE_URL (tests). */
export async function createServiceRuntime(
  config: NotificationConfig,
  logger: Logger,
  secretStore?: SecretStore,
): Promise<ServiceRuntime<NotificationHandlerDeps>> {
  const secrets = secretStore ?? createSecretStore(config.SECRET_STORE_URL, secretStoreKeys(config));
  const mailer = new SmtpMailer(config.SMTP_URL, config.MAIL_FROM, config.SMTP_TIMEOUT_MS);
  const websites = new WebsitesClient({
    baseUrl: config.WEBSITES_API_URL,
    token: config.WEBSITES_API_TOKEN,
    timeoutMs: config.WEBSITES_TIMEOUT_MS,
    maxAttempts: config.WEBSITES_MAX_ATTEMPTS,
    backoffMs: config.WEBSITES_BACKOFF_MS,
  });
  const deps: NotificationHandlerDeps = {
    mailer,
    sentLog: new SecretStoreSentLog(secrets),
    secrets,
    websites,
    messageIdDomain: config.MAIL_MESSAGE_ID_DOMAIN,
  };
  return {
    deps,
    async ready() {
      const smtp = await mailer.verify();
      if (!smtp) logger.warn('SMTP server not ready');
      try {
        await secrets.ping();
      } catch (error) {
        logger.warn(
          { err: error instanceof Error ? error.message : String(error) },
          'secret store not ready',
        );
        return false;
      }
      return smtp;
    },
    async close() {
      await mailer.close();
      if (!secretStore) await secrets.close?.();
    },
  };
}
