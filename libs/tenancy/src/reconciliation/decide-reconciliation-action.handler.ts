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
import { operatorActor, operatorViolations, REASON_MAX_LENGTH } from '../operations/operator-request';
import { CLOCK, TENANCY_OPTIONS, type Clock, type TenancyOptions } from '../tokens';
import { DecideReconciliationAction, type ActionDecided } from './reconciliation.commands';
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

interface ReadAction {
  action: ReconciliationActionView;
  /** The revision the decision is made on. */
  revision: number;
}

/**
 * An operator's decision on a proposed action. Accepting carries it out first, on the tenant's own stream with
 * an id derived from the action (a retry appends nothing twice), re-checked against the tenant's current state;
 * only then is the decision recorded, so an `accepted` action always has its effect in the tenant's history.
 */
@CommandHandler(DecideReconciliationAction)
export class DecideReconciliationActionHandler implements ICommandHandler<DecideReconciliationAction> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(TENANCY_OPTIONS) private readonly options: TenancyOptions,
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
    ];
    if (violations.length > 0) throw invalidRequest('invalid decision', violations);
    const reason = (request.reason as string).trim();
    const stream = reconciliationStream(reconciliationId as string);
    const state = decision === 'accept' ? 'accepted' : 'dismissed';
    const eventId = deterministicId('reconciliation-decision', actionId as string);

    const { action } = await this.readAction(stream, actionId as string);
    const repeated = this.repeated(action, state, eventId);
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
        const again = this.repeated(current.action, state, eventId);
        if (again) return { append: [], expectedRevision: 'any', result: again };
        const decided = { actionId: action.actionId, operator, reason, decidedAt: now.toISOString() };
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

  /** The same decision already recorded answers as a repeat; a contrary one is refused. */
  private repeated(
    action: ReconciliationActionView,
    state: 'accepted' | 'dismissed',
    eventId: string,
  ): ActionDecided | undefined {
    if (action.state === 'open') return undefined;
    if (action.state !== state) {
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
