import type { CommandType } from '@app/contracts';
import type { EventStore } from '@app/event-store';
import type { ConsumerObserver, ParkReason } from '@app/messaging';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { CommandHandler, CommandHandlers } from './handlers';
import { StepError } from './step-error';

/** Every reason a consumer parks for, so each queue's series exist (at 0) before its first parked message. */
const PARK_REASONS = Object.keys({
  malformed: true,
  'unknown-type': true,
  'validation-failed': true,
  'permanent-error': true,
  'retries-exhausted': true,
  'redelivery-limit': true,
} satisfies Record<ParkReason, true>) as ParkReason[];

/**
 * Every metric of the control plane is named `provisioning_<what>_<base unit>` (counters end in `_total`), as the
 * Prometheus naming guide asks of an application: one prefix whichever process serves it, so one query covers
 * every process that registers a metric and the app is told by the scrape's `job` (and the `app` label below).
 * Labels take values from fixed sets (commands, steps, queues, reasons, subscriptions), never per tenant.
 */
export const METRIC_PREFIX = 'provisioning_';

/**
 * prom-client's gauges that end in `_total` although they are not counters; `nodejs_active_{handles,requests,
 * resources}` by type hold the same counts (their sum).
 */
const MISNAMED_DEFAULT_GAUGES = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

/**
 * Node's process metrics (CPU, memory, event loop, GC) under prom-client's standard names behind the prefix
 * (`provisioning_process_cpu_seconds_total`...), with an `app` label, so one dashboard query covers every process
 * of the control plane.
 */
export function registerProcessMetrics(registry: Registry, app: string): void {
  collectDefaultMetrics({ register: registry, labels: { app }, prefix: METRIC_PREFIX });
  for (const name of MISNAMED_DEFAULT_GAUGES) registry.removeSingleMetric(`${METRIC_PREFIX}${name}`);
}

/**
 * How far each event store subscription of this process is behind, and how many events it has delivered, read
 * from the store at scrape time. A subscription that stopped is no longer listed, so its series disappear.
 */
export function registerEventStoreMetrics(registry: Registry, store: EventStore): void {
  new Gauge({
    name: `${METRIC_PREFIX}event_store_subscription_lag_seconds`,
    help: 'How far each event store subscription of this process is behind (0 when caught up)',
    labelNames: ['subscription'],
    registers: [registry],
    collect() {
      this.reset();
      for (const stats of store.getSubscriptionLag())
        this.set({ subscription: stats.name }, stats.lagMs / 1000);
    },
  });
  new Counter({
    name: `${METRIC_PREFIX}event_store_subscription_events_total`,
    help: 'Events each event store subscription of this process has delivered since it started',
    labelNames: ['subscription'],
    registers: [registry],
    collect() {
      this.reset();
      for (const stats of store.getSubscriptionLag()) this.inc({ subscription: stats.name }, stats.delivered);
    },
  });
}

/**
 * `provisioning_parked_messages_total{queue,reason}`, fed by a consumer observer. Queue names are the services'
 * own queues and reasons a fixed set: no label carries a tenant's data.
 */
export function registerParkedMessages(registry: Registry): ConsumerObserver {
  const parked = new Counter({
    name: `${METRIC_PREFIX}parked_messages_total`,
    help: 'Messages moved to a parking queue for an operator, by queue and reason',
    labelNames: ['queue', 'reason'],
    registers: [registry],
  });
  return {
    subscribed: (queue) => {
      for (const reason of PARK_REASONS) parked.inc({ queue, reason }, 0);
    },
    parked: (message) => parked.inc({ queue: message.queue, reason: message.reason }),
  };
}

/** The metrics a resource service serves on its health port beside /health and /ready. */
export class ResourceServiceMetrics {
  readonly registry = new Registry();
  /** Give it to the service's MessageConsumer (`consumer.observe`). */
  readonly consumerObserver: ConsumerObserver;
  private readonly commands: Histogram<'command' | 'outcome'>;

  constructor(app: string, eventStore: EventStore) {
    registerProcessMetrics(this.registry, app);
    registerEventStoreMetrics(this.registry, eventStore);
    this.consumerObserver = registerParkedMessages(this.registry);
    this.commands = new Histogram({
      name: `${METRIC_PREFIX}command_duration_seconds`,
      help: 'Command handler runs by command type and outcome (succeeded, failed for good, or to be retried)',
      labelNames: ['command', 'outcome'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
      registers: [this.registry],
    });
  }

  /** The same handlers, each run timed and counted by outcome; what they return or throw is unchanged. */
  instrument(handlers: CommandHandlers): CommandHandlers {
    const instrumented: Record<string, CommandHandler> = {};
    for (const [type, handler] of Object.entries(handlers) as [CommandType, CommandHandler | undefined][]) {
      if (!handler) continue;
      instrumented[type] = async (command, context) => {
        const end = this.commands.startTimer({ command: type });
        try {
          const outputs = await handler(command, context);
          end({ outcome: 'succeeded' });
          return outputs;
        } catch (error) {
          end({ outcome: error instanceof StepError && !error.retryable ? 'failed' : 'retried' });
          throw error;
        }
      };
    }
    return instrumented as CommandHandlers;
  }
}
