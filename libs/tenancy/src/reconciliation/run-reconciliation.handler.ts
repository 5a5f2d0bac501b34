import {
  buildEvent,
  deterministicId,
  reconciliationStream,
  type ReconciliationEventData,
  type ReconciliationFinding,
  type Violation,
} from '@app/contracts';
import {
  EVENT_STORE,
  readStreamOrEmpty,
  WrongExpectedVersionError,
  type EventData,
  type EventStore,
} from '@app/event-store';
import { Inject, Optional } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { invalidRequest } from '../errors';
import {
  idempotencyKeyOf,
  idempotencyViolations,
  operatorActor,
  operatorViolations,
} from '../operations/operator-request';
import type { RequestsInFlight } from '../operations/requests-in-flight';
import { LIST_MAX_LIMIT } from '../queries/query-params';
import type { TenantReadModel } from '../read-model/tenant-read-model';
import {
  CLOCK,
  REQUESTS_IN_FLIGHT,
  TENANCY_OPTIONS,
  TENANT_READ_MODEL,
  type Clock,
  type TenancyOptions,
} from '../tokens';
import { actionIdOf, countFindings, proposedAction, reconcile, type ComparedTenant } from './reconcile';
import {
  RunReconciliation,
  type ReconciliationReport,
  type RunReconciliationRequest,
} from './reconciliation.commands';
import { recordedReport, runFingerprint } from './recorded-report';
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

/** A run's request once checked: billing's list parsed, or the URL to fetch it from. */
type RunInput = { operator: string; propose: boolean; idempotencyKey?: string } & (
  { list: BillingSubscription[] } | { url: URL }
);

/**
 * Compares billing's list with the read model: the one place every tenant's subscription, tier and status sit
 * side by side, paged, without folding thousands of streams. It lags the streams by the projector's delay,
 * which is why the report carries its checkpoint and why accepting an action re-checks the tenant's stream.
 *
 * With an Idempotency-Key, a proposing run is recorded under an id derived from the operator and the key, with
 * a digest of its request: a retry answers the recorded report again (recorded-report.ts). A run that does not
 * propose records nothing, so its key has nothing to find, unless a proposing run recorded one under it.
 */
@CommandHandler(RunReconciliation)
export class RunReconciliationHandler implements ICommandHandler<RunReconciliation> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(TENANT_READ_MODEL) private readonly readModel: TenantReadModel,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(TENANCY_OPTIONS) private readonly options: TenancyOptions,
    @Inject(REQUESTS_IN_FLIGHT) private readonly inFlight: RequestsInFlight,
    @Optional()
    @Inject(SUBSCRIPTION_SOURCE_LIMITS)
    private readonly limits: SubscriptionSourceLimits = DEFAULT_SOURCE_LIMITS,
  ) {}

  async execute({ request }: RunReconciliation): Promise<ReconciliationReport> {
    const input = this.validInput(request);
    const fingerprint = runFingerprint(
      'url' in input
        ? { propose: input.propose, source: input.url }
        : { propose: input.propose, list: input.list },
    );
    const key = input.idempotencyKey;
    if (!key) return this.compare(input, input.propose ? this.options.newId() : null, fingerprint);
    const reconciliationId = deterministicId('reconciliation-run', input.operator, key);
    const stream = reconciliationStream(reconciliationId);
    return this.inFlight.run({ eventId: reconciliationId, idempotencyKey: key }, async () => {
      const earlier = recordedReport(await readStreamOrEmpty(this.store, stream), fingerprint);
      if (earlier) return earlier;
      try {
        return await this.compare(input, input.propose ? reconciliationId : null, fingerprint);
      } catch (error) {
        if (!(error instanceof WrongExpectedVersionError)) throw error;
        // The same key, raced by another replica: answer as the repeat it is.
        const raced = recordedReport(await readStreamOrEmpty(this.store, stream), fingerprint);
        if (raced) return raced;
        throw error;
      }
    });
  }

  /** Billing's list against the read model; recorded as proposals under `reconciliationId` when given. */
  private async compare(
    input: RunInput,
    reconciliationId: string | null,
    requestFingerprint: string,
  ): Promise<ReconciliationReport> {
    const list = 'url' in input ? await fetchSubscriptions(input.url, this.limits) : input.list;
    const source = 'url' in input ? describeSource(input.url) : 'inline';
    const readModelCheckpoint = (await this.readModel.checkpoint()) ?? null;
    const tenants = await this.allTenants();
    const findings = reconcile(list, tenants);
    const comparedAt = this.clock();
    if (reconciliationId) {
      await this.record(reconciliationId, findings, {
        reconciliationId,
        source,
        subscriptions: list.length,
        tenantsCompared: tenants.length,
        operator: input.operator,
        recordedAt: comparedAt.toISOString(),
        readModelCheckpoint,
        requestFingerprint,
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
      duplicate: false,
    };
  }

  /** The request checked (every field at once), and an inline list parsed; a source is only checked. */
  private validInput(request: RunReconciliationRequest): RunInput {
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
    violations.push(...idempotencyViolations(request.idempotencyKey));
    if (violations.length > 0) throw invalidRequest('invalid reconciliation request', violations);
    const idempotencyKey = idempotencyKeyOf(request.idempotencyKey);
    const checked = {
      operator: request.operator,
      propose: request.propose === true,
      ...(idempotencyKey ? { idempotencyKey } : {}),
    };
    if (request.source !== undefined) return { ...checked, url: validSourceUrl(request.source) };
    try {
      const list =
        request.csv !== undefined
          ? parseSubscriptionCsv(request.csv as string)
          : parseSubscriptionList(request.subscriptions);
      return { ...checked, list };
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
