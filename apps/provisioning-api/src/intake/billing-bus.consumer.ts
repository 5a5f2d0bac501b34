import { API_INTAKE_QUEUE, BILLING_EVENTS } from '@app/contracts';
import { PermanentError, type MessageConsumer, type MessageHandler } from '@app/messaging';
import type { Logger } from 'pino';
import { INTAKE_ERROR_CODES, IntakeError } from './intake.errors';
import type { SubscriptionIntake } from './intake.service';

/** Refusals that pass with time (a busy stream, a change still being applied): retried, not parked. */
const RETRIED_CODES: ReadonlySet<string> = new Set([
  INTAKE_ERROR_CODES.CONCURRENCY_EXHAUSTED,
  INTAKE_ERROR_CODES.CHANGE_IN_PROGRESS,
]);

/**
 * Billing's second path to intake (DESIGN.md section 2): the same `subscription.*` payloads as the webhooks,
 * published on `billing.events` inside the house envelope `{ type, data, metadata }` (type
 * `subscription.created|cancelled|updated|suspended|resumed|reactivated`, data the webhook's payload; metadata.tenantId is the tenant
 * id when billing knows it, else the subscription id). Both paths share one intake, so a subscription
 * delivered over both still yields one tenant. A payload intake refuses is parked with its reason; anything
 * else (event store unavailable, a lost race) is retried.
 */
export async function startBillingBusIntake(
  intake: SubscriptionIntake,
  consumer: MessageConsumer,
  logger: Logger,
): Promise<void> {
  const refuse = (error: unknown): never => {
    if (error instanceof IntakeError && !RETRIED_CODES.has(error.code)) {
      const rules = error.violations.map((v) => `${v.field}: ${v.messages.join(', ')}`).join('; ');
      throw new PermanentError(error.code, rules ? `${error.message}: ${rules}` : error.message);
    }
    throw error;
  };
  const created: MessageHandler = {
    handle: async (message) => {
      const accepted = await intake.acceptSubscriptionCreated(message.data, 'bus').catch(refuse);
      logger.info({ tenantId: accepted.tenantId, via: 'bus' }, 'subscription accepted');
    },
  };
  const cancelled: MessageHandler = {
    handle: async (message) => {
      await intake.acceptSubscriptionCancelled(message.data, 'bus').catch(refuse);
    },
  };
  const change = (
    accept: (payload: unknown) => Promise<{ tenantId: string }>,
    type: string,
  ): MessageHandler => ({
    handle: async (message) => {
      const accepted = await accept(message.data).catch(refuse);
      logger.info({ tenantId: accepted.tenantId, type, via: 'bus' }, 'subscription change accepted');
    },
  });
  const handlers: Record<string, MessageHandler> = {
    [BILLING_EVENTS.created]: created,
    [BILLING_EVENTS.cancelled]: cancelled,
    [BILLING_EVENTS.updated]: change(
      (p) => intake.acceptSubscriptionUpdated(p, 'bus'),
      BILLING_EVENTS.updated,
    ),
    [BILLING_EVENTS.suspended]: change(
      (p) => intake.acceptSubscriptionSuspended(p, 'bus'),
      BILLING_EVENTS.suspended,
    ),
    [BILLING_EVENTS.resumed]: change(
      (p) => intake.acceptSubscriptionResumed(p, 'bus'),
      BILLING_EVENTS.resumed,
    ),
    [BILLING_EVENTS.reactivated]: change(
      (p) => intake.acceptSubscriptionReactivated(p, 'bus'),
      BILLING_EVENTS.reactivated,
    ),
  };
  await consumer.subscribe({
    // billing.events reach intake through one queue: competing consumers across API replicas.
    queue: API_INTAKE_QUEUE,
    bindings: Object.keys(handlers).map((routingKey) => ({ exchange: 'billingEvents' as const, routingKey })),
    handlers,
    // Intake is idempotent per subscription id: redeliveries converge without a dedupe store.
    dedupe: false,
  });
}
