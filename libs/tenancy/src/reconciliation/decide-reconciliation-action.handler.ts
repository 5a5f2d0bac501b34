import {
  buildEvent,
  deterministicId,
  isUuid,
  RECONCILIATION_ID_PATTERN,
  reconciliationStream,
  type ReconciliationEventData,
  type Violation,
} from '@app/contracts';
import { decideAndAppend, EVENT_STORE, readStreamOrEmpty, type EventStore } from '@app/event-store';
import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { invalidRequest, UseCaseError } from '../errors';
import {
  idempotencyKeyOf,
  idempotencyViolations,
  operatorActor,
  operatorViolations,
  REASON_MAX_LENGTH,
} from '../operations/operator-request';
import type { RequestsInFlight } from '../operations/requests-in-flight';
import { CLOCK, REQUESTS_IN_FLIGHT, TENANCY_OPTIONS, type Clock, type TenancyOptions } from '../tokens';
import {
  DecideReconciliationAction,
  type ActionDecided,
  type DecideActionRequest,
} from './reconciliation.commands';
import { foldReconciliation, type ReconciliationActionView } from './reconciliation-stream';
import { carryOut } from './tenant-actions';

function idViolations(field: string, value: unknown, valid: boolean): Violation[] {
  const got = JSON.stringify(value)?.slice(0, 40) ?? 'nothing';
  return valid
    ? []
    : [{ field, rules: ['isUuid'], messages: [`${field} must be a lowercase UUID (got ${got})`] }];
}

/** A decision's reason: required, one line (it is shown in terminals and the console), bounded. */
function reasonViolations(reason: unknown): Violation[] {
  const ok =
    typeof reason === 'string' &&
    reason.trim().length > 0 &&
    reason.length <= REASON_MAX_LENGTH &&
    // eslint-disable-next-line no-control-regex -- finding control characters is the point
    !/[\u0000-\u001f\u007f]/.test(reason);
  const message = `reason is required: one line of at most ${REASON_MAX_LENGTH} characters`;
  return ok ? [] : [{ field: 'reason', rules: ['isNotEmpty', 'maxLength'], messages: [message] }];
}

/** What a decision asks: its state, reason and, with an Idempotency-Key, the request id derived from it. */
interface Asked {
  state: 'accepted' | 'dismissed';
  reason: string;
  requestId?: string;
}

interface ReadAction {
  action: ReconciliationActionView;
  /** The revision the decision is made on. */
  revision: number;
}

/**
 * An operator's decision on a proposed action. Accepting carries it out first, on the tenant's own stream with
 * an id derived from the action (a retry appends nothing twice), re-checked against the tenant's current state;
 * only then is the decision recorded, so an `accepted` action always has its effect in the tenant's history.
 * Deciding the same way twice is a repeat by nature; an Idempotency-Key adds the draft's rule that the same key
 * asks the same decision with the same reason (or 422), and its request id is recorded with the decision.
 */
@CommandHandler(DecideReconciliationAction)
export class DecideReconciliationActionHandler implements ICommandHandler<DecideReconciliationAction> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(TENANCY_OPTIONS) private readonly options: TenancyOptions,
    @Inject(REQUESTS_IN_FLIGHT) private readonly inFlight: RequestsInFlight,
  ) {}

  async execute({ request }: DecideReconciliationAction): Promise<ActionDecided> {
    const { reconciliationId, actionId, decision, operator } = request;
    const violations = [
      ...idViolations(
        'reconciliation_id',
        reconciliationId,
        typeof reconciliationId === 'string' && RECONCILIATION_ID_PATTERN.test(reconciliationId),
      ),
      ...idViolations('action_id', actionId, typeof actionId === 'string' && isUuid(actionId)),
      ...reasonViolations(request.reason),
      ...operatorViolations(operator),
      ...idempotencyViolations(request.idempotencyKey),
    ];
    if (violations.length > 0) throw invalidRequest('invalid decision', violations);
    const key = idempotencyKeyOf(request.idempotencyKey);
    // Scoped to the operator and the action, like the tenant actions' keys.
    const requestId = key
      ? deterministicId('reconciliation-decision-request', actionId as string, operator, key)
      : undefined;
    const asked: Asked = {
      state: decision === 'accept' ? 'accepted' : 'dismissed',
      reason: (request.reason as string).trim(),
      ...(requestId ? { requestId } : {}),
    };
    const work = () => this.decide(request, asked);
    return requestId ? this.inFlight.run({ eventId: requestId, idempotencyKey: key }, work) : work();
  }

  private async decide(request: DecideActionRequest, asked: Asked): Promise<ActionDecided> {
    const { reconciliationId, decision, operator } = request;
    const { state, reason, requestId } = asked;
    const stream = reconciliationStream(reconciliationId as string);
    const eventId = deterministicId('reconciliation-decision', request.actionId as string);

    const { action } = await this.readAction(stream, request.actionId as string);
    const repeated = this.repeated(action, asked, eventId);
    if (repeated) return repeated;
    const now = this.clock();
    const tenantEvent =
      decision === 'accept'
        ? await carryOut(this.store, action, {
            operator,
            reason,
            now,
            gracePeriodDays: this.options.gracePeriodDays,
          })
        : null;

    return decideAndAppend<ActionDecided>(
      this.store,
      stream,
      async () => {
        const current = await this.readAction(stream, action.actionId);
        const again = this.repeated(current.action, asked, eventId);
        if (again) return { append: [], expectedRevision: 'any', result: again };
        const decided = {
          actionId: action.actionId,
          operator,
          reason,
          decidedAt: now.toISOString(),
          ...(requestId ? { requestId } : {}),
        };
        const data: ReconciliationEventData[
          'ReconciliationActionAccepted' | 'ReconciliationActionDismissed'] =
          decision === 'accept' ? { ...decided, tenantEvent } : decided;
        const event = buildEvent(
          decision === 'accept' ? 'ReconciliationActionAccepted' : 'ReconciliationActionDismissed',
          data,
          {
            tenantId: action.finding.tenantId ?? '',
            correlationId: deterministicId('reconciliation', action.reconciliationId),
            actor: operatorActor(operator),
          },
          eventId,
          now,
        );
        return {
          append: [event],
          expectedRevision: current.revision,
          result: {
            reconciliationId: action.reconciliationId,
            actionId: action.actionId,
            state,
            tenantEvent,
            eventId,
            duplicate: false,
          },
        };
      },
      {
        exhausted: () =>
          new UseCaseError(
            'RECONCILIATION.CONCURRENCY_EXHAUSTED',
            `reconciliation ${reconciliationId} is too busy`,
          ),
      },
    );
  }

  private async readAction(stream: string, actionId: string): Promise<ReadAction> {
    const view = foldReconciliation(await readStreamOrEmpty(this.store, stream));
    if (!view) throw new UseCaseError('RECONCILIATION.NOT_FOUND', `no reconciliation ${stream}`);
    const action = view.actions.find((a) => a.actionId === actionId);
    if (!action) {
      throw new UseCaseError(
        'RECONCILIATION.ACTION_NOT_FOUND',
        `reconciliation ${view.reconciliationId} proposed no action ${actionId}`,
      );
    }
    return { action, revision: view.revision };
  }

  /**
   * The same decision already recorded answers as a repeat; a contrary one is refused. Under the key that
   * recorded it, only the very same decision and reason repeat: anything else reuses the key.
   */
  private repeated(
    action: ReconciliationActionView,
    { state, reason, requestId }: Asked,
    eventId: string,
  ): ActionDecided | undefined {
    if (action.state === 'open') return undefined;
    if (requestId !== undefined && action.decision?.requestId === requestId) {
      if (action.state !== state || action.decision.reason !== reason) {
        throw new UseCaseError(
          'OPERATION.IDEMPOTENCY_KEY_REUSED',
          'this Idempotency-Key was already used for a different decision or reason',
        );
      }
    } else if (action.state !== state) {
      throw new UseCaseError(
        'RECONCILIATION.ACTION_ALREADY_DECIDED',
        `action ${action.actionId} was already ${action.state} by ${action.decision?.operator ?? 'an operator'}`,
      );
    }
    return {
      reconciliationId: action.reconciliationId,
      actionId: action.actionId,
      state,
      tenantEvent: action.decision?.tenantEvent ?? null,
      eventId,
      duplicate: true,
    };
  }
}
