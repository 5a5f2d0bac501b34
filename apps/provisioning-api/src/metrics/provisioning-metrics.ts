import { commandForResult, type LifecycleEventData } from '@app/contracts';
import type { EventStore, RecordedEvent } from '@app/event-store';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { AppliedChange, TenantReadModel } from '../tenants/tenant-read-model';

/**
 * Prometheus metrics of the provisioning flow, fed by the projector (each event counted once, when the read
 * model applies it) and by scrape-time reads. Labels are bounded: outcomes, states, step names, subscriptions.
 * No label or value ever holds a tenant's data beyond step names.
 */
export class ProvisioningMetrics {
  readonly registry = new Registry();
  private readonly duration: Histogram<string>;
  private readonly outcomes: Counter<'outcome'>;
  private readonly stepFailures: Counter<'step'>;

  constructor(store: EventStore, readModel: TenantReadModel) {
    collectDefaultMetrics({ register: this.registry, prefix: 'provisioning_api_' });
    this.duration = new Histogram({
      name: 'provisioning_duration_seconds',
      help: 'Time from TenantRequested to TenantActivated',
      buckets: [30, 60, 120, 300, 600, 900, 1800, 3600, 7200],
      registers: [this.registry],
    });
    this.outcomes = new Counter({
      name: 'provisioning_outcomes_total',
      help: 'Provisioning outcomes (activated or failed)',
      labelNames: ['outcome'],
      registers: [this.registry],
    });
    this.stepFailures = new Counter({
      name: 'provisioning_step_failures_total',
      help: 'Failed or timed-out provisioning steps, by step',
      labelNames: ['step'],
      registers: [this.registry],
    });
    new Gauge({
      name: 'provisioning_tenants',
      help: 'Tenants by state, from the read model',
      labelNames: ['state'],
      registers: [this.registry],
      async collect() {
        const counts = await readModel.countByStatus();
        for (const [state, n] of Object.entries(counts)) this.set({ state }, n);
      },
    });
    new Gauge({
      name: 'event_store_subscription_lag_seconds',
      help: 'How far each event store subscription of this process is behind (0 when caught up)',
      labelNames: ['subscription'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const stats of store.getSubscriptionLag())
          this.set({ subscription: stats.name }, stats.lagMs / 1000);
      },
    });
  }

  /** Called once per event the read model applied (never for a skipped replay). */
  observe(event: RecordedEvent, change: AppliedChange): void {
    if (event.type === 'TenantActivated' && change.after) {
      this.outcomes.inc({ outcome: 'activated' });
      const { activatedAt } = event.data as LifecycleEventData['TenantActivated'];
      const seconds = (Date.parse(activatedAt) - Date.parse(change.after.createdAt)) / 1000;
      if (Number.isFinite(seconds) && seconds >= 0) this.duration.observe(seconds);
      return;
    }
    if (event.type === 'TenantProvisioningFailed') {
      this.outcomes.inc({ outcome: 'failed' });
      return;
    }
    if (event.type === 'StepTimedOut') {
      this.stepFailures.inc({ step: (event.data as LifecycleEventData['StepTimedOut']).step });
      return;
    }
    if (commandForResult(event.type)?.outcome === 'failed') {
      const step = (event.data as { step?: unknown }).step;
      if (typeof step === 'string') this.stepFailures.inc({ step });
    }
  }

  /** Before a rebuild replays history into a fresh read model: counters restart, as after a process restart. */
  resetFlowMetrics(): void {
    this.duration.reset();
    this.outcomes.reset();
    this.stepFailures.reset();
  }
}
