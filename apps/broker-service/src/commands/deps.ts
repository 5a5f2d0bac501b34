import type { AmqpProbeInput, AmqpProbeResult } from '@app/messaging';
import type { RabbitManagementClient } from '@app/rabbitmq-admin';
import type { SecretStore } from '@app/secrets';

/** The AMQP access check (from `@app/messaging`: services never use amqplib directly). */
export type AmqpProbe = (input: AmqpProbeInput) => Promise<AmqpProbeResult>;

/** The management API calls this service makes (`@app/rabbitmq-admin`'s client, retrying idempotent calls). */
export type BrokerManagement = Pick<
  RabbitManagementClient,
  | 'createVhost'
  | 'getVhost'
  | 'startVhost'
  | 'deleteVhost'
  | 'putUser'
  | 'getUser'
  | 'deleteUser'
  | 'setPermissions'
  | 'listUserPermissions'
  | 'declareExchange'
  | 'getExchange'
  | 'listExchanges'
  | 'declareQueue'
  | 'findQueue'
  | 'listQueues'
  | 'createBinding'
  | 'listBindings'
  | 'setVhostLimit'
  | 'getVhostLimits'
>;

/** What the broker-service's command handlers are constructed with (the `HANDLER_DEPS` provider). */
export interface BrokerHandlerDeps {
  management: BrokerManagement;
  /** The management API user `management` authenticates as: granted its rights in each tenant vhost. */
  adminUser: string;
  secrets: SecretStore;
  probe: AmqpProbe;
  /** Where this service reaches AMQP to verify (amqp://host:port). */
  amqpUrl: string;
  /** Host/port written into the tenant's secret (spec 5.3). */
  secretHost: string;
  secretPort: number;
  foreignVhost: string;
  generatePassword?: () => string;
}
