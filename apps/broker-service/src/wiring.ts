import type { Logger } from 'pino';
import { probeAmqpAccess } from '@app/messaging';
import { RabbitManagementClient } from '@app/rabbitmq-admin';
import type { ServiceRuntime } from '@app/platform';
import { createSecretStore, secretStoreKeys } from '@app/secrets';
import type { BrokerConfig } from './config';
import type { BrokerHandlerDeps } from './commands';

export async function createServiceRuntime(
  config: BrokerConfig,
  logger: Logger,
): Promise<ServiceRuntime<BrokerHandlerDeps>> {
  const management = new RabbitManagementClient({
    baseUrl: config.RABBITMQ_MANAGEMENT_URL,
    username: config.RABBITMQ_ADMIN_USER,
    password: config.RABBITMQ_ADMIN_PASSWORD,
    timeoutMs: config.RABBITMQ_MANAGEMENT_TIMEOUT_MS,
    attempts: config.RABBITMQ_MANAGEMENT_ATTEMPTS,
    backoffMs: config.RABBITMQ_MANAGEMENT_BACKOFF_MS,
  });
  const secrets = createSecretStore(config.SECRET_STORE_URL, secretStoreKeys(config));
  const deps: BrokerHandlerDeps = {
    management,
    adminUser: config.RABBITMQ_ADMIN_USER,
    secrets,
    probe: probeAmqpAccess,
    amqpUrl: config.RABBITMQ_AMQP_URL,
    secretHost: config.BROKER_SECRET_HOST,
    secretPort: config.BROKER_SECRET_PORT,
    foreignVhost: config.BROKER_FOREIGN_VHOST,
  };
  return {
    deps,
    async ready() {
      try {
        await management.overview();
        await secrets.ping();
        return true;
      } catch (error) {
        logger.warn(
          { err: error instanceof Error ? error.message : String(error) },
          'broker-service not ready',
        );
        return false;
      }
    },
    async close() {
      await secrets.close?.();
    },
  };
}
