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
import { foldTenantSummary, toSummaryEvent, type TenantSummary } from '../tenants/tenant-summary.projection';
import { OperationError, OPERATION_ERROR_CODES } from './operations.errors';

/**
 * Who acts: the operator token's name (HTTP; `oidc:<claim>` for OpenID Connect callers, the claim may be an
 * e-mail address) or `$USER` / `--as` (tenantctl). Shown as `operator:<name>`.
 */
export const OPERATOR_NAME_PATTERN = /^(?:oidc:)?[a-zA-Z0-9_.@-]{1,64}$/;
/** Step keys of the orchestrator: `databases`, `compensate:namespace`, `purge:storage`, `cancel-1:backup-2:storage`. */
export const STEP_KEY_PATTERN = /^[a-z0-9][a-z0-9:-]{0,99}$/;
export const IDEMPOTENCY_KEY_PATTERN = /^[A-Za-z0-9_.:-]{1,128}$/;
export const REASON_MAX_LENGTH = 500;
/** The orchestrator's name for "retry the blocked backup round" (any key of that round works too). */
export const BACKUP_RETRY_STEP = 'backup';

const BACKUP_STEP_KEY = /^cancel-(\d+):backup-(\d+):(?:databases|storage|verify-databases|verify-storage)$/;
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

    return this.decide<RetryAccepted>(tenantId, async ({ events, summary }) => {
      const earlier = events.find((event) => event.id === eventId);
      if (earlier) {
        assertSameRequest(earlier, 'OperatorRetryRequested', data);
        return { result: { tenantId, step, eventId, duplicate: true } };
      }
      assertRetryable(summary, events, step);
      return {
        append: this.event(tenantId, eventId, 'OperatorRetryRequested', data, operator),
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

    return this.decide<CancellationAccepted>(tenantId, async ({ events, summary }) => {
      const earlier = events.find((event) => event.id === eventId);
      if (earlier) {
        const recorded = earlier.data as LifecycleEventData['CancellationRequested'];
        assertSameRequest(earlier, 'CancellationRequested', {
          reason,
          requestedBy: operatorActor(operator),
        });
        return { result: { tenantId, eventId, deletionDate: recorded.deletionDate, duplicate: true } };
      }
      if (summary.status !== 'active' && summary.status !== 'suspended') {
        throw new OperationError(
          OPERATION_ERROR_CODES.NOT_CANCELLABLE,
          `tenant ${tenantId} is ${summary.status}: only an active or suspended tenant can be cancelled`,
        );
      }
      const now = this.now();
      const deletionDate = new Date(now.getTime() + this.options.gracePeriodDays * DAY_MS).toISOString();
      const data: LifecycleEventData['CancellationRequested'] = {
        subscriptionId: summary.subscriptionId,
        reason,
        requestedAt: now.toISOString(),
        deletionDate,
        requestedBy: operatorActor(operator),
      };
      return {
        append: this.event(tenantId, eventId, 'CancellationRequested', data, operator),
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

    return this.decide<PurgeAccepted>(tenantId, async ({ events, summary }) => {
      const earlier = events.find((event) => event.id === eventId);
      if (earlier) {
        assertSameRequest(earlier, 'OperatorPurgeRequested', { reason, operator });
        const recorded = earlier.data as LifecycleEventData['OperatorPurgeRequested'];
        return {
          result: {
            tenantId,
            eventId,
            requestedAt: recorded.requestedAt,
            deletionDate: summary.deprovisioning?.deletionDate ?? '',
            duplicate: true,
          },
        };
      }
      if (
        summary.status !== 'deprovisioning' ||
        !summary.deprovisioning ||
        summary.deprovisioning.purgeStartedAt
      ) {
        const state = summary.deprovisioning?.purgeStartedAt ? 'being purged' : summary.status;
        throw new OperationError(
          OPERATION_ERROR_CODES.NOT_IN_GRACE_PERIOD,
          `tenant ${tenantId} is ${state}: only a tenant in its grace period (cancelled, purge not started) can be purged early`,
        );
      }
      const pending = pendingPurgeRequest(events);
      if (pending) {
        throw new OperationError(
          OPERATION_ERROR_CODES.PURGE_ALREADY_REQUESTED,
          `operator ${pending.operator} already requested the purge of tenant ${tenantId} at ${pending.requestedAt}`,
        );
      }
      const data: LifecycleEventData['OperatorPurgeRequested'] = {
        reason,
        operator,
        requestedAt: this.now().toISOString(),
      };
      return {
        append: this.event(tenantId, eventId, 'OperatorPurgeRequested', data, operator),
        result: {
          tenantId,
          eventId,
          requestedAt: data.requestedAt,
          deletionDate: summary.deprovisioning.deletionDate,
          duplicate: false,
        },
      };
    });
  }

  private async load(tenantId: string): Promise<{ events: RecordedEvent[]; summary: TenantSummary }> {
    let events: RecordedEvent[];
    try {
      events = await this.store.readStream(tenantStream(tenantId));
    } catch (error) {
      if (error instanceof StreamNotFoundError) throw notFound(tenantId);
      throw error;
    }
    const summary = foldTenantSummary(events.map(toSummaryEvent));
    if (!summary) throw notFound(tenantId);
    return { events, summary };
  }

  /**
   * The tenant read and folded, one decision on it, its event appended at the revision read (on a conflict,
   * read and decide again: libs/event-store's one command-handling path).
   */
  private decide<R>(
    tenantId: string,
    decision: (read: {
      events: RecordedEvent[];
      summary: TenantSummary;
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

  private event<T>(
    tenantId: string,
    eventId: string,
    type: 'OperatorRetryRequested' | 'CancellationRequested' | 'OperatorPurgeRequested',
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

/** Keys of the backup round a `PurgeBlocked` holds back, or undefined when no backup is blocked now. */
export function blockedBackupKeys(
  summary: TenantSummary,
  events: readonly RecordedEvent[],
): string[] | undefined {
  if (summary.status !== 'deprovisioning' || summary.deprovisioning?.purgeStartedAt) return undefined;
  let blocked = false;
  for (const event of events) {
    if (event.type === 'PurgeBlocked') blocked = true;
    else if (
      ['BackupStarted', 'CancellationRequested', 'TenantReactivated', 'PurgeStarted'].includes(event.type)
    )
      blocked = false;
  }
  if (!blocked) return undefined;
  let latest: { cycle: number; round: number } | undefined;
  for (const key of Object.keys(summary.steps)) {
    const match = BACKUP_STEP_KEY.exec(key);
    if (!match) continue;
    const cycle = Number(match[1]);
    const round = Number(match[2]);
    if (!latest || cycle > latest.cycle || (cycle === latest.cycle && round > latest.round)) {
      latest = { cycle, round };
    }
  }
  const prefix = latest ? `cancel-${latest.cycle}:backup-${latest.round}:` : undefined;
  return [BACKUP_RETRY_STEP, ...Object.keys(summary.steps).filter((key) => prefix && key.startsWith(prefix))];
}

/** Steps an operator may retry now: parked steps, plus the blocked backup round's keys. */
export function retryableSteps(summary: TenantSummary, events: readonly RecordedEvent[]): string[] {
  const parked = Object.values(summary.steps)
    .filter((step) => step.status === 'parked')
    .map((step) => step.step);
  return [...parked, ...(blockedBackupKeys(summary, events) ?? [])];
}

/** The purge request of the current grace period, if one was made (a reactivation ends the grace period). */
function pendingPurgeRequest(
  events: readonly RecordedEvent[],
): LifecycleEventData['OperatorPurgeRequested'] | undefined {
  let pending: LifecycleEventData['OperatorPurgeRequested'] | undefined;
  for (const event of events) {
    if (event.type === 'TenantReactivated') pending = undefined;
    else if (event.type === 'OperatorPurgeRequested') {
      pending = event.data as LifecycleEventData['OperatorPurgeRequested'];
    }
  }
  return pending;
}

function assertRetryable(summary: TenantSummary, events: readonly RecordedEvent[], step: string): void {
  const tenantId = summary.tenantId;
  if (summary.status === 'purged') {
    throw new OperationError(
      OPERATION_ERROR_CODES.STEP_NOT_RETRYABLE,
      `tenant ${tenantId} is purged: nothing left to retry`,
    );
  }
  const allowed = retryableSteps(summary, events);
  if (allowed.includes(step)) return;
  const current = summary.steps[step];
  const hint =
    allowed.length > 0 ? `retryable now: ${allowed.join(', ')}` : 'no step is waiting for an operator';
  if (!current && step !== BACKUP_RETRY_STEP) {
    throw new OperationError(
      OPERATION_ERROR_CODES.STEP_NOT_RETRYABLE,
      `tenant ${tenantId} has no step ${step} (${hint})`,
    );
  }
  const why =
    current?.status === 'failed' || current?.status === 'timed_out'
      ? `step ${step} is ${current.status}: the orchestrator retries it itself or rolls the tenant back; only parked steps wait for an operator`
      : step === BACKUP_RETRY_STEP
        ? 'no backup is blocked'
        : `step ${step} is ${current?.status ?? 'unknown'}, not parked`;
  throw new OperationError(OPERATION_ERROR_CODES.STEP_NOT_RETRYABLE, `tenant ${tenantId}: ${why} (${hint})`);
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
