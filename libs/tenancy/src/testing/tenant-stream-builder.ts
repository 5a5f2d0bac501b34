import {
  buildMetadata,
  COMMAND_CATALOG,
  deterministicId,
  tenantStream,
  type CommandType,
  type FailureReason,
  type LifecycleEventData,
  type LifecycleEventType,
  type MessageMetadata,
  type TenantProfile,
} from '@app/contracts';
import type { EventData, EventStore, RecordedEvent } from '@app/event-store';
import type { SummaryEvent } from '../read-model/tenant-summary.types';

/** Builds realistic tenant streams (what intake, the orchestrator and the services append) for tests. */
export class TenantStreamBuilder {
  readonly events: EventData<unknown, MessageMetadata>[] = [];
  private readonly commands = new Map<string, { commandId: string; commandType: CommandType }>();
  private clock: number;
  private appended = 0;

  constructor(
    readonly tenantId: string,
    start: string,
    /** Milliseconds between consecutive events. */
    private readonly stepMs = 60_000,
  ) {
    this.clock = Date.parse(start) - stepMs;
  }

  /** Time of the next event (advances the builder's clock). */
  private tick(): Date {
    this.clock += this.stepMs;
    return new Date(this.clock);
  }

  private push<T>(type: string, data: T, actor: string, extra: { commandId?: string } = {}): this {
    const id = deterministicId('test-event', this.tenantId, String(this.events.length));
    const metadata = buildMetadata(
      { tenantId: this.tenantId, correlationId: deterministicId('test', this.tenantId), actor, ...extra },
      id,
      this.tick(),
    );
    this.events.push({ id, type, data, metadata });
    return this;
  }

  lifecycle<K extends LifecycleEventType>(
    type: K,
    data: LifecycleEventData[K],
    actor = 'orchestrator',
  ): this {
    return this.push(type, data, actor);
  }

  requested(profile: Partial<TenantProfile> = {}): this {
    const tenant: TenantProfile = {
      tenantId: this.tenantId,
      companyName: 'ABC Corporation',
      adminEmail: `admin@${this.tenantId}.example.com`,
      billingEmail: `billing@${this.tenantId}.example.com`,
      tier: 'premium',
      region: 'eu-west',
      domain: `${this.tenantId.slice(0, -7)}.collectverything.com`,
      subscriptionId: `sub_${this.tenantId.replace(/-/g, '_')}`,
      plan: { price: 124.99, currency: 'EUR', billingPeriod: 'monthly' },
      createdAt: new Date(this.clock + this.stepMs).toISOString(),
      ...profile,
    };
    return this.push('TenantRequested', { tenant, source: 'webhook' }, 'provisioning-api');
  }

  started(step: string, commandType: CommandType, attempt = 1): this {
    const commandId = deterministicId('test-command', this.tenantId, step, String(attempt));
    this.commands.set(step, { commandId, commandType });
    const data: LifecycleEventData['StepStarted'] = {
      step,
      commandId,
      commandType,
      service: COMMAND_CATALOG[commandType].service,
      attempt,
      deadline: new Date(this.clock + 10 * this.stepMs).toISOString(),
      params: {},
    };
    return this.push('StepStarted', data, 'orchestrator', { commandId });
  }

  succeeded(step: string, outputs: Record<string, string> = {}): this {
    const { commandId, commandType } = this.command(step);
    const service = COMMAND_CATALOG[commandType].service;
    return this.push(
      COMMAND_CATALOG[commandType].succeeded,
      { commandId, step, outputs },
      `${service}-service`,
      {
        commandId,
      },
    );
  }

  failed(step: string, error: FailureReason): this {
    const { commandId, commandType } = this.command(step);
    const service = COMMAND_CATALOG[commandType].service;
    return this.push(
      COMMAND_CATALOG[commandType].failed,
      { commandId, step, error, attempts: 3 },
      `${service}-service`,
      { commandId },
    );
  }

  /** Started then succeeded. */
  ran(step: string, commandType: CommandType): this {
    return this.started(step, commandType).succeeded(step);
  }

  parked(step: string, reason: FailureReason, compensation = false): this {
    const { commandId } = this.command(step);
    return compensation
      ? this.lifecycle('CompensationParked', { step, commandId, reason })
      : this.lifecycle('StepParked', { step, commandId, reason });
  }

  /** TenantRequested, the whole provisioning DAG, TenantActivated: 26 events. */
  activeTenant(): this {
    this.requested();
    for (const [step, command] of [
      ['namespace', 'ProvisionNamespace'],
      ['databases', 'ProvisionDatabases'],
      ['storage', 'ProvisionStorage'],
      ['broker', 'ProvisionBroker'],
      ['workloads', 'DeployWorkloads'],
      ['ingress', 'ConfigureIngress'],
      ['monitoring', 'ProvisionMonitoring'],
      ['website', 'CreateWebsiteRecord'],
      ['verify-kubernetes', 'VerifyKubernetes'],
      ['verify-databases', 'VerifyDatabases'],
      ['verify-storage', 'VerifyStorage'],
      ['verify-broker', 'VerifyBroker'],
    ] as const) {
      this.ran(step, command);
    }
    return this.lifecycle('TenantActivated', {
      activatedAt: new Date(this.clock + this.stepMs).toISOString(),
    });
  }

  /** Time of the event at `index` (its metadata's occurredAt). */
  occurredAt(index: number): string {
    return this.events[index].metadata?.occurredAt ?? '';
  }

  /** The events as the tenant summary folds them, each at its index as revision. */
  summaryEvents(): SummaryEvent[] {
    return this.events.map(({ type, data }, revision) => ({
      type,
      data,
      revision,
      occurredAt: this.occurredAt(revision),
    }));
  }

  /** The events as the event store hands them back, each at its index as revision and position. */
  recorded(): RecordedEvent[] {
    return this.events.map(({ id, type, data, metadata }, revision) => ({
      id,
      type,
      data,
      metadata: { schemaVersion: 1, ...metadata },
      streamName: tenantStream(this.tenantId),
      revision,
      position: String(revision).padStart(12, '0'),
      recordedAt: new Date(this.occurredAt(revision)),
    }));
  }

  /** Appends the events built since the previous call. */
  async appendTo(store: EventStore): Promise<void> {
    const fresh = this.events.slice(this.appended);
    if (fresh.length === 0) return;
    await store.append(tenantStream(this.tenantId), fresh, { expectedRevision: 'any' });
    this.appended = this.events.length;
  }

  private command(step: string): { commandId: string; commandType: CommandType } {
    const command = this.commands.get(step);
    if (!command) throw new Error(`step ${step} was not started in this test stream`);
    return command;
  }
}
