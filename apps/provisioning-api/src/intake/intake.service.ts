import { randomBytes } from 'node:crypto';
import {
  buildMetadata,
  customerStream,
  deterministicId,
  domainFor,
  domainStream,
  generateTenantId,
  resolveDeletionDate,
  subscriptionStream,
  tenantStream,
  validateSubscriptionCancelled,
  validateSubscriptionCreated,
  validateSubscriptionReactivated,
  validateSubscriptionResumed,
  validateSubscriptionSuspended,
  validateSubscriptionUpdated,
  type LifecycleEventData,
  type LifecycleEventType,
  type Tier,
  type MessageMetadata,
  type ReservationEventData,
  type SubscriptionCreatedDto,
  type TenantProfile,
} from '@app/contracts';
import {
  StreamNotFoundError,
  WrongExpectedVersionError,
  decideAndAppend,
  type StreamDecision,
  type EventData,
  type EventStore,
  type RecordedEvent,
} from '@app/event-store';
import { foldTenantSummary, toSummaryEvent, type TenantSummary } from '../tenants/tenant-summary.projection';
import { IntakeError, INTAKE_ERROR_CODES } from './intake.errors';

export type IntakeSource = 'webhook' | 'bus';

export interface SubscriptionAccepted {
  tenantId: string;
  domain: string;
  /** `provisioning` for a new tenant, `reactivating` when the subscription revived a tenant in its grace period. */
  status: 'provisioning' | 'reactivating';
  /** Whether this delivery changed nothing because an earlier one of the same subscription already had. */
  duplicate: boolean;
}

export interface CancellationAccepted {
  tenantId: string;
  deletionDate: string;
  /** Billing's `effective_date` as sent, when it sent one. */
  requestedEffectiveDate?: string;
  /** Why `deletionDate` is later than billing's `effective_date` (never before the end of the grace period). */
  clampedReason?: string;
  duplicate: boolean;
}

export interface TierChangeAccepted {
  tenantId: string;
  fromTier: Tier;
  toTier: Tier;
  /** `changing` when a TierChangeRequested was appended (or had been, for a duplicate); `unchanged` otherwise. */
  status: 'changing' | 'unchanged';
  duplicate: boolean;
}

export interface SuspensionAccepted {
  tenantId: string;
  /** The status the tenant is heading for. */
  status: 'suspended' | 'active';
  /** False when the tenant already was (or was already heading) there: nothing was appended. */
  changed: boolean;
  duplicate: boolean;
}

export interface ReactivationAccepted {
  tenantId: string;
  status: 'reactivating';
  duplicate: boolean;
}

/** What a follow-up billing event decides on a tenant: an event to append, and the answer either way. */
type ChangeDecision<R> = { append?: { type: LifecycleEventType; data: unknown }; result: R };

export interface IntakeOptions {
  gracePeriodDays: number;
  now?: () => Date;
  /** 6 lowercase hex digits; injectable so tests can force collisions. */
  randomSuffix?: () => string;
}

const ACTOR = 'provisioning-api';
const MAX_DOMAIN_ATTEMPTS = 999;
const MAX_CONFLICT_RETRIES = 20;

/**
 * Intake of billing's subscription events (spec 1.1, 1.2 and "Annulation Abonnement"), shared by the webhook and
 * the `billing.events` consumer. Every write is a uniqueness reservation or a deterministic event id, so the same
 * delivery repeated (or raced 50 times, or retried after a crash half-way) converges on one tenant.
 */
export class SubscriptionIntake {
  private readonly now: () => Date;
  private readonly randomSuffix: () => string;

  constructor(
    private readonly store: EventStore,
    private readonly options: IntakeOptions,
  ) {
    this.now = options.now ?? (() => new Date());
    this.randomSuffix = options.randomSuffix ?? (() => randomBytes(3).toString('hex'));
  }

  async acceptSubscriptionCreated(payload: unknown, source: IntakeSource): Promise<SubscriptionAccepted> {
    const validation = validateSubscriptionCreated(payload);
    if (!validation.ok) {
      throw new IntakeError(
        INTAKE_ERROR_CODES.VALIDATION_FAILED,
        'invalid subscription.created',
        validation.violations,
      );
    }
    const request = validation.value;
    const subscriptionId = request.data.subscription_id;

    const reserved = await this.reservedTenant(subscriptionId);
    if (reserved) return this.complete(reserved, request, source, true);

    const candidate = (await this.tenantInGracePeriod(request.data.customer.email)) ?? {
      tenantId: await this.freshTenantId(request.data.customer.name),
    };
    const owner = await this.reserveSubscription(subscriptionId, candidate.tenantId);
    return this.complete(owner.tenantId, request, source, !owner.won);
  }

  /** `_source` is accepted for symmetry with creation; a cancellation records `requestedBy: 'billing'` either way. */
  async acceptSubscriptionCancelled(payload: unknown, _source: IntakeSource): Promise<CancellationAccepted> {
    const validation = validateSubscriptionCancelled(payload);
    if (!validation.ok) {
      throw new IntakeError(
        INTAKE_ERROR_CODES.VALIDATION_FAILED,
        'invalid subscription.cancelled',
        validation.violations,
      );
    }
    const { data, timestamp } = validation.value;
    const stream = tenantStream(data.tenant_id);
    const requestedAt = new Date(timestamp).toISOString();
    // The billing timestamp tells a redelivery (same id) from a new cancellation of the same subscription
    // after a subscription.reactivated, which starts a new grace period.
    const eventId = deterministicId(
      'cancellation-requested',
      data.subscription_id,
      data.tenant_id,
      requestedAt,
    );
    return decideAndAppend(
      this.store,
      stream,
      async (): Promise<StreamDecision<CancellationAccepted>> => {
        const events = await this.readTenant(data.tenant_id);
        const summary = events ? foldTenantSummary(events.map(toSummaryEvent)) : null;
        if (!events || !summary) {
          throw new IntakeError(
            INTAKE_ERROR_CODES.TENANT_NOT_FOUND,
            `tenant ${data.tenant_id} does not exist`,
          );
        }
        const revision = events[events.length - 1].revision;
        const answer = (result: CancellationAccepted) => ({ append: [], expectedRevision: revision, result });
        const earlier = events.find((event) => event.id === eventId);
        if (earlier) {
          const cancelled = earlier.data as LifecycleEventData['CancellationRequested'];
          return answer(cancellationAnswer(data.tenant_id, cancelled, true));
        }
        if (summary.subscriptionId !== data.subscription_id) {
          throw new IntakeError(
            INTAKE_ERROR_CODES.SUBSCRIPTION_MISMATCH,
            `subscription ${data.subscription_id} is not the current subscription of tenant ${data.tenant_id}`,
          );
        }
        // Already cancelled (grace period, purge under way or done: every one of these states began with a
        // cancellation), or a cancellation no newer than the last change billing made (delivered out of order,
        // after the reactivation that undid it): nothing new to record, and billing's retry gets the same answer.
        const latest = events.findLast((event) => event.type === 'CancellationRequested')?.data as
          LifecycleEventData['CancellationRequested'] | undefined;
        if (
          latest &&
          (summary.status === 'deprovisioning' ||
            summary.status === 'purged' ||
            Date.parse(requestedAt) <= lastBillingChange(events, data.subscription_id))
        ) {
          return answer(cancellationAnswer(data.tenant_id, latest, true));
        }
        // A past or too-near effective_date (a billing bug, a replayed message) never shortens the grace period.
        const deletion = resolveDeletionDate({
          receivedAt: this.now(),
          requestedAt,
          ...(data.effective_date === undefined ? {} : { effectiveDate: data.effective_date }),
          gracePeriodDays: this.options.gracePeriodDays,
        });
        const cancellation: LifecycleEventData['CancellationRequested'] = {
          subscriptionId: data.subscription_id,
          reason: data.cancellation_reason ?? 'unspecified',
          requestedAt,
          requestedBy: 'billing',
          ...deletion,
        };
        return {
          append: [
            this.event(eventId, 'CancellationRequested', cancellation, data.tenant_id, [
              'cancellation',
              data.subscription_id,
            ]),
          ],
          expectedRevision: revision,
          result: cancellationAnswer(data.tenant_id, cancellation, false),
        };
      },
      { exhausted: () => tooBusy(data.tenant_id) },
    );
  }

  /** subscription.updated with a tier: TierChangeRequested (quota recomputed and applied by the orchestrator). */
  async acceptSubscriptionUpdated(payload: unknown, _source: IntakeSource): Promise<TierChangeAccepted> {
    const validation = validateSubscriptionUpdated(payload);
    if (!validation.ok) {
      throw new IntakeError(
        INTAKE_ERROR_CODES.VALIDATION_FAILED,
        'invalid subscription.updated',
        validation.violations,
      );
    }
    const { data, timestamp } = validation.value;
    const toTier = data.plan.tier;
    const eventId = deterministicId(
      'tier-change-requested',
      data.subscription_id,
      data.tenant_id,
      isoOf(timestamp),
    );
    return this.changeTenant<TierChangeAccepted>(
      data.tenant_id,
      data.subscription_id,
      eventId,
      (earlier) => {
        const { fromTier, toTier: recordedTier } = earlier.data as LifecycleEventData['TierChangeRequested'];
        return {
          tenantId: data.tenant_id,
          fromTier,
          toTier: recordedTier,
          status: 'changing',
          duplicate: true,
        };
      },
      (summary, events) => {
        requireStatus(summary, ['active'], 'change tier');
        if (operationInFlight(events, TIER_CHANGE)) {
          throw new IntakeError(
            INTAKE_ERROR_CODES.CHANGE_IN_PROGRESS,
            `an earlier tier change of tenant ${data.tenant_id} is still being applied`,
          );
        }
        const fromTier = summary.tier;
        const result: TierChangeAccepted = {
          tenantId: data.tenant_id,
          fromTier,
          toTier,
          status: fromTier === toTier ? 'unchanged' : 'changing',
          duplicate: false,
        };
        if (fromTier === toTier) return { result };
        const requested: LifecycleEventData['TierChangeRequested'] = {
          fromTier,
          toTier,
          requestedBy: 'billing',
        };
        return { append: { type: 'TierChangeRequested', data: requested }, result };
      },
    );
  }

  /** subscription.suspended (non-payment): workloads to zero and ingress off, data kept. */
  async acceptSubscriptionSuspended(payload: unknown, _source: IntakeSource): Promise<SuspensionAccepted> {
    const validation = validateSubscriptionSuspended(payload);
    if (!validation.ok) {
      throw new IntakeError(
        INTAKE_ERROR_CODES.VALIDATION_FAILED,
        'invalid subscription.suspended',
        validation.violations,
      );
    }
    const { data, timestamp } = validation.value;
    const requested: LifecycleEventData['SuspensionRequested'] = {
      reason: data.reason ?? 'non-payment',
      requestedBy: 'billing',
    };
    return this.changeWorkloads(
      data.tenant_id,
      data.subscription_id,
      timestamp,
      'SuspensionRequested',
      requested,
    );
  }

  /** subscription.resumed: workloads and ingress restored. */
  async acceptSubscriptionResumed(payload: unknown, _source: IntakeSource): Promise<SuspensionAccepted> {
    const validation = validateSubscriptionResumed(payload);
    if (!validation.ok) {
      throw new IntakeError(
        INTAKE_ERROR_CODES.VALIDATION_FAILED,
        'invalid subscription.resumed',
        validation.violations,
      );
    }
    const { data, timestamp } = validation.value;
    const requested: LifecycleEventData['ResumptionRequested'] = { requestedBy: 'billing' };
    return this.changeWorkloads(
      data.tenant_id,
      data.subscription_id,
      timestamp,
      'ResumptionRequested',
      requested,
    );
  }

  /** subscription.reactivated: the cancelled subscription continues; allowed only during the grace period. */
  async acceptSubscriptionReactivated(
    payload: unknown,
    _source: IntakeSource,
  ): Promise<ReactivationAccepted> {
    const validation = validateSubscriptionReactivated(payload);
    if (!validation.ok) {
      throw new IntakeError(
        INTAKE_ERROR_CODES.VALIDATION_FAILED,
        'invalid subscription.reactivated',
        validation.violations,
      );
    }
    const { data, timestamp } = validation.value;
    const tenantId = data.tenant_id;
    const eventId = deterministicId('tenant-reactivated', data.subscription_id, tenantId, isoOf(timestamp));
    return this.changeTenant<ReactivationAccepted>(
      tenantId,
      data.subscription_id,
      eventId,
      () => ({ tenantId, status: 'reactivating', duplicate: true }),
      (summary) => {
        if (!isInGracePeriod(summary)) {
          throw new IntakeError(
            summary.deprovisioning?.purgeStartedAt
              ? INTAKE_ERROR_CODES.TENANT_PURGED
              : INTAKE_ERROR_CODES.NOT_IN_GRACE_PERIOD,
            `tenant ${tenantId} is ${summary.deprovisioning?.purgeStartedAt ? 'being deleted' : summary.status}: only a tenant in its grace period can be reactivated`,
          );
        }
        const reactivated: LifecycleEventData['TenantReactivated'] = {
          subscriptionId: data.subscription_id,
          reactivatedAt: this.now().toISOString(),
          requestedAt: isoOf(timestamp),
          requestedBy: 'billing',
        };
        return {
          append: { type: 'TenantReactivated', data: reactivated },
          result: { tenantId, status: 'reactivating', duplicate: false },
        };
      },
    );
  }

  // -------------------------------------------------------------------------------------------------------

  private changeWorkloads(
    tenantId: string,
    subscriptionId: string,
    timestamp: string,
    type: 'SuspensionRequested' | 'ResumptionRequested',
    data: unknown,
  ): Promise<SuspensionAccepted> {
    const suspend = type === 'SuspensionRequested';
    const target = suspend ? 'suspended' : 'active';
    const eventId = deterministicId(
      suspend ? 'suspension-requested' : 'resumption-requested',
      subscriptionId,
      tenantId,
      isoOf(timestamp),
    );
    return this.changeTenant<SuspensionAccepted>(
      tenantId,
      subscriptionId,
      eventId,
      () => ({ tenantId, status: target, changed: true, duplicate: true }),
      (summary, events) => {
        requireStatus(summary, ['active', 'suspended'], suspend ? 'suspend' : 'resume');
        // The summary turns suspended as soon as it is asked; the orchestrator only once the workloads are down.
        // A resume before the suspension landed would be ignored by the orchestrator, so it waits its turn.
        if (operationInFlight(events, WORKLOADS_OPERATION)) {
          throw new IntakeError(
            INTAKE_ERROR_CODES.CHANGE_IN_PROGRESS,
            `an earlier suspension or resumption of tenant ${tenantId} is still being applied`,
          );
        }
        if (summary.status === target) {
          return { result: { tenantId, status: target, changed: false, duplicate: false } };
        }
        return {
          append: { type, data },
          result: { tenantId, status: target, changed: true, duplicate: false },
        };
      },
    );
  }

  /**
   * Read the tenant, answer a redelivery from the event it already wrote, check the subscription is the
   * tenant's, decide, append at the revision read; on a conflict read and decide again (CONVENTIONS.md 4).
   */
  private async changeTenant<R>(
    tenantId: string,
    subscriptionId: string,
    eventId: string,
    duplicateOf: (earlier: RecordedEvent) => R,
    decideOn: (summary: TenantSummary, events: RecordedEvent[]) => ChangeDecision<R>,
  ): Promise<R> {
    return decideAndAppend(
      this.store,
      tenantStream(tenantId),
      async () => {
        const events = await this.readTenant(tenantId);
        const summary = events ? foldTenantSummary(events.map(toSummaryEvent)) : null;
        if (!events || !summary) {
          throw new IntakeError(INTAKE_ERROR_CODES.TENANT_NOT_FOUND, `tenant ${tenantId} does not exist`);
        }
        const revision = events[events.length - 1].revision;
        const earlier = events.find((event) => event.id === eventId);
        if (earlier) return { append: [], expectedRevision: revision, result: duplicateOf(earlier) };
        if (summary.subscriptionId !== subscriptionId) {
          throw new IntakeError(
            INTAKE_ERROR_CODES.SUBSCRIPTION_MISMATCH,
            `subscription ${subscriptionId} is not the current subscription of tenant ${tenantId}`,
          );
        }
        if (summary.status === 'purged') {
          throw new IntakeError(INTAKE_ERROR_CODES.TENANT_PURGED, `tenant ${tenantId} was deleted`);
        }
        const decision = decideOn(summary, events);
        const append = decision.append
          ? [
              this.event(eventId, decision.append.type, decision.append.data, tenantId, [
                decision.append.type,
                subscriptionId,
              ]),
            ]
          : [];
        return { append, expectedRevision: revision, result: decision.result };
      },
      { exhausted: () => tooBusy(tenantId) },
    );
  }

  /** A tenant id whose stream does not exist yet; the 24-bit suffix can collide for companies sharing a slug. */
  private async freshTenantId(companyName: string): Promise<string> {
    for (let attempt = 0; attempt < MAX_CONFLICT_RETRIES; attempt += 1) {
      const tenantId = generateTenantId(companyName, this.randomSuffix());
      if (!(await this.readTenant(tenantId))) return tenantId;
    }
    throw new IntakeError(INTAKE_ERROR_CODES.TENANT_ID_EXHAUSTED, 'no free tenant id after several attempts');
  }

  private async reservedTenant(subscriptionId: string): Promise<string | undefined> {
    try {
      const [first] = await this.store.readStream(subscriptionStream(subscriptionId), { limit: 1 });
      return (first.data as ReservationEventData['SubscriptionReserved']).tenantId;
    } catch (error) {
      if (error instanceof StreamNotFoundError) return undefined;
      throw error;
    }
  }

  /** First writer wins; a loser learns the winner's tenant id. The event id includes the tenant id, so a
   * competing reservation is a conflict, while a retry of the same one is an idempotent success. */
  private async reserveSubscription(
    subscriptionId: string,
    tenantId: string,
  ): Promise<{ tenantId: string; won: boolean }> {
    const data: ReservationEventData['SubscriptionReserved'] = { subscriptionId, tenantId };
    try {
      await this.store.append(
        subscriptionStream(subscriptionId),
        [
          this.event(
            deterministicId('subscription-reserved', subscriptionId, tenantId),
            'SubscriptionReserved',
            data,
            tenantId,
            subscriptionId,
          ),
        ],
        { expectedRevision: 'no_stream' },
      );
      return { tenantId, won: true };
    } catch (error) {
      if (!(error instanceof WrongExpectedVersionError)) throw error;
      const winner = await this.reservedTenant(subscriptionId);
      if (!winner) throw error;
      return { tenantId: winner, won: false };
    }
  }

  /** The domain `<slug>.collectverything.com`, or `<slug>-2...` when another tenant holds it (DESIGN.md 7). */
  private async reserveDomain(tenantId: string, subscriptionId: string): Promise<string> {
    for (let attempt = 1; attempt <= MAX_DOMAIN_ATTEMPTS; attempt += 1) {
      const domain = domainFor(tenantId, attempt);
      const stream = domainStream(domain);
      const data: ReservationEventData['DomainReserved'] = { domain, tenantId };
      try {
        await this.store.append(
          stream,
          [
            this.event(
              deterministicId('domain-reserved', domain, tenantId),
              'DomainReserved',
              data,
              tenantId,
              subscriptionId,
            ),
          ],
          { expectedRevision: 'no_stream' },
        );
        return domain;
      } catch (error) {
        if (!(error instanceof WrongExpectedVersionError)) throw error;
        const [first] = await this.store.readStream(stream, { limit: 1 });
        if ((first.data as ReservationEventData['DomainReserved']).tenantId === tenantId) return domain;
      }
    }
    throw new IntakeError(INTAKE_ERROR_CODES.DOMAIN_EXHAUSTED, `no free domain for tenant ${tenantId}`);
  }

  /**
   * Brings the tenant the subscription is reserved for to its final state: `TenantRequested` appended (new
   * tenant) or `TenantReactivated` appended (tenant in grace period). Safe to run any number of times.
   */
  private async complete(
    tenantId: string,
    request: SubscriptionCreatedDto,
    source: IntakeSource,
    duplicate: boolean,
  ): Promise<SubscriptionAccepted> {
    const subscriptionId = request.data.subscription_id;
    const events = await this.readTenant(tenantId);
    if (events) {
      const first = events[0].data as LifecycleEventData['TenantRequested'];
      if (first.tenant.subscriptionId !== subscriptionId) {
        // Only the same customer may take over a tenant: anything else is a suffix collision lost in a race.
        if (first.tenant.adminEmail.toLowerCase() !== request.data.customer.email.toLowerCase()) {
          throw new IntakeError(
            INTAKE_ERROR_CODES.TENANT_ID_COLLISION,
            `subscription ${subscriptionId} is reserved for tenant ${tenantId} of another customer`,
          );
        }
        return this.reactivate(tenantId, request, duplicate);
      }
      await this.linkCustomer(request.data.customer.email, tenantId, subscriptionId);
      return { tenantId, domain: first.tenant.domain, status: 'provisioning', duplicate };
    }

    const domain = await this.reserveDomain(tenantId, subscriptionId);
    const tenant: TenantProfile = {
      tenantId,
      companyName: request.data.customer.name,
      adminEmail: request.data.customer.email,
      billingEmail: request.data.customer.billing_email ?? request.data.customer.email,
      tier: request.data.plan.tier,
      region: request.data.metadata.region,
      domain,
      subscriptionId,
      plan: {
        price: request.data.plan.price,
        currency: request.data.plan.currency,
        billingPeriod: request.data.plan.billing_period,
      },
      ...(request.data.metadata.company_size ? { companySize: request.data.metadata.company_size } : {}),
      ...(request.data.metadata.industry ? { industry: request.data.metadata.industry } : {}),
      createdAt: new Date(request.timestamp).toISOString(),
    };
    const requested: LifecycleEventData['TenantRequested'] = { tenant, source };
    try {
      await this.store.append(
        tenantStream(tenantId),
        [
          this.event(
            deterministicId('tenant-requested', subscriptionId),
            'TenantRequested',
            requested,
            tenantId,
            subscriptionId,
          ),
        ],
        { expectedRevision: 'no_stream' },
      );
    } catch (error) {
      if (!(error instanceof WrongExpectedVersionError)) throw error;
      // A concurrent delivery of the same subscription completed first: answer with what it wrote.
      return this.complete(tenantId, request, source, true);
    }
    await this.linkCustomer(request.data.customer.email, tenantId, subscriptionId);
    return { tenantId, domain, status: 'provisioning', duplicate };
  }

  private async reactivate(
    tenantId: string,
    request: SubscriptionCreatedDto,
    duplicate: boolean,
  ): Promise<SubscriptionAccepted> {
    const subscriptionId = request.data.subscription_id;
    const eventId = deterministicId('tenant-reactivated', subscriptionId, tenantId);
    const outcome = await decideAndAppend(
      this.store,
      tenantStream(tenantId),
      async (): Promise<StreamDecision<SubscriptionAccepted & { recorded: boolean }>> => {
        const events = (await this.readTenant(tenantId)) ?? [];
        const summary = foldTenantSummary(events.map(toSummaryEvent));
        if (!summary) {
          throw new IntakeError(INTAKE_ERROR_CODES.TENANT_NOT_FOUND, `tenant ${tenantId} does not exist`);
        }
        const revision = events[events.length - 1].revision;
        if (events.some((event) => event.id === eventId)) {
          return {
            append: [],
            expectedRevision: revision,
            result: {
              tenantId,
              domain: summary.domain,
              status: 'reactivating',
              duplicate: true,
              recorded: false,
            },
          };
        }
        if (!isInGracePeriod(summary)) {
          // Purge began between reservation and now: the reservation stands, the operator sees the refusal.
          throw new IntakeError(
            INTAKE_ERROR_CODES.TENANT_PURGED,
            `tenant ${tenantId} can no longer be reactivated`,
          );
        }
        const data: LifecycleEventData['TenantReactivated'] = {
          subscriptionId,
          reactivatedAt: this.now().toISOString(),
          requestedAt: isoOf(request.timestamp),
          requestedBy: 'billing',
        };
        return {
          append: [this.event(eventId, 'TenantReactivated', data, tenantId, subscriptionId)],
          expectedRevision: revision,
          result: { tenantId, domain: summary.domain, status: 'reactivating', duplicate, recorded: true },
        };
      },
      { exhausted: () => tooBusy(tenantId) },
    );
    const { recorded, ...accepted } = outcome;
    if (recorded) await this.linkCustomer(request.data.customer.email, tenantId, subscriptionId);
    return accepted;
  }

  /** The customer's latest tenant, when it is in its grace period (spec: a new subscription reactivates it). */
  private async tenantInGracePeriod(email: string): Promise<{ tenantId: string } | undefined> {
    let links: RecordedEvent[];
    try {
      links = await this.store.readStream(customerStream(email), { direction: 'backwards', limit: 1 });
    } catch (error) {
      if (error instanceof StreamNotFoundError) return undefined;
      throw error;
    }
    const link = links[0]?.data as ReservationEventData['CustomerTenantLinked'] | undefined;
    if (!link) return undefined;
    const events = await this.readTenant(link.tenantId);
    const summary = events ? foldTenantSummary(events.map(toSummaryEvent)) : null;
    return summary && isInGracePeriod(summary) ? { tenantId: link.tenantId } : undefined;
  }

  private async linkCustomer(email: string, tenantId: string, subscriptionId: string): Promise<void> {
    const stream = customerStream(email);
    const eventId = deterministicId('customer-linked', subscriptionId, tenantId);
    let existing: RecordedEvent[] = [];
    try {
      existing = await this.store.readStream(stream);
    } catch (error) {
      if (!(error instanceof StreamNotFoundError)) throw error;
    }
    if (existing.some((event) => event.id === eventId)) return;
    const data: ReservationEventData['CustomerTenantLinked'] = { tenantId, subscriptionId };
    try {
      // The revision read above, not `any`: EventStoreDB dedupes an event id reliably only then (DESIGN.md 4).
      await this.store.append(
        stream,
        [this.event(eventId, 'CustomerTenantLinked', data, tenantId, subscriptionId)],
        {
          expectedRevision: existing.length > 0 ? existing[existing.length - 1].revision : 'no_stream',
        },
      );
    } catch (error) {
      if (!(error instanceof WrongExpectedVersionError)) throw error;
      // A concurrent writer linked first (the same link or a newer one); either way the link is recorded.
    }
  }

  private async readTenant(tenantId: string): Promise<RecordedEvent[] | undefined> {
    try {
      return await this.store.readStream(tenantStream(tenantId));
    } catch (error) {
      if (error instanceof StreamNotFoundError) return undefined;
      throw error;
    }
  }

  private event<T>(
    id: string,
    type: string,
    data: T,
    tenantId: string,
    /** The business request this event stems from: a subscription id, or a tagged one for cancellations. */
    correlation: string | readonly string[],
  ): EventData<T, MessageMetadata> {
    const parts = typeof correlation === 'string' ? [correlation] : correlation;
    const metadata = buildMetadata(
      { tenantId, correlationId: deterministicId('correlation', ...parts), actor: ACTOR },
      id,
      this.now(),
    );
    return { id, type, data, metadata };
  }
}

/** Billing's timestamp of the latest cancellation or reactivation of a subscription (epoch ms, 0 if none). */
function lastBillingChange(events: RecordedEvent[], subscriptionId: string): number {
  let latest = 0;
  for (const event of events) {
    if (event.type !== 'CancellationRequested' && event.type !== 'TenantReactivated') continue;
    // Only billing's own: an operator's cancellation carries the server's clock, not billing's.
    const data = event.data as { subscriptionId?: string; requestedAt?: string; requestedBy?: string };
    if (data.requestedBy !== 'billing' || data.subscriptionId !== subscriptionId || !data.requestedAt)
      continue;
    latest = Math.max(latest, Date.parse(data.requestedAt));
  }
  return latest;
}

/** The answer to a cancellation, the same for its first delivery and every repeat: what the stream recorded. */
function cancellationAnswer(
  tenantId: string,
  recorded: LifecycleEventData['CancellationRequested'],
  duplicate: boolean,
): CancellationAccepted {
  return {
    tenantId,
    deletionDate: recorded.deletionDate,
    ...(recorded.requestedEffectiveDate === undefined
      ? {}
      : { requestedEffectiveDate: recorded.requestedEffectiveDate }),
    ...(recorded.clampedReason === undefined ? {} : { clampedReason: recorded.clampedReason }),
    duplicate,
  };
}

function isoOf(timestamp: string): string {
  return new Date(timestamp).toISOString();
}

function requireStatus(
  summary: TenantSummary,
  allowed: readonly TenantSummary['status'][],
  action: string,
): void {
  if (!allowed.includes(summary.status)) {
    throw new IntakeError(
      INTAKE_ERROR_CODES.TENANT_NOT_ACTIVE,
      `tenant ${summary.tenantId} is ${summary.status}: cannot ${action} (needs ${allowed.join(' or ')})`,
    );
  }
}

interface OperationKind {
  requested: readonly string[];
  /** Events that settle the latest request (success, refusal, or a failure parked for an operator). */
  settled: readonly string[];
  stepPrefix: string;
}
const TIER_CHANGE: OperationKind = {
  requested: ['TierChangeRequested'],
  settled: ['TierChanged', 'QuotaUpdateRefused'],
  stepPrefix: 'tier-',
};
const WORKLOADS_OPERATION: OperationKind = {
  requested: ['SuspensionRequested', 'ResumptionRequested'],
  settled: ['WorkloadsSuspended', 'WorkloadsResumed'],
  stepPrefix: 'workloads-',
};

/** Whether the latest request of this kind has not been settled yet (the orchestrator would ignore another). */
function operationInFlight(events: readonly RecordedEvent[], kind: OperationKind): boolean {
  let pending = false;
  for (const event of events) {
    if (kind.requested.includes(event.type)) pending = true;
    else if (kind.settled.includes(event.type)) {
      // A refusal that may pass is retried by the orchestrator: the request is still in flight.
      pending = (event.data as { error?: { retryable?: unknown } }).error?.retryable === true;
    } else if (event.type === 'StepParked') {
      const step = (event.data as { step?: unknown }).step;
      if (typeof step === 'string' && step.startsWith(kind.stepPrefix)) pending = false;
    }
  }
  return pending;
}

function isInGracePeriod(summary: TenantSummary): boolean {
  return summary.status === 'deprovisioning' && !summary.deprovisioning?.purgeStartedAt;
}

/** Every attempt lost its append to another writer of the tenant's stream. */
function tooBusy(tenantId: string): IntakeError {
  return new IntakeError(INTAKE_ERROR_CODES.CONCURRENCY_EXHAUSTED, `tenant ${tenantId} is too busy`);
}
