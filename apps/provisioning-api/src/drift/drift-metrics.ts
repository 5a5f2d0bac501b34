import type { LifecycleEventData } from '@app/contracts';
import type { RecordedEvent } from '@app/event-store';
import { DRIFT_KIND_NAMES, isDriftKind } from '@app/lifecycle';
import { METRIC_PREFIX } from '@app/platform';
import type { TenantReadModel } from '@app/tenancy';
import { Counter, Gauge, type Registry } from 'prom-client';

/** A kind from an event, within the fixed set (an older or newer producer's kind counts as `other`). */
function kindOf(kind: unknown): string {
  return isDriftKind(kind) ? kind : 'other';
}

/**
 * Drift metrics of the API: open drifts from the read model at scrape time, detected and repaired drifts
 * counted as the projector applies their events. Labelled by kind only (a fixed set), never by tenant.
 */
export class DriftMetrics {
  private readonly detected: Counter<'kind'>;
  private readonly repaired: Counter<'kind'>;

  constructor(registry: Registry, readModel: TenantReadModel) {
    new Gauge({
      name: `${METRIC_PREFIX}drift_open`,
      help: 'Drifts detected and not yet repaired, by kind, over every tenant not purged (from the read model)',
      labelNames: ['kind'],
      registers: [registry],
      async collect() {
        const counts = await readModel.countOpenDrifts();
        for (const kind of DRIFT_KIND_NAMES) this.set({ kind }, counts[kind] ?? 0);
      },
    });
    this.detected = new Counter({
      name: `${METRIC_PREFIX}drift_detected_total`,
      help: 'Drifts detected by drift checks, by kind',
      labelNames: ['kind'],
      registers: [registry],
    });
    this.repaired = new Counter({
      name: `${METRIC_PREFIX}drift_repaired_total`,
      help: 'Drifts closed by a passing verification (after a repair, or found put back), by kind',
      labelNames: ['kind'],
      registers: [registry],
    });
  }

  /** Called once per event the read model applied. */
  observe(event: RecordedEvent): void {
    if (event.type === 'DriftDetected') {
      this.detected.inc({ kind: kindOf((event.data as LifecycleEventData['DriftDetected']).kind) });
    } else if (event.type === 'DriftRepaired') {
      this.repaired.inc({ kind: kindOf((event.data as LifecycleEventData['DriftRepaired']).kind) });
    }
  }

  reset(): void {
    this.detected.reset();
    this.repaired.reset();
  }
}
