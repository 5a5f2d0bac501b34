import {
  customerStream,
  deterministicId,
  domainFor,
  domainStream,
  generateTenantId,
  subscriptionStream,
  tenantStream,
  type ReservationEventData,
} from '@app/contracts';
import { EVENT_STORE, readStreamOrEmpty, WrongExpectedVersionError, type EventStore } from '@app/event-store';
import { foldTenant } from '@app/lifecycle';
import { CLOCK, UseCaseError, type Clock } from '@app/tenancy';
import { Inject, Injectable } from '@nestjs/common';
import { billingEvent } from './intake-events';
import type { IntakeOptions } from './intake.types';

const MAX_DOMAIN_ATTEMPTS = 999;
const MAX_TENANT_ID_ATTEMPTS = 20;

export const INTAKE_OPTIONS = Symbol('INTAKE_OPTIONS');

/**
 * The uniqueness reservations of a new subscription (DESIGN.md 4): its tenant id, its domain, the customer's
 * latest tenant. Each is a stream written with `no_stream`, so the first writer wins and a loser learns the
 * winner; a retry of the same reservation is an idempotent success.
 */
@Injectable()
export class SubscriptionReservations {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(INTAKE_OPTIONS) private readonly options: IntakeOptions,
  ) {}

  /** A tenant id whose stream does not exist yet; the 24-bit suffix can collide for companies sharing a slug. */
  async freshTenantId(companyName: string): Promise<string> {
    for (let attempt = 0; attempt < MAX_TENANT_ID_ATTEMPTS; attempt += 1) {
      const tenantId = generateTenantId(companyName, this.options.randomSuffix());
      const [first] = await readStreamOrEmpty(this.store, tenantStream(tenantId), { limit: 1 });
      if (!first) return tenantId;
    }
    throw new UseCaseError('INTAKE.TENANT_ID_EXHAUSTED', 'no free tenant id after several attempts');
  }

  async reservedTenant(subscriptionId: string): Promise<string | undefined> {
    const [first] = await readStreamOrEmpty(this.store, subscriptionStream(subscriptionId), { limit: 1 });
    return (first?.data as ReservationEventData['SubscriptionReserved'] | undefined)?.tenantId;
  }

  /** First writer wins; a loser learns the winner's tenant id. The event id includes the tenant id, so a
   * competing reservation is a conflict, while a retry of the same one is an idempotent success. */
  async reserveSubscription(
    subscriptionId: string,
    tenantId: string,
  ): Promise<{ tenantId: string; won: boolean }> {
    const data: ReservationEventData['SubscriptionReserved'] = { subscriptionId, tenantId };
    const id = deterministicId('subscription-reserved', subscriptionId, tenantId);
    try {
      await this.store.append(
        subscriptionStream(subscriptionId),
        [billingEvent(id, 'SubscriptionReserved', data, tenantId, subscriptionId, this.clock())],
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
  async reserveDomain(tenantId: string, subscriptionId: string): Promise<string> {
    for (let attempt = 1; attempt <= MAX_DOMAIN_ATTEMPTS; attempt += 1) {
      const domain = domainFor(tenantId, attempt);
      const stream = domainStream(domain);
      const data: ReservationEventData['DomainReserved'] = { domain, tenantId };
      const id = deterministicId('domain-reserved', domain, tenantId);
      try {
        await this.store.append(
          stream,
          [billingEvent(id, 'DomainReserved', data, tenantId, subscriptionId, this.clock())],
          { expectedRevision: 'no_stream' },
        );
        return domain;
      } catch (error) {
        if (!(error instanceof WrongExpectedVersionError)) throw error;
        const [first] = await this.store.readStream(stream, { limit: 1 });
        if ((first.data as ReservationEventData['DomainReserved']).tenantId === tenantId) return domain;
      }
    }
    throw new UseCaseError('INTAKE.DOMAIN_EXHAUSTED', `no free domain for tenant ${tenantId}`);
  }

  /** The customer's latest tenant, when it is in its grace period (spec: a new subscription reactivates it). */
  async tenantInGracePeriod(email: string): Promise<string | undefined> {
    const [latest] = await readStreamOrEmpty(this.store, customerStream(email), {
      direction: 'backwards',
      limit: 1,
    });
    const link = latest?.data as ReservationEventData['CustomerTenantLinked'] | undefined;
    if (!link) return undefined;
    const events = await readStreamOrEmpty(this.store, tenantStream(link.tenantId));
    return events.length > 0 && foldTenant(events).status === 'deprovisioning' ? link.tenantId : undefined;
  }

  async linkCustomer(email: string, tenantId: string, subscriptionId: string): Promise<void> {
    const stream = customerStream(email);
    const eventId = deterministicId('customer-linked', subscriptionId, tenantId);
    const existing = await readStreamOrEmpty(this.store, stream);
    if (existing.some((event) => event.id === eventId)) return;
    const data: ReservationEventData['CustomerTenantLinked'] = { tenantId, subscriptionId };
    try {
      // The revision read above, not `any`: EventStoreDB dedupes an event id reliably only then (DESIGN.md 4).
      await this.store.append(
        stream,
        [billingEvent(eventId, 'CustomerTenantLinked', data, tenantId, subscriptionId, this.clock())],
        { expectedRevision: existing.length > 0 ? existing[existing.length - 1].revision : 'no_stream' },
      );
    } catch (error) {
      if (!(error instanceof WrongExpectedVersionError)) throw error;
      // A concurrent writer linked first (the same link or a newer one); either way the link is recorded.
    }
  }
}
