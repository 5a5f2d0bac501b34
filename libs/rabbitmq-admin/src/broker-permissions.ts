import { API_INTAKE_QUEUE, RESOURCE_SERVICES, serviceQueueName, type ResourceService } from '@app/contracts';
import { assertName, DEFAULT_EXCHANGES, MessagingError, type ExchangeNames } from '@app/messaging';

/**
 * The RabbitMQ permissions of each control-plane app on its vhost, derived from the topology the apps declare
 * (topology.ts, the contracts' exchange and queue names), so that a service's account cannot put a command on
 * `provisioning.commands` and the API's cannot either: only the orchestrator decides.
 *
 * What RabbitMQ checks (www.rabbitmq.com/docs/access-control): declaring an exchange or a queue needs
 * `configure` on its name, even when it already exists (every app asserts the three exchanges and its own
 * queues on each connect); binding a queue needs `write` on the queue and `read` on the exchange; consuming
 * needs `read` on the queue; publishing needs `write` on the exchange, the default exchange counting as
 * `amq.default`; a queue declared with a dead-letter exchange needs `read` on itself and `write` on that exchange. Dead-lettering (retry TTL -> work queue, delivery limit -> parked) is done by the broker and
 * checks nothing.
 *
 * Known limit: a consumer re-publishes retries and parked messages through the default exchange, and `write`
 * on `amq.default` lets an account route a message to any queue of the vhost by name. The resource services
 * therefore refuse any command whose step the orchestrator did not record, whatever queue it came through.
 */

export const CONTROL_PLANE_APPS = [
  'provisioning-api',
  'orchestrator',
  ...RESOURCE_SERVICES.map((service) => `${service}-service` as const),
] as const;
export type ControlPlaneApp = (typeof CONTROL_PLANE_APPS)[number];

/** One regular expression per operation, as RabbitMQ stores them (`^$` grants nothing). */
export interface BrokerPermissions {
  configure: string;
  write: string;
  read: string;
}

/** Routing keys an account may use on one topic exchange (RabbitMQ topic authorisation). */
export interface BrokerTopicPermissions {
  exchange: string;
  write: string;
  read: string;
}

export interface AppBrokerPermissions extends BrokerPermissions {
  app: ControlPlaneApp;
  topic: BrokerTopicPermissions[];
}

export interface BrokerPermissionOptions {
  exchanges?: Partial<ExchangeNames>;
  /** The apps' QUEUE_PREFIX, when one is set. */
  queuePrefix?: string;
}

export const GRANTS_NOTHING = '^$';

export function isControlPlaneApp(value: string): value is ControlPlaneApp {
  return (CONTROL_PLANE_APPS as readonly string[]).includes(value);
}

function escapeRegex(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function anyOf(names: readonly string[]): string {
  return `^(${names.map(escapeRegex).join('|')})$`;
}

function serviceOf(app: ControlPlaneApp): ResourceService | undefined {
  return RESOURCE_SERVICES.find((service) => `${service}-service` === app);
}

/**
 * The permissions of `app`. Queue regexes cover the work queue and its `.retry.<n>` and `.parked` companions
 * for any retry policy; exchanges are the three every app declares.
 */
export function brokerPermissionsFor(
  app: ControlPlaneApp,
  options: BrokerPermissionOptions = {},
): AppBrokerPermissions {
  if (!isControlPlaneApp(app)) {
    throw new MessagingError('MESSAGING.INVALID_OPTIONS', `unknown control-plane app "${String(app)}"`, {
      option: 'app',
    });
  }
  const exchanges = { ...DEFAULT_EXCHANGES, ...options.exchanges };
  for (const [key, name] of Object.entries(exchanges)) assertName(`exchange ${key}`, name);
  const prefix = options.queuePrefix ?? '';
  if (prefix !== '') assertName('queue prefix', prefix);
  const declared = Object.values(exchanges).map(escapeRegex);

  if (app === 'orchestrator') {
    return {
      app,
      configure: `^(${declared.join('|')})$`,
      write: anyOf([exchanges.provisioningCommands, exchanges.tenantEvents]),
      read: GRANTS_NOTHING,
      topic: [],
    };
  }

  const service = serviceOf(app);
  const queue = `${prefix}${service ? serviceQueueName(service) : API_INTAKE_QUEUE}`;
  const source = service ? exchanges.provisioningCommands : exchanges.billingEvents;
  return {
    app,
    configure: `^(${[...declared, `${escapeRegex(queue)}(\\.retry\\.[0-9]+|\\.parked)?`].join('|')})$`,
    // amq.default: retries and parking are re-published to the queue's own companions through it.
    write: anyOf(['amq.default', queue]),
    // Declaring a queue with a dead-letter exchange needs `read` on the queue itself (and `write` on that
    // exchange): the work queue and its retry queues dead-letter through the default exchange.
    read: `^(${escapeRegex(source)}|${escapeRegex(queue)}(\\.retry\\.[0-9]+)?)$`,
    // A service binds its queue to its own routing keys only (`database.#`-like patterns included), so it
    // cannot subscribe to another service's commands; it may publish nothing on the commands exchange.
    topic: service
      ? [
          {
            exchange: exchanges.provisioningCommands,
            write: GRANTS_NOTHING,
            read: `^${escapeRegex(service)}\\.[A-Za-z0-9_*#.-]+$`,
          },
        ]
      : [],
  };
}

export function brokerPermissionSet(options: BrokerPermissionOptions = {}): AppBrokerPermissions[] {
  return CONTROL_PLANE_APPS.map((app) => brokerPermissionsFor(app, options));
}
