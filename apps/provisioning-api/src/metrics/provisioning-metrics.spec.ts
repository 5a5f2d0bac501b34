import { tenantStream, type LifecycleEventData, type TenantProfile } from '@app/contracts';
import { MemoryEventStore, type RecordedEvent } from '@app/event-store';
import { MemoryTenantReadModel } from '@app/tenancy';
import { ProvisioningMetrics, stepLabel } from './provisioning-metrics';

const TENANT: TenantProfile = {
  tenantId: 'abc-corporation-7f3a9c',
  companyName: 'ABC Corporation',
  adminEmail: 'admin@abc-corp.com',
  billingEmail: 'billing@abc-corp.com',
  tier: 'premium',
  region: 'us-east',
  domain: 'abc-corporation.collectverything.com',
  subscriptionId: 'sub_abc123',
  plan: { price: 124.99, currency: 'EUR', billingPeriod: 'monthly' },
  createdAt: '2025-01-15T10:00:00.000Z',
};

const CANCELLED_REASON = {
  code: 'ORCHESTRATOR.CANCELLED_DURING_PROVISIONING',
  message: 'subscription sub_abc123 cancelled before activation: changed mind',
  retryable: false,
};

/** One tenant's stream as the projector hands it to the read model, then to the metrics. */
function stream(events: { type: keyof LifecycleEventData; data: unknown }[]): RecordedEvent[] {
  return events.map((event, revision) => ({
    id: `event-${revision}`,
    type: event.type,
    data: event.data,
    metadata: { schemaVersion: 1, occurredAt: `2025-01-15T10:00:0${revision}.000Z` },
    streamName: tenantStream(TENANT.tenantId),
    revision,
    position: String(revision).padStart(8, '0'),
    recordedAt: new Date(`2025-01-15T10:00:0${revision}.000Z`),
  }));
}

describe('ProvisioningMetrics', () => {
  let store: MemoryEventStore;
  let readModel: MemoryTenantReadModel;
  let metrics: ProvisioningMetrics;

  beforeEach(() => {
    store = new MemoryEventStore();
    readModel = new MemoryTenantReadModel();
    metrics = new ProvisioningMetrics(store, readModel);
  });
  afterEach(() => store.close());

  async function project(events: RecordedEvent[]): Promise<void> {
    for (const event of events) {
      const change = await readModel.apply(event);
      if (change) metrics.observe(event, change);
    }
  }

  async function samples(name: string, label: string): Promise<Record<string, number>> {
    const metric = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === name);
    if (!metric) throw new Error(`${name} is not registered`);
    return Object.fromEntries(metric.values.map((sample) => [String(sample.labels[label]), sample.value]));
  }

  it('counts a provisioning cancelled before activation as cancelled, never as failed', async () => {
    expect(await samples('provisioning_outcomes_total', 'outcome')).toEqual({
      activated: 0,
      failed: 0,
      cancelled: 0,
    });
    await project(
      stream([
        { type: 'TenantRequested', data: { tenant: TENANT, source: 'bus' } },
        {
          type: 'CancellationRequested',
          data: {
            subscriptionId: 'sub_abc123',
            reason: 'changed mind',
            requestedAt: '2025-01-15T10:00:01.000Z',
            deletionDate: '2025-02-14T10:00:01.000Z',
            requestedBy: 'billing',
          },
        },
        { type: 'RollbackStarted', data: { failedStep: 'cancellation', reason: CANCELLED_REASON } },
        {
          type: 'ProvisioningCancelled',
          data: {
            subscriptionId: 'sub_abc123',
            reason: 'changed mind',
            compensatedSteps: [],
            cancelledAt: '2025-01-15T10:00:03.000Z',
          },
        },
      ]),
    );
    expect(await samples('provisioning_outcomes_total', 'outcome')).toEqual({
      activated: 0,
      failed: 0,
      cancelled: 1,
    });
    expect(await samples('provisioning_tenants', 'state')).toMatchObject({ cancelled: 1, failed: 0 });
  });

  it('still counts a rollback after a failed step as failed', async () => {
    const reason = { code: 'STORAGE.QUOTA', message: 'quota exceeded', retryable: false };
    await project(
      stream([
        { type: 'TenantRequested', data: { tenant: TENANT, source: 'bus' } },
        { type: 'RollbackStarted', data: { failedStep: 'storage', reason } },
        {
          type: 'TenantProvisioningFailed',
          data: { failedStep: 'storage', reason, compensatedSteps: [] },
        },
      ]),
    );
    expect(await samples('provisioning_outcomes_total', 'outcome')).toEqual({
      activated: 0,
      failed: 1,
      cancelled: 0,
    });
  });

  it('labels step failures by step kind, so its series do not grow with cancellations or tier changes', async () => {
    const kinds: [string, string][] = [
      ['databases', 'databases'],
      ['compensate:storage', 'compensate:storage'],
      ['cancel-12:backup-3:verify-databases', 'cancel:backup:verify-databases'],
      ['tier-7:update-quota', 'tier:update-quota'],
      ['workloads-2:suspend', 'workloads:suspend'],
      ['reactivate-4:restore-website', 'reactivate:restore-website'],
      ['purged:deletion-confirmation', 'purged:deletion-confirmation'],
      ['Databases!', 'other'],
      ['a'.repeat(65), 'other'],
    ];
    for (const [key, label] of kinds) expect({ key, label: stepLabel(key) }).toEqual({ key, label });
    const failure = (step: string, revision: number): RecordedEvent => ({
      ...stream([{ type: 'TenantRequested', data: {} }])[0],
      id: `failure-${revision}`,
      type: 'DatabasesBackupFailed',
      data: {
        commandId: `c-${revision}`,
        step,
        error: { code: 'X', message: 'x', retryable: false },
        attempts: 1,
      },
      revision,
    });
    for (const [revision, step] of ['cancel-1:backup-1:databases', 'cancel-2:backup-5:databases'].entries()) {
      metrics.observe(failure(step, revision), { before: null, after: null });
    }
    expect(await samples('provisioning_step_failures_total', 'step')).toEqual({
      'cancel:backup:databases': 2,
    });
  });
});
