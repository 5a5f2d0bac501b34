import { API_INTAKE_QUEUE, BILLING_EVENTS } from '@app/contracts';
import {
  decodeBillingDelivery,
  PermanentError,
  type MessageConsumer,
  type MessageHandler,
} from '@app/messaging';
import { UseCaseError, type ErrorCode } from '@app/tenancy';
import type { CommandBus } from '@nestjs/cqrs';
import type { Logger } from 'pino';
import {
  AcceptSubscriptionCancelled,
  AcceptSubscriptionCreated,
  AcceptSubscriptionReactivated,
  AcceptSubscriptionResumed,
  AcceptSubscriptionSuspended,
  AcceptSubscriptionUpdated,
  type BillingCommand,
} from './intake.commands';
import type { IntakeSource } from './intake.types';

/** Refusals that pass with time (a busy stream, a change still being applied): retried, not parked. */
const RETRIED_CODES: ReadonlySet<ErrorCode> = new Set([
  'INTAKE.CONCURRENCY_EXHAUSTED',
  'INTAKE.CHANGE_IN_PROGRESS',
  // A resent subscription.created while the failed run is still rolling back: it starts the next run once done.
  'INTAKE.ROLLBACK_NOT_COMPLETE',
]);

type BillingCommandType = new (
  payload: unknown,
  source: IntakeSource,
) => BillingCommand<{ tenantId: string }>;

const COMMANDS: Record<string, BillingCommandType> = {
  [BILLING_EVENTS.created]: AcceptSubscriptionCreated,
  [BILLING_EVENTS.cancelled]: AcceptSubscriptionCancelled,
  [BILLING_EVENTS.updated]: AcceptSubscriptionUpdated,
  [BILLING_EVENTS.suspended]: AcceptSubscriptionSuspended,
  [BILLING_EVENTS.resumed]: AcceptSubscriptionResumed,
  [BILLING_EVENTS.reactivated]: AcceptSubscriptionReactivated,
};

/** A refusal is parked with its code and every violated rule; anything else is retried. */
function refuse(error: unknown): never {
  if (error instanceof UseCaseError && !RETRIED_CODES.has(error.code)) {
    const rules = error.violations.map((v) => `${v.field}: ${v.messages.join(', ')}`).join('; ');
    throw new PermanentError(error.code, rules ? `${error.message}: ${rules}` : error.message);
  }
  throw error;
}

/**
 * Billing's second path to intake (DESIGN.md section 2): the same `subscription.*` payloads as the webhooks,
 * published on `billing.events` inside the house envelope `{ type, data, metadata }` (type
 * `subscription.created|cancelled|updated|suspended|resumed|reactivated`, data the webhook's payload;
 * metadata.tenantId is the tenant id when billing knows it, else the subscription id). Both paths send the same
 * commands, so a subscription delivered over both still yields one tenant. A payload intake refuses is parked
 * with its reason; anything else (event store unavailable, a lost race) is retried.
 */
export async function startBillingBusIntake(
  commandBus: CommandBus,
  consumer: MessageConsumer,
  logger: Logger,
): Promise<void> {
  const handlers: Record<string, MessageHandler> = Object.fromEntries(
    Object.entries(COMMANDS).map(([type, Accept]) => [
      type,
      {
        handle: async (message) => {
          const accepted = await commandBus.execute(new Accept(message.data, 'bus')).catch(refuse);
          logger.info({ tenantId: accepted.tenantId, type, via: 'bus' }, 'subscription event accepted');
        },
      },
    ]),
  );
  await consumer.subscribe({
    // billing.events reach intake through one queue: competing consumers across API replicas.
    queue: API_INTAKE_QUEUE,
    bindings: Object.keys(handlers).map((routingKey) => ({ exchange: 'billingEvents' as const, routingKey })),
    handlers,
    // Billing's CloudEvents (structured or binary mode) beside the house envelope.
    decode: decodeBillingDelivery,
    // Copies of one message id (a CloudEvent's `id`, an envelope's `messageId`) are acknowledged without running
    // intake again, as the CloudEvents spec lets consumers assume (the default in-memory store). It is an
    // optimisation, not the guarantee: across restarts and replicas intake itself is idempotent per subscription
    // and billing timestamp, so a copy the store no longer remembers converges on the same answer.
  });
}
