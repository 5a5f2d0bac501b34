import { randomBytes } from 'node:crypto';
import {
  customerStream,
  deterministicId,
  domainFor,
  domainStream,
  generateTenantId,
  subscriptionStream,
  tenantStream,
  validateSubscriptionCreated,
  type LifecycleEventData,
  type ReservationEventData,
  type SubscriptionCreatedDto,
  type TenantProfile,
} from '@app/contracts';
import {
  StreamNotFoundError,
  WrongExpectedVersionError,
  decideAndAppend,
  type StreamDecision,
  type EventStore,
  type RecordedEvent,
} from '@app/event-store';
import { admitSubscriptionReactivated, foldTenant, isRefusal } from '@app/lifecycle';
import { IntakeError, INTAKE_ERROR_CODES } from './intake.errors';
import type { IntakeOptions, IntakeSource, SubscriptionAccepted } from './intake.types';
import { IntakeUseCase, isoOf, tooBusy } from './intake.use-case';

const MAX_DOMAIN_ATTEMPTS = 999;
const MAX_CONFLICT_RETRIES = 20;

/**
 * subscription.created (spec 1.1): a new tenant, or the customer's tenant in its grace period reactivated. Every
 * write is a uniqueness reservation or a deterministic event id, so the same delivery repeated (or raced 50
 * times, or retried after a crash half-way) converges on one tenant.
 */
export class SubscriptionCreation extends IntakeUseCase {
  private readonly randomSuffix: () => string;

  constructor(store: EventStore, options: IntakeOptions) {
    super(store, options);
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
        const state = foldTenant(events);
        if (!state.tenant) {
          throw new IntakeError(INTAKE_ERROR_CODES.TENANT_NOT_FOUND, `tenant ${tenantId} does not exist`);
        }
        const domain = state.tenant.domain;
        const revision = events[events.length - 1].revision;
        if (events.some((event) => event.id === eventId)) {
          return {
            append: [],
            expectedRevision: revision,
            result: {
              tenantId,
              domain,
              status: 'reactivating',
              duplicate: true,
              recorded: false,
            },
          };
        }
        const data: LifecycleEventData['TenantReactivated'] = {
          subscriptionId,
          reactivatedAt: this.now().toISOString(),
          requestedAt: isoOf(request.timestamp),
          requestedBy: 'billing',
        };
        if (isRefusal(admitSubscriptionReactivated(state, { data, checkSubscription: false }))) {
          // Purge began between reservation and now: the reservation stands, the operator sees the refusal.
          throw new IntakeError(
            INTAKE_ERROR_CODES.TENANT_PURGED,
            `tenant ${tenantId} can no longer be reactivated`,
          );
        }
        return {
          append: [this.event(eventId, 'TenantReactivated', data, tenantId, subscriptionId)],
          expectedRevision: revision,
          result: { tenantId, domain, status: 'reactivating', duplicate, recorded: true },
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
    return events && foldTenant(events).status === 'deprovisioning' ? { tenantId: link.tenantId } : undefined;
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
}
