import {
  buildEvent,
  deterministicId,
  reconciliationStream,
  type ReconciliationEventData,
  type ReconciliationFinding,
  type Violation,
} from '@app/contracts';
import { EVENT_STORE, type EventData, type EventStore } from '@app/event-store';
import { Inject, Optional } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { invalidRequest } from '../errors';
import { operatorActor, operatorViolations } from '../operations/operator-request';
import { LIST_MAX_LIMIT } from '../queries/query-params';
import type { TenantReadModel } from '../read-model/tenant-read-model';
import { CLOCK, TENANCY_OPTIONS, TENANT_READ_MODEL, type Clock, type TenancyOptions } from '../tokens';
import { actionIdOf, countFindings, proposedAction, reconcile, type ComparedTenant } from './reconcile';
import {
  RunReconciliation,
  type ReconciliationReport,
  type RunReconciliationRequest,
} from './reconciliation.commands';
import {
  parseSubscriptionCsv,
  parseSubscriptionList,
  SubscriptionListError,
  type BillingSubscription,
} from './subscription-list';
import {
  DEFAULT_SOURCE_LIMITS,
  describeSource,
  fetchSubscriptions,
  SUBSCRIPTION_SOURCE_LIMITS,
  validSourceUrl,
  type SubscriptionSourceLimits,
} from './subscription-source';

/** Proposals appended per batch: far below EventStoreDB's 1 MiB append limit. */
const EVENTS_PER_APPEND = 200;

/**
 * Compares billing's list with the read model: the one place every tenant's subscription, tier and status sit
 * side by side, paged, without folding thousands of streams. It lags the streams by the projector's delay,
 * which is why the report carries its checkpoint and why accepting an action re-checks the tenant's stream.
 */
@CommandHandler(RunReconciliation)
export class RunReconciliationHandler implements ICommandHandler<RunReconciliation> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(TENANT_READ_MODEL) private readonly readModel: TenantReadModel,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(TENANCY_OPTIONS) private readonly options: TenancyOptions,
    @Optional()
    @Inject(SUBSCRIPTION_SOURCE_LIMITS)
    private readonly limits: SubscriptionSourceLimits = DEFAULT_SOURCE_LIMITS,
  ) {}

  async execute({ request }: RunReconciliation): Promise<ReconciliationReport> {
    const { list, source } = await this.subscriptionsOf(request);
    const readModelCheckpoint = (await this.readModel.checkpoint()) ?? null;
    const tenants = await this.allTenants();
    const findings = reconcile(list, tenants);
    const comparedAt = this.clock();
    const reconciliationId = request.propose === true ? this.options.newId() : null;
    if (reconciliationId) {
      await this.record(reconciliationId, findings, {
        reconciliationId,
        source,
        subscriptions: list.length,
        tenantsCompared: tenants.length,
        operator: request.operator,
        recordedAt: comparedAt.toISOString(),
      });
    }
    return {
      reconciliationId,
      source,
      comparedAt: comparedAt.toISOString(),
      subscriptions: list.length,
      tenantsCompared: tenants.length,
      readModelCheckpoint,
      counts: countFindings(findings),
      findings: findings.map((finding) => ({
        ...finding,
        action: proposedAction(finding),
        actionId: reconciliationId ? actionIdOf(reconciliationId, finding) : null,
      })),
    };
  }

  private async subscriptionsOf(
    request: RunReconciliationRequest,
  ): Promise<{ list: BillingSubscription[]; source: string }> {
    const given = (['subscriptions', 'csv', 'source'] as const).filter((key) => request[key] !== undefined);
    const violations: Violation[] = [...operatorViolations(request.operator)];
    if (given.length !== 1) {
      violations.push({
        field: 'subscriptions',
        rules: ['exactlyOne'],
        messages: ['give exactly one of subscriptions (JSON), csv or source (a URL)'],
      });
    }
    if (request.propose !== undefined && typeof request.propose !== 'boolean') {
      violations.push({
        field: 'propose',
        rules: ['isBoolean'],
        messages: ['propose must be true or false'],
      });
    }
    if (request.csv !== undefined && typeof request.csv !== 'string') {
      violations.push({ field: 'csv', rules: ['isString'], messages: ['csv must be the CSV text'] });
    }
    if (violations.length > 0) throw invalidRequest('invalid reconciliation request', violations);
    if (request.source !== undefined) {
      const url = validSourceUrl(request.source);
      return { list: await fetchSubscriptions(url, this.limits), source: describeSource(url) };
    }
    try {
      const list =
        request.csv !== undefined
          ? parseSubscriptionCsv(request.csv as string)
          : parseSubscriptionList(request.subscriptions);
      return { list, source: 'inline' };
    } catch (error) {
      if (error instanceof SubscriptionListError) throw invalidRequest(error.message, error.violations);
      throw error;
    }
  }

  private async allTenants(): Promise<ComparedTenant[]> {
    const tenants: ComparedTenant[] = [];
    for (let offset = 0; ;) {
      const page = await this.readModel.list({ limit: LIST_MAX_LIMIT, offset });
      tenants.push(...page.items);
      offset += page.items.length;
      if (page.items.length === 0 || offset >= page.total) return tenants;
    }
  }

  /** The comparison and one proposal per finding, in a new stream of their own. */
  private async record(
    reconciliationId: string,
    findings: ReconciliationFinding[],
    recorded: ReconciliationEventData['ReconciliationRecorded'],
  ): Promise<void> {
    const now = this.clock();
    const metadata = {
      tenantId: '',
      correlationId: deterministicId('reconciliation', reconciliationId),
      actor: operatorActor(recorded.operator),
    };
    const event = (type: string, data: unknown, id: string): EventData =>
      buildEvent(type, data, metadata, id, now);
    const events = [
      event('ReconciliationRecorded', recorded, deterministicId('reconciliation-recorded', reconciliationId)),
      ...findings.map((finding) => {
        const actionId = actionIdOf(reconciliationId, finding);
        const data: ReconciliationEventData['ReconciliationActionProposed'] = {
          actionId,
          action: proposedAction(finding),
          finding,
        };
        return event('ReconciliationActionProposed', data, actionId);
      }),
    ];
    const stream = reconciliationStream(reconciliationId);
    let expectedRevision: number | 'no_stream' = 'no_stream';
    for (let start = 0; start < events.length; start += EVENTS_PER_APPEND) {
      const batch = events.slice(start, start + EVENTS_PER_APPEND);
      expectedRevision = (await this.store.append(stream, batch, { expectedRevision })).nextExpectedRevision;
    }
  }
}
