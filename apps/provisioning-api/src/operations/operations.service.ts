import { randomUUID } from 'node:crypto';
import {
  buildMetadata,
  deterministicId,
  isTenantId,
  tenantStream,
  type LifecycleEventData,
  type MessageMetadata,
  type Violation,
} from '@app/contracts';
import {
  StreamNotFoundError,
  decideAndAppend,
  type EventData,
  type EventStore,
  type RecordedEvent,
} from '@app/event-store';
import {
  REFUSAL_CODES,
  admitOperatorCancel,
  admitOperatorPurge,
  admitOperatorRetry,
  foldTenant,
  isRefusal,
  type Admission,
  type LifecycleRefusal,
  type RefusalCode,
  type TenantState,
} from '@app/lifecycle';
import { OperationError, OPERATION_ERROR_CODES, type OperationErrorCode } from './operations.errors';

/**
 * Who acts: the operator token's name (HTTP; `oidc:<claim>` for OpenID Connect callers, the claim may be an
 * e-mail address) or `$USER` / `--as` (tenantctl). Shown as `operator:<name>`.
 */
export const OPERATOR_NAME_PATTERN = /^(?:oidc:)?[a-zA-Z0-9_.@-]{1,64}$/;
/** Step keys of the orchestrator: `databases`, `compensate:namespace`, `purge:storage`, `cancel-1:backup-2:storage`. */
export const STEP_KEY_PATTERN = /^[a-z0-9][a-z0-9:-]{0,99}$/;
export const IDEMPOTENCY_KEY_PATTERN = /^[A-Za-z0-9_.:-]{1,128}$/;
export const REASON_MAX_LENGTH = 500;
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;
const DAY_MS = 24 * 60 * 60 * 1000;

/** Fields come straight from a request body or the command line: the use case validates them. */
export interface RetryRequest {
  tenantId: string;
  step: unknown;
  reason: unknown;
  operator: string;
  idempotencyKey?: unknown;
}

export interface CancelRequest {
  tenantId: string;
  reason: unknown;
  operator: string;
  idempotencyKey?: unknown;
}

/** An operator's purge request has the cancellation's shape: a tenant, a reason, an optional idempotency key. */
export type PurgeRequest = CancelRequest;

export interface PurgeAccepted {
  tenantId: string;
  eventId: string;
  requestedAt: string;
  /** The deletion date the purge no longer waits for. */
  deletionDate: string;
  duplicate: boolean;
}

export interface RetryAccepted {
  tenantId: string;
  step: string;
  eventId: string;
  /** True when this Idempotency-Key was already used for the same request: nothing new was appended. */
  duplicate: boolean;
}

export interface CancellationAccepted {
  tenantId: string;
  eventId: string;
  deletionDate: string;
  duplicate: boolean;
}

export interface TenantOperationsOptions {
  gracePeriodDays: number;
  now?: () => Date;
  /** Event id when no Idempotency-Key is given. */
  newId?: () => string;
}

export const operatorActor = (operator: string): string => `operator:${operator}`;

/**
 * Operator actions, shared by the HTTP API and tenantctl. Each appends one lifecycle event to the
 * tenant stream, naming who and why; the orchestrator's decider acts on it. A request is checked against the
 * stream first so that an action the decider would silently ignore is refused with a reason instead.
 */
export class TenantOperations {
  private readonly now: () => Date;
  private readonly newId: () => string;

  constructor(
    private readonly store: EventStore,
    private readonly options: TenantOperationsOptions,
  ) {
    this.now = options.now ?? (() => new Date());
    this.newId = options.newId ?? randomUUID;
  }

  /**
   * `OperatorRetryRequested`. The orchestrator re-issues only a parked step (a compensation, an after-activation
   * step or a purge step that failed for good) or a blocked backup round (`backup`, or a key of that round);
   * failed and timed-out steps are still its own to retry or roll back, so a request for them is refused.
   */
  async requestRetry(request: RetryRequest): Promise<RetryAccepted> {
    const violations = [
      ...tenantViolations(request.tenantId),
      ...stepViolations(request.step),
      ...reasonViolations(request.reason),
      ...operatorViolations(request.operator),
      ...idempotencyViolations(request.idempotencyKey),
    ];
    if (violations.length > 0) throw invalid(violations);
    const { tenantId, operator } = request;
    const step = request.step as string;
    const reason = (request.reason as string).trim();
    const key = request.idempotencyKey as string | undefined;
    const eventId = key ? deterministicId('operator-retry', tenantId, key) : this.newId();
    const data: LifecycleEventData['OperatorRetryRequested'] = { step, reason, operator };

    return this.decide<RetryAccepted>(tenantId, async ({ events, state }) => {
      const earlier = events.find((event) => event.id === eventId);
      if (earlier) {
        assertSameRequest(earlier, 'OperatorRetryRequested', data);
        return { result: { tenantId, step, eventId, duplicate: true } };
      }
      return {
        append: this.admitted(tenantId, eventId, admitOperatorRetry(state, data), operator),
        result: { tenantId, step, eventId, duplicate: false },
      };
    });
  }

  /**
   * The checks every operator request with a reason shares, and its event id: derived from the idempotency key
   * when one is given (a repeat finds the first event), else new.
   */
  private reasonedRequest(request: CancelRequest, kind: 'operator-cancel' | 'operator-purge') {
    const violations = [
      ...tenantViolations(request.tenantId),
      ...reasonViolations(request.reason),
      ...operatorViolations(request.operator),
      ...idempotencyViolations(request.idempotencyKey),
    ];
    if (violations.length > 0) throw invalid(violations);
    const key = request.idempotencyKey as string | undefined;
    return {
      tenantId: request.tenantId,
      operator: request.operator,
      reason: (request.reason as string).trim(),
      eventId: key ? deterministicId(kind, request.tenantId, key) : this.newId(),
    };
  }

  /** `CancellationRequested` by an operator: the grace period starts now; refused unless active or suspended. */
  async requestCancellation(request: CancelRequest): Promise<CancellationAccepted> {
    const { tenantId, operator, reason, eventId } = this.reasonedRequest(request, 'operator-cancel');

    return this.decide<CancellationAccepted>(tenantId, async ({ events, state }) => {
      const earlier = events.find((event) => event.id === eventId);
      if (earlier) {
        const recorded = earlier.data as LifecycleEventData['CancellationRequested'];
        assertSameRequest(earlier, 'CancellationRequested', {
          reason,
          requestedBy: operatorActor(operator),
        });
        return { result: { tenantId, eventId, deletionDate: recorded.deletionDate, duplicate: true } };
      }
      const now = this.now();
      const deletionDate = new Date(now.getTime() + this.options.gracePeriodDays * DAY_MS).toISOString();
      const admission = admitOperatorCancel(state, {
        reason,
        requestedAt: now.toISOString(),
        deletionDate,
        requestedBy: operatorActor(operator),
      });
      return {
        append: this.admitted(tenantId, eventId, admission, operator),
        result: { tenantId, eventId, deletionDate, duplicate: false },
      };
    });
  }

  /**
   * `OperatorPurgeRequested`: the purge of a tenant in its grace period starts now instead of at its deletion
   * date. The orchestrator still takes and verifies a final backup first, through the purge guardrails (hourly
   * cap, mass-cancellation breaker). Refused outside the grace period and when a purge was already requested.
   */
  async requestPurge(request: PurgeRequest): Promise<PurgeAccepted> {
    const { tenantId, operator, reason, eventId } = this.reasonedRequest(request, 'operator-purge');

    return this.decide<PurgeAccepted>(tenantId, async ({ events, state }) => {
      const earlier = events.find((event) => event.id === eventId);
      if (earlier) {
        assertSameRequest(earlier, 'OperatorPurgeRequested', { reason, operator });
        const recorded = earlier.data as LifecycleEventData['OperatorPurgeRequested'];
        return {
          result: {
            tenantId,
            eventId,
            requestedAt: recorded.requestedAt,
            deletionDate: state.cancellation?.deletionDate ?? '',
            duplicate: true,
          },
        };
      }
      const data: LifecycleEventData['OperatorPurgeRequested'] = {
        reason,
        operator,
        requestedAt: this.now().toISOString(),
      };
      return {
        append: this.admitted(tenantId, eventId, admitOperatorPurge(state, data), operator),
        result: {
          tenantId,
          eventId,
          requestedAt: data.requestedAt,
          deletionDate: state.cancellation?.deletionDate ?? '',
          duplicate: false,
        },
      };
    });
  }

  private async load(tenantId: string): Promise<{ events: RecordedEvent[]; state: TenantState }> {
    let events: RecordedEvent[];
    try {
      events = await this.store.readStream(tenantStream(tenantId));
    } catch (error) {
      if (error instanceof StreamNotFoundError) throw notFound(tenantId);
      throw error;
    }
    const state = foldTenant(events);
    if (!state.tenant) throw notFound(tenantId);
    return { events, state };
  }

  /**
   * The tenant read and folded, one decision on it, its event appended at the revision read (on a conflict,
   * read and decide again: libs/event-store's one command-handling path).
   */
  private decide<R>(
    tenantId: string,
    decision: (read: {
      events: RecordedEvent[];
      state: TenantState;
    }) => Promise<{ append?: EventData<unknown, MessageMetadata>; result: R }>,
  ): Promise<R> {
    return decideAndAppend(
      this.store,
      tenantStream(tenantId),
      async () => {
        const read = await this.load(tenantId);
        const { append, result } = await decision(read);
        return {
          append: append ? [append] : [],
          expectedRevision: read.events[read.events.length - 1].revision,
          result,
        };
      },
      { exhausted: () => busy(tenantId) },
    );
  }

  /** The admitted event with its id and metadata, or the refusal as this app's error. */
  private admitted(
    tenantId: string,
    eventId: string,
    admission: Admission,
    operator: string,
  ): EventData<unknown, MessageMetadata> {
    if (isRefusal(admission)) throw refusedBy(admission);
    const [event] = admission.events;
    return this.event(tenantId, eventId, event.type as OperatorEventType, event.data, operator);
  }

  private event<T>(
    tenantId: string,
    eventId: string,
    type: OperatorEventType,
    data: T,
    operator: string,
  ): EventData<T, MessageMetadata> {
    const metadata = buildMetadata(
      // A new business request: it starts its own correlation.
      {
        tenantId,
        correlationId: deterministicId('operator-action', eventId),
        actor: operatorActor(operator),
      },
      eventId,
      this.now(),
    );
    return { id: eventId, type, data, metadata };
  }
}

type OperatorEventType = 'OperatorRetryRequested' | 'CancellationRequested' | 'OperatorPurgeRequested';

const REFUSAL_ERRORS: Partial<Record<RefusalCode, OperationErrorCode>> = {
  [REFUSAL_CODES.TENANT_NOT_FOUND]: OPERATION_ERROR_CODES.TENANT_NOT_FOUND,
  [REFUSAL_CODES.STEP_NOT_RETRYABLE]: OPERATION_ERROR_CODES.STEP_NOT_RETRYABLE,
  [REFUSAL_CODES.NOT_CANCELLABLE]: OPERATION_ERROR_CODES.NOT_CANCELLABLE,
  [REFUSAL_CODES.NOT_IN_GRACE_PERIOD]: OPERATION_ERROR_CODES.NOT_IN_GRACE_PERIOD,
  [REFUSAL_CODES.PURGE_ALREADY_REQUESTED]: OPERATION_ERROR_CODES.PURGE_ALREADY_REQUESTED,
};

function refusedBy(refusal: LifecycleRefusal): OperationError {
  const code = REFUSAL_ERRORS[refusal.code];
  if (!code)
    throw new Error(`operator request refused with unexpected code ${refusal.code}: ${refusal.message}`);
  return new OperationError(code, refusal.message);
}

function assertSameRequest(earlier: RecordedEvent, type: string, expected: Record<string, unknown>): void {
  const recorded = earlier.data as Record<string, unknown>;
  const same =
    earlier.type === type && Object.entries(expected).every(([key, value]) => recorded[key] === value);
  if (!same) {
    throw new OperationError(
      OPERATION_ERROR_CODES.IDEMPOTENCY_KEY_REUSED,
      'this Idempotency-Key was already used for a different request',
    );
  }
}

function violation(field: string, rule: string, message: string): Violation[] {
  return [{ field, rules: [rule], messages: [message] }];
}

function tenantViolations(tenantId: unknown): Violation[] {
  return isTenantId(tenantId)
    ? []
    : violation('tenant_id', 'matches', 'tenant id must look like abc-corporation-7f3a9c');
}

function stepViolations(step: unknown): Violation[] {
  return typeof step === 'string' && STEP_KEY_PATTERN.test(step)
    ? []
    : violation('step', 'matches', `step must match ${STEP_KEY_PATTERN}`);
}

function reasonViolations(reason: unknown): Violation[] {
  if (typeof reason !== 'string' || reason.trim().length === 0) {
    return violation('reason', 'isNotEmpty', 'reason is required');
  }
  if (reason.length > REASON_MAX_LENGTH) {
    return violation('reason', 'maxLength', `reason must be at most ${REASON_MAX_LENGTH} characters`);
  }
  return CONTROL_CHARACTERS.test(reason)
    ? violation('reason', 'noControlCharacters', 'reason must be a single line of text')
    : [];
}

function operatorViolations(operator: unknown): Violation[] {
  return typeof operator === 'string' && OPERATOR_NAME_PATTERN.test(operator)
    ? []
    : violation('operator', 'matches', `operator name must match ${OPERATOR_NAME_PATTERN}`);
}

function idempotencyViolations(key: unknown): Violation[] {
  return key === undefined || (typeof key === 'string' && IDEMPOTENCY_KEY_PATTERN.test(key))
    ? []
    : violation('idempotency_key', 'matches', `Idempotency-Key must match ${IDEMPOTENCY_KEY_PATTERN}`);
}

function invalid(violations: Violation[]): OperationError {
  return new OperationError(OPERATION_ERROR_CODES.VALIDATION_FAILED, 'invalid request', violations);
}

function notFound(tenantId: string): OperationError {
  return new OperationError(OPERATION_ERROR_CODES.TENANT_NOT_FOUND, `tenant ${tenantId} not found`);
}

function busy(tenantId: string): OperationError {
  return new OperationError(OPERATION_ERROR_CODES.CONCURRENCY_EXHAUSTED, `tenant ${tenantId} is too busy`);
}
