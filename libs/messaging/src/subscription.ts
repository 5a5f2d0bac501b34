import type { Logger } from 'pino';
import type { DeliveryDecoder } from './cloudevents';
import type { DedupeStore } from './dedupe';
import type { Message } from './envelope';
import type { ErrorClassification } from './errors';
import type { ExchangeKey, RetryPolicy } from './options';

/**
 * What a consumer of this library declares and receives: the subscription (queue, bindings, handlers, failure
 * policy), the handler's contract and context, the record of a parked message, and the observer port.
 */

export interface HandlerContext {
  /** 1-based handler attempt (first delivery = 1, each retry adds one). */
  attempt: number;
  /** True when the broker delivers this copy again (lost ack, crashed consumer). */
  redelivered: boolean;
  exchange: string;
  routingKey: string;
  /** Logger carrying the message's correlation, causation and message ids. */
  logger: Logger;
  /**
   * Aborted when the handler deadline passes: the consumer has already scheduled a retry and will ignore
   * whatever this run does from then on, so a handler that can stop early should.
   */
  signal: AbortSignal;
}

export interface MessageHandler<T extends Message = Message> {
  /** Resolves only once the handler's effect is durable: the delivery is acknowledged right after. */
  handle(message: T, context: HandlerContext): Promise<void>;
  /** The violated rules of an invalid message (empty or undefined when valid); invalid messages are parked. */
  validate?(message: Message): readonly string[] | undefined;
}

/** Why a message was parked; stored in the `x-park-reason` header. */
export type ParkReason =
  | 'malformed'
  | 'unknown-type'
  | 'validation-failed'
  | 'permanent-error'
  | 'retries-exhausted'
  | 'redelivery-limit';

export interface ParkedMessage {
  queue: string;
  reason: ParkReason;
  error: ErrorClassification;
  /** Handler attempts made (0 when the message never reached a handler). */
  attempts: number;
  /** The envelope, when the body could be decoded (absent for malformed messages). */
  envelope?: Message;
  messageId?: string;
  correlationId?: string;
  type?: string;
  exchange: string;
  routingKey: string;
}

export interface SubscriptionBinding {
  exchange: ExchangeKey;
  /** Topic pattern, e.g. `database.#`. */
  routingKey: string;
}

export interface Subscription {
  /** Queue name without the connection's queue prefix, e.g. `provisioning.database-service`. */
  queue: string;
  bindings: readonly SubscriptionBinding[];
  /** Handler per message type; a type without handler is parked as `unknown-type`. */
  handlers: Readonly<Record<string, MessageHandler>>;
  /**
   * Reads a delivery into the envelope the handlers take; default the house envelope only. `decodeBillingDelivery`
   * also takes billing's CloudEvents, `decodeIntegrationDelivery` reads the CloudEvents of `tenant.events`.
   */
  decode?: DeliveryDecoder;
  /**
   * Called before a message is parked (e.g. to append a failure event to the tenant stream). The message
   * is moved to the parking queue only after it resolves; if it throws, the message comes back after the
   * longest retry delay and the hook is called again, so it must be idempotent.
   */
  onParked?: (parked: ParkedMessage) => Promise<void>;
  /** Defaults to an in-memory LRU; `false` turns deduplication off for naturally idempotent handlers. */
  dedupe?: DedupeStore | false;
  prefetch?: number;
  retry?: Partial<RetryPolicy>;
  /** Overrides the connection's `handlerTimeoutMs` for this queue. */
  handlerTimeoutMs?: number;
}

/**
 * Watches a consumer from outside (e.g. metrics): told which queues it consumes and each message it parked.
 * Called synchronously; a listener that throws is ignored, so watching can never change what the consumer does.
 */
export interface ConsumerObserver {
  /** A queue (prefix included) is now consumed. */
  subscribed?(queue: string): void;
  /** The message is in the parking queue. */
  parked?(parked: ParkedMessage): void;
}
