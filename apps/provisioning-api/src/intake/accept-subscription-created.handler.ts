import {
  deterministicId,
  tenantStream,
  validateSubscriptionCreated,
  type LifecycleEventData,
  type SubscriptionCreatedDto,
  type TenantProfile,
} from '@app/contracts';
import { EVENT_STORE, readStreamOrEmpty, WrongExpectedVersionError, type EventStore } from '@app/event-store';
import {
  admitReprovisioning,
  admitSubscriptionReactivated,
  isRefusal,
  provisioningRun,
  REFUSAL_CODES,
} from '@app/lifecycle';
import {
  CLOCK,
  decideOnTenant,
  earlierEvent,
  refusalError,
  UseCaseError,
  type Clock,
  type RefusalCodes,
} from '@app/tenancy';
import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { AcceptSubscriptionCreated } from './intake.commands';
import { billingEvent, intakeErrors, isoOf, validated } from './intake-events';
import type { IntakeSource, SubscriptionAccepted } from './intake.types';
import { SubscriptionReservations } from './subscription-reservations';

/**
 * subscription.created (spec 1.1): a new tenant, the customer's tenant in its grace period reactivated, or the
 * subscription's tenant whose provisioning failed provisioned again. Every write is a uniqueness reservation or
 * a deterministic event id, so the same delivery repeated (or raced 50 times, or retried after a crash half-way)
 * converges on one tenant.
 */
@CommandHandler(AcceptSubscriptionCreated)
export class AcceptSubscriptionCreatedHandler implements ICommandHandler<AcceptSubscriptionCreated> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly reservations: SubscriptionReservations,
  ) {}

  async execute({ payload, source }: AcceptSubscriptionCreated): Promise<SubscriptionAccepted> {
    const request = validated(validateSubscriptionCreated(payload), 'subscription.created');
    const subscriptionId = request.data.subscription_id;

    const reserved = await this.reservations.reservedTenant(subscriptionId);
    if (reserved) return this.complete(reserved, request, source, true);

    const candidate =
      (await this.reservations.tenantInGracePeriod(request.data.customer.email)) ??
      (await this.reservations.freshTenantId(request.data.customer.name));
    const owner = await this.reservations.reserveSubscription(subscriptionId, candidate);
    return this.complete(owner.tenantId, request, source, !owner.won);
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
    const { email } = request.data.customer;
    const [first] = await readStreamOrEmpty(this.store, tenantStream(tenantId), { limit: 1 });
    if (first) {
      const { tenant } = first.data as LifecycleEventData['TenantRequested'];
      if (tenant.subscriptionId !== subscriptionId) {
        // Only the same customer may take over a tenant: anything else is a suffix collision lost in a race.
        if (tenant.adminEmail.toLowerCase() !== email.toLowerCase()) {
          throw new UseCaseError(
            'INTAKE.TENANT_ID_COLLISION',
            `subscription ${subscriptionId} is reserved for tenant ${tenantId} of another customer`,
          );
        }
        return this.reactivate(tenantId, request, duplicate);
      }
      await this.reservations.linkCustomer(email, tenantId, subscriptionId);
      return this.provisionAgainIfFailed(tenantId, subscriptionId, duplicate);
    }

    const domain = await this.reservations.reserveDomain(tenantId, subscriptionId);
    const requested: LifecycleEventData['TenantRequested'] = {
      tenant: tenantProfile(request, tenantId, domain),
      source,
    };
    const id = deterministicId('tenant-requested', subscriptionId);
    try {
      await this.store.append(
        tenantStream(tenantId),
        [billingEvent(id, 'TenantRequested', requested, tenantId, subscriptionId, this.clock())],
        { expectedRevision: 'no_stream' },
      );
    } catch (error) {
      if (!(error instanceof WrongExpectedVersionError)) throw error;
      // A concurrent delivery of the same subscription completed first: answer with what it wrote.
      return this.complete(tenantId, request, source, true);
    }
    await this.reservations.linkCustomer(email, tenantId, subscriptionId);
    return { tenantId, domain, status: 'provisioning', duplicate };
  }

  /**
   * The subscription's tenant exists: if its last provisioning run failed and was rolled back, billing's repeated
   * subscription.created starts a fresh run of the same tenant id and domain (`ReprovisioningRequested`, its id
   * derived from the run so that concurrent deliveries start one run); while that rollback is still going it is
   * refused, to be sent again later; otherwise the delivery changes nothing.
   */
  private provisionAgainIfFailed(
    tenantId: string,
    subscriptionId: string,
    duplicate: boolean,
  ): Promise<SubscriptionAccepted> {
    return decideOnTenant(this.store, tenantId, intakeErrors(tenantId), (read) => {
      const accepted = { tenantId, domain: read.state.tenant!.domain, status: 'provisioning' as const };
      const { status } = read.state;
      if (status !== 'failed' && status !== 'rolling_back') {
        return { append: [], result: { ...accepted, duplicate } };
      }
      const now = this.clock();
      const admission = admitReprovisioning(read.state, {
        reason: `subscription.created of subscription ${subscriptionId} received again`,
        requestedBy: 'billing',
        requestedAt: now.toISOString(),
      });
      if (isRefusal(admission)) throw refusalError(admission, REPROVISION_REFUSALS);
      const run = String(provisioningRun(read.state) + 1);
      const id = deterministicId('reprovisioning-requested', tenantId, run);
      const append = admission.events.map((event) =>
        billingEvent(id, event.type, event.data, tenantId, [event.type, subscriptionId, run], now),
      );
      return { append, result: { ...accepted, duplicate: false } };
    });
  }

  private async reactivate(
    tenantId: string,
    request: SubscriptionCreatedDto,
    duplicate: boolean,
  ): Promise<SubscriptionAccepted> {
    const subscriptionId = request.data.subscription_id;
    const eventId = deterministicId('tenant-reactivated', subscriptionId, tenantId);
    const outcome = await decideOnTenant(this.store, tenantId, intakeErrors(tenantId), (read) => {
      const domain = read.state.tenant!.domain;
      if (earlierEvent(read, eventId)) {
        return {
          append: [],
          result: { tenantId, domain, status: 'reactivating' as const, duplicate: true, recorded: false },
        };
      }
      const data: LifecycleEventData['TenantReactivated'] = {
        subscriptionId,
        reactivatedAt: this.clock().toISOString(),
        requestedAt: isoOf(request.timestamp),
        requestedBy: 'billing',
      };
      if (isRefusal(admitSubscriptionReactivated(read.state, { data, checkSubscription: false }))) {
        // Purge began between reservation and now: the reservation stands, the operator sees the refusal.
        throw new UseCaseError('INTAKE.TENANT_PURGED', `tenant ${tenantId} can no longer be reactivated`);
      }
      return {
        append: [billingEvent(eventId, 'TenantReactivated', data, tenantId, subscriptionId, this.clock())],
        result: { tenantId, domain, status: 'reactivating' as const, duplicate, recorded: true },
      };
    });
    const { recorded, ...accepted } = outcome;
    if (recorded) await this.reservations.linkCustomer(request.data.customer.email, tenantId, subscriptionId);
    return accepted;
  }
}

/** The one refusal a repeated subscription.created can meet: the failed run is still being rolled back. */
const REPROVISION_REFUSALS: RefusalCodes = {
  [REFUSAL_CODES.ROLLBACK_NOT_COMPLETE]: 'INTAKE.ROLLBACK_NOT_COMPLETE',
};

function tenantProfile(request: SubscriptionCreatedDto, tenantId: string, domain: string): TenantProfile {
  const { customer, plan, metadata } = request.data;
  return {
    tenantId,
    companyName: customer.name,
    adminEmail: customer.email,
    billingEmail: customer.billing_email ?? customer.email,
    tier: plan.tier,
    region: metadata.region,
    domain,
    subscriptionId: request.data.subscription_id,
    plan: { price: plan.price, currency: plan.currency, billingPeriod: plan.billing_period },
    ...(metadata.company_size ? { companySize: metadata.company_size } : {}),
    ...(metadata.industry ? { industry: metadata.industry } : {}),
    createdAt: new Date(request.timestamp).toISOString(),
  };
}
