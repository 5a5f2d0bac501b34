// First: @app/platform starts tracing (OTEL_*) before the modules it instruments (http, pg) are loaded.
import {
  baseConfigSchema,
  brokerConnectTimeoutMs,
  createLogger,
  drainTimeoutMs,
  exitOnSignals,
  flushTracing,
  loadConfig,
} from '@app/platform';
import { hostname } from 'node:os';
import { MessageConsumer, MessagingConnection } from '@app/messaging';
import { CommandBus } from '@nestjs/cqrs';
import { createApp } from './app.factory';
import { loadProvisioningApiConfig } from './config';
import { messagingBrokerHealth } from './health/broker-health';
import { startBillingBusIntake } from './intake/billing-bus.consumer';
import { ProvisioningMetrics } from './metrics/provisioning-metrics';

async function bootstrap(): Promise<void> {
  const config = loadProvisioningApiConfig();
  const { AMQP_URL, QUEUE_PREFIX } = loadConfig(baseConfigSchema);
  const logger = createLogger('provisioning-api', config.LOG_LEVEL);
  const connection = new MessagingConnection({
    url: AMQP_URL,
    connectionName: `provisioning-api.${hostname()}.${process.pid}`,
    queuePrefix: QUEUE_PREFIX,
    logger,
  });
  await connection.connect(brokerConnectTimeoutMs(config.STARTUP_TIMEOUT_SECONDS));
  const consumer = new MessageConsumer(connection);
  const app = await createApp(config, {
    logger,
    brokerHealth: messagingBrokerHealth(connection, consumer),
  });
  // Parked billing messages count in /metrics (the ParkedMessages alert).
  consumer.observe(app.get(ProvisioningMetrics).consumerObserver);
  await startBillingBusIntake(app.get(CommandBus), consumer, logger);
  await app.listen(config.PORT, config.HOST);
  logger.info({ port: config.PORT, host: config.HOST }, 'provisioning-api listening');
  exitOnSignals(
    async () => {
      await consumer.stop(drainTimeoutMs(config.SHUTDOWN_TIMEOUT_SECONDS));
      await app.close();
      await connection.close();
      await flushTracing();
    },
    { deadlineMs: config.SHUTDOWN_TIMEOUT_SECONDS * 1000, logger },
  );
}

bootstrap().catch((error: unknown) => {
  // The logger may not exist yet (bad configuration): a minimal structured line on stderr, no values echoed.
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`${JSON.stringify({ level: 'fatal', service: 'provisioning-api', msg: message })}\n`);
  process.exit(1);
});
