import {
  API_INTAKE_QUEUE,
  buildMessage,
  COMMAND_TYPES,
  generateTenantId,
  RESOURCE_SERVICES,
  serviceQueueName,
  tenantStream,
  type CommandMessage,
  type CommandType,
  type TenantProfile,
} from '@app/contracts';
import { MemoryEventStore, type RecordedEvent } from '@app/event-store';
import type { ParkedMessage } from '@app/messaging';
import { permanent, ResourceServiceMetrics, type CommandHandlers } from '@app/platform';
import { MemoryTenantReadModel } from '@app/tenancy';
import pino from 'pino';
import type { MetricObjectWithValues, MetricValue, Registry } from 'prom-client';
import { OrchestratorMetrics } from '../../apps/orchestrator/src';
import { ProvisioningMetrics } from '../../apps/provisioning-api/src';
import { BOUNDED_LABELS, expositionProblems, METRIC_PREFIX, nameProblems } from '../support/metric-rules';

/**
 * The naming rules of every metric the control plane's processes serve (Prometheus's naming guide): the
 * application prefix, base units, `_total` on counters and only on them, and labels whose values do not grow with
 * the number of tenants (per-tenant detail belongs in the events and the read model). Each problem names its metric.
 */

const now = new Date('2025-03-01T10:00:00.000Z');

function profile(tenantId: string): TenantProfile {
  return {
    tenantId,
    companyName: 'Metrics Co',
    adminEmail: 'admin@metrics.example',
    billingEmail: 'billing@metrics.example',
    tier: 'standard',
    region: 'eu-west',
    domain: `${tenantId}.collectverything.com`,
    subscriptionId: `sub_${tenantId}`,
    plan: { price: 10, currency: 'EUR', billingPeriod: 'monthly' },
    createdAt: now.toISOString(),
  };
}

interface Apps {
  registries: Registry[];
  close(): Promise<void>;
}

/** Every app's registry, as the apps build them: the API's, each resource service's, the orchestrator's. */
function buildApps(): Apps & {
  api: ProvisioningMetrics;
  readModel: MemoryTenantReadModel;
  services: ResourceServiceMetrics[];
} {
  const store = new MemoryEventStore();
  const readModel = new MemoryTenantReadModel();
  const api = new ProvisioningMetrics(store, readModel);
  const services = RESOURCE_SERVICES.map(
    (service) => new ResourceServiceMetrics(`${service}-service`, store),
  );
  const orchestrator = new OrchestratorMetrics(store);
  store.subscribe(
    { category: 'tenant' },
    { name: 'provisioning-api.tenant-summaries', fromCheckpoint: 'start', handler: async () => undefined },
  );
  return {
    api,
    readModel,
    services,
    registries: [api.registry, ...services.map((s) => s.registry), orchestrator.registry],
    close: () => store.close(),
  };
}

/** What `tenants` tenants make the apps count: provisionings, failures by step, cancellations, commands, parking. */
async function traffic(apps: ReturnType<typeof buildApps>, tenants: number): Promise<string[]> {
  let position = 0;
  const ids: string[] = [];
  const apply = async (tenantId: string, type: string, data: unknown) => {
    position += 1;
    const event: RecordedEvent = {
      id: `e-${position}`,
      type,
      data,
      metadata: { schemaVersion: 1, occurredAt: now.toISOString() },
      streamName: tenantStream(tenantId),
      revision: position,
      position: String(position).padStart(12, '0'),
      recordedAt: now,
    };
    const change = await apps.readModel.apply(event);
    if (change) apps.api.observe(event, change);
  };
  const reason = { code: 'X.FAILED', message: 'failed', retryable: false };
  for (let i = 0; i < tenants; i++) {
    const tenantId = generateTenantId(`Metrics Co ${i}`, i.toString(16).padStart(6, '0'));
    ids.push(tenantId);
    await apply(tenantId, 'TenantRequested', { tenant: profile(tenantId), source: 'bus' });
    await apply(tenantId, 'StepTimedOut', {
      step: `tier-${i + 1}:update-quota`,
      commandId: 'c',
      deadline: '',
    });
    await apply(tenantId, 'DatabasesBackupFailed', {
      commandId: `c-${i}`,
      step: `cancel-${i + 1}:backup-${i + 2}:databases`,
      error: reason,
      attempts: 1,
    });
    if (i % 3 === 0) await apply(tenantId, 'TenantActivated', { activatedAt: now.toISOString() });
    else if (i % 3 === 1)
      await apply(tenantId, 'TenantProvisioningFailed', { failedStep: 'databases', reason });
    else {
      await apply(tenantId, 'ProvisioningCancelled', {
        subscriptionId: `sub_${tenantId}`,
        reason: 'changed mind',
        compensatedSteps: [],
        cancelledAt: now.toISOString(),
      });
    }
    for (const [index, metrics] of apps.services.entries()) {
      const service = RESOURCE_SERVICES[index];
      const queue = serviceQueueName(service);
      metrics.consumerObserver.subscribed?.(queue);
      metrics.consumerObserver.parked?.({ queue, reason: 'retries-exhausted' } as ParkedMessage);
      const type: CommandType = COMMAND_TYPES[i % COMMAND_TYPES.length];
      const handlers = metrics.instrument({
        [type]: async () => {
          if (i % 2 === 0) throw permanent('X.FAILED', `failed for ${tenantId}`);
          return { tenantId };
        },
      } as CommandHandlers);
      const command = buildMessage(
        type,
        { step: `tier-${i}:update-quota`, tenant: profile(tenantId), params: {} },
        { tenantId, correlationId: tenantId, actor: 'orchestrator' },
        `cmd-${tenantId}`,
        now,
      ) as CommandMessage;
      const context = {
        commandId: `cmd-${tenantId}`,
        correlationId: tenantId,
        attempt: 1,
        logger: pino({ level: 'silent' }),
      };
      await handlers[type]!(command as never, context).catch(() => undefined);
    }
  }
  return ids;
}

async function metricsOf(registries: Registry[]): Promise<MetricObjectWithValues<MetricValue<string>>[]> {
  return (await Promise.all(registries.map((registry) => registry.getMetricsAsJSON()))).flat();
}

/** Every series (name and labels), the `command` label aside (it cycles through the catalog with the tenants). */
async function seriesOf(registries: Registry[]): Promise<Set<string>> {
  const series = new Set<string>();
  for (const metric of await metricsOf(registries)) {
    for (const sample of metric.values) {
      const { command: _command, ...labels } = sample.labels as Record<string, unknown>;
      const name = (sample as { metricName?: string }).metricName ?? metric.name;
      series.add(`${name}${JSON.stringify(Object.entries(labels).sort())}`);
    }
  }
  return series;
}

describe('metric names and labels of every app', () => {
  let apps: ReturnType<typeof buildApps>;
  let tenantIds: string[];

  beforeAll(async () => {
    apps = buildApps();
    tenantIds = await traffic(apps, 6);
  });
  afterAll(() => apps.close());

  it('registers the metrics the dashboards and alerts are built on', async () => {
    const names = new Set((await metricsOf(apps.registries)).map((metric) => metric.name));
    expect(names.size).toBeGreaterThan(20);
    for (const name of ['outcomes_total', 'command_duration_seconds', 'process_cpu_seconds_total']) {
      expect(names).toContain(`${METRIC_PREFIX}${name}`);
    }
  });

  it('names every metric with the prefix, in base units, with _total on counters only', async () => {
    const problems = (await metricsOf(apps.registries)).flatMap((metric) =>
      nameProblems(metric.name, String(metric.type)),
    );
    expect([...new Set(problems)]).toEqual([]);
  });

  it('finds each naming problem it looks for, naming the metric', () => {
    expect(nameProblems('messaging_parked_messages_total', 'counter')).toEqual([
      'messaging_parked_messages_total: no provisioning_ prefix',
    ]);
    expect(nameProblems('provisioning_handler_duration_ms', 'histogram')).toEqual([
      'provisioning_handler_duration_ms: ms is not a base unit (seconds, bytes)',
      'provisioning_handler_duration_ms: a time must be in _seconds',
    ]);
    expect(nameProblems('provisioning_heap_size_megabytes', 'gauge')).toEqual([
      'provisioning_heap_size_megabytes: megabytes is not a base unit (seconds, bytes)',
      'provisioning_heap_size_megabytes: a size must be in _bytes',
    ]);
    expect(nameProblems('provisioning_commands', 'counter')).toEqual([
      'provisioning_commands: a counter must end in _total',
    ]);
    expect(nameProblems('provisioning_active_handles_total', 'gauge')).toEqual([
      'provisioning_active_handles_total: only counters end in _total',
    ]);
  });

  it('reads a scraped exposition with the same rules, naming the app, the metric and the tenant', async () => {
    const text = (await Promise.all(apps.registries.map((registry) => registry.metrics()))).join('\n');
    expect(expositionProblems('all', text, tenantIds)).toEqual([]);
    const bad = [
      '# HELP provisioning_steps Steps run.',
      '# TYPE provisioning_steps counter',
      `provisioning_steps{tenant="${tenantIds[0]}"} 1`,
      '# HELP provisioning_step_duration_seconds How long.',
      '# TYPE provisioning_step_duration_seconds histogram',
      `provisioning_step_duration_seconds_bucket{step="x-${tenantIds[1]}",le="1"} 1`,
      `provisioning_step_duration_seconds_bucket{step="x-${tenantIds[1]}",le="+Inf"} 1`,
      `provisioning_step_duration_seconds_sum{step="x-${tenantIds[1]}"} 0.5`,
      `provisioning_step_duration_seconds_count{step="x-${tenantIds[1]}"} 1`,
      '',
    ].join('\n');
    expect(expositionProblems('orchestrator', bad, tenantIds)).toEqual([
      'orchestrator: provisioning_steps: a counter must end in _total',
      'orchestrator: provisioning_steps: label tenant has no bounded set',
      `orchestrator: provisioning_steps{tenant="${tenantIds[0]}"} names tenant ${tenantIds[0]}`,
      `orchestrator: provisioning_step_duration_seconds{step="x-${tenantIds[1]}"} names tenant ${tenantIds[1]}`,
    ]);
  });

  it('uses only labels whose values come from fixed sets', async () => {
    const problems = new Set<string>();
    const metrics = await metricsOf(apps.registries);
    for (const metric of metrics) {
      for (const sample of metric.values) {
        for (const label of Object.keys(sample.labels)) {
          if (!(label in BOUNDED_LABELS))
            problems.add(`${metric.name}: label ${label} has no known bounded set`);
        }
      }
    }
    expect([...problems]).toEqual([]);
    /** `metric{label="value"}` for each value of `label` that `allowed` refuses. */
    const outside = (label: string, allowed: (value: string) => boolean) => [
      ...new Set(
        metrics.flatMap((metric) =>
          metric.values
            .map((sample) => sample.labels[label])
            .filter((value) => value !== undefined && !allowed(String(value)))
            .map((value) => `${metric.name}{${label}="${String(value)}"}`),
        ),
      ),
    ];
    expect(outside('command', (v) => (COMMAND_TYPES as readonly string[]).includes(v))).toEqual([]);
    expect(outside('step', (v) => !/\d/.test(v))).toEqual([]);
    const queues = [...RESOURCE_SERVICES.map(serviceQueueName), API_INTAKE_QUEUE];
    expect(outside('queue', (v) => queues.includes(v))).toEqual([]);
    const exposition = (await Promise.all(apps.registries.map((registry) => registry.metrics()))).join('\n');
    expect(tenantIds.filter((tenantId) => exposition.includes(tenantId))).toEqual([]);
  });

  it('serves as many series for 30 tenants as for 6', async () => {
    const more = buildApps();
    try {
      await traffic(more, 30);
      const few = await seriesOf(apps.registries);
      const many = await seriesOf(more.registries);
      const grown = [...many].filter((series) => !few.has(series));
      expect(grown).toEqual([]);
    } finally {
      await more.close();
    }
  });
});
