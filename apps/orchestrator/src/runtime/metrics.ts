import {
  purgeGuardrailSnapshotStream,
  purgeGuardrailStream,
  TENANT_STREAM_CATEGORY,
  type GuardrailSnapshotData,
} from '@app/contracts';
import { readStreamOrEmpty, type EventStore } from '@app/event-store';
import {
  METRIC_PREFIX,
  registerEventStoreMetrics,
  registerParkedMessages,
  registerProcessMetrics,
} from '@app/platform';
import { Gauge, Registry } from 'prom-client';

/** The name the Orchestrator gives its subscription to the tenant streams. */
export const ORCHESTRATOR_SUBSCRIPTION = 'orchestrator';

/**
 * Whether the mass-cancellation breaker is open, folded read-only from the guardrail stream: the latest
 * snapshot once, then only the events appended since the last read. It never writes (the orchestrator's own
 * PurgeGuardrails takes the snapshots) and keeps two numbers, however long the stream grows.
 */
export class BreakerWatch {
  private revision = 0;
  private open = false;
  private loaded = false;

  constructor(private readonly store: EventStore) {}

  async isOpen(): Promise<boolean> {
    if (!this.loaded) {
      const [latest] = await readStreamOrEmpty(this.store, purgeGuardrailSnapshotStream(), {
        direction: 'backwards',
        from: 'end',
        limit: 1,
      });
      if (latest) {
        const snapshot = latest.data as GuardrailSnapshotData;
        this.revision = snapshot.revision;
        this.open = snapshot.breaker.open;
      }
      this.loaded = true;
    }
    for (const event of await readStreamOrEmpty(this.store, purgeGuardrailStream(), {
      from: this.revision,
    })) {
      if (event.revision < this.revision) continue;
      if (event.type === 'BreakerTripped') this.open = true;
      else if (event.type === 'BreakerReset') this.open = false;
      this.revision = event.revision + 1;
    }
    return this.open;
  }
}

/**
 * The orchestrator's /metrics: process and subscription metrics, the purge breaker, and whether this instance
 * still follows the tenant streams. Every instance follows every stream, so each one reports for itself.
 * Reads that fail make the scrape fail (Prometheus then records `up` 0) rather than report a guess.
 */
export class OrchestratorMetrics {
  readonly registry = new Registry();

  constructor(store: EventStore, now: () => number = Date.now) {
    registerProcessMetrics(this.registry, 'orchestrator');
    registerEventStoreMetrics(this.registry, store);
    // Registered for a uniform exposition; the orchestrator consumes no queue, so it reports no series.
    registerParkedMessages(this.registry);
    const breaker = new BreakerWatch(store);
    new Gauge({
      name: `${METRIC_PREFIX}purge_breaker_open`,
      help: '1 while the mass-cancellation breaker holds every purge for an operator, else 0',
      registers: [this.registry],
      async collect() {
        this.set((await breaker.isOpen()) ? 1 : 0);
      },
    });
    const following = () =>
      store.getSubscriptionLag().find((stats) => stats.name === ORCHESTRATOR_SUBSCRIPTION && !stats.stopped);
    new Gauge({
      name: `${METRIC_PREFIX}orchestrator_following_streams`,
      help: '1 while this instance runs its subscription to the tenant streams, else 0',
      registers: [this.registry],
      collect() {
        this.set(following() ? 1 : 0);
      },
    });
    new Gauge({
      name: `${METRIC_PREFIX}orchestrator_unprocessed_event_age_seconds`,
      help:
        'Age of the oldest tenant event this instance has not processed yet (0 when it has processed every one): ' +
        'it grows while the instance is stuck or stopped following',
      registers: [this.registry],
      async collect() {
        // The subscription's checkpoint is the position of the last event it handled. Without a running
        // subscription this instance processes nothing, so the first tenant event of all counts.
        const [next] = await store.readAll({
          after: following()?.checkpoint,
          limit: 1,
          filter: { category: TENANT_STREAM_CATEGORY },
        });
        this.set(next ? Math.max(0, (now() - next.recordedAt.getTime()) / 1000) : 0);
      },
    });
  }
}
