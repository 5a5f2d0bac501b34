import type {
  ReconciliationActionKind,
  ReconciliationEventData,
  ReconciliationEventType,
  ReconciliationFinding,
} from '@app/contracts';

export const RECONCILIATION_ACTION_STATES = ['open', 'accepted', 'dismissed'] as const;
export type ReconciliationActionState = (typeof RECONCILIATION_ACTION_STATES)[number];

export interface ReconciliationDecision {
  operator: string;
  reason: string;
  decidedAt: string;
  tenantEvent: ReconciliationEventData['ReconciliationActionAccepted']['tenantEvent'];
  /** Set when the decision carried an Idempotency-Key (see `ReconciliationActionAccepted`). */
  requestId?: string;
}

export interface ReconciliationActionView {
  reconciliationId: string;
  actionId: string;
  action: ReconciliationActionKind;
  state: ReconciliationActionState;
  finding: ReconciliationFinding;
  proposedAt: string;
  decision: ReconciliationDecision | null;
}

export interface ReconciliationView {
  reconciliationId: string;
  source: string;
  subscriptions: number;
  tenantsCompared: number;
  operator: string;
  recordedAt: string;
  actions: ReconciliationActionView[];
  /** The last revision folded: the expected revision of the next decision. */
  revision: number;
}

/** The part of a recorded event the fold reads. */
export interface ReconciliationStreamEvent {
  type: string;
  data: unknown;
  revision: number;
}

type Payload = {
  [K in ReconciliationEventType]: { type: K; data: ReconciliationEventData[K] };
}[ReconciliationEventType];

function decide(
  view: ReconciliationView,
  actionId: string,
  state: ReconciliationActionState,
  decision: ReconciliationDecision,
): ReconciliationView {
  const actions = view.actions.map((action) =>
    action.actionId === actionId && action.state === 'open' ? { ...action, state, decision } : action,
  );
  return { ...view, actions };
}

function evolve(view: ReconciliationView | undefined, event: Payload): ReconciliationView | undefined {
  switch (event.type) {
    case 'ReconciliationRecorded': {
      const { reconciliationId, source, subscriptions, tenantsCompared, operator, recordedAt } = event.data;
      return (
        view ?? {
          reconciliationId,
          source,
          subscriptions,
          tenantsCompared,
          operator,
          recordedAt,
          actions: [],
          revision: 0,
        }
      );
    }
    case 'ReconciliationActionProposed': {
      if (!view || view.actions.some((a) => a.actionId === event.data.actionId)) return view;
      const proposed: ReconciliationActionView = {
        reconciliationId: view.reconciliationId,
        actionId: event.data.actionId,
        action: event.data.action,
        state: 'open',
        finding: event.data.finding,
        proposedAt: view.recordedAt,
        decision: null,
      };
      return { ...view, actions: [...view.actions, proposed] };
    }
    case 'ReconciliationActionAccepted': {
      const { actionId, operator, reason, decidedAt, tenantEvent, requestId } = event.data;
      const decision = { operator, reason, decidedAt, tenantEvent, ...(requestId ? { requestId } : {}) };
      return view && decide(view, actionId, 'accepted', decision);
    }
    case 'ReconciliationActionDismissed': {
      const { actionId, operator, reason, decidedAt, requestId } = event.data;
      const decision = {
        operator,
        reason,
        decidedAt,
        tenantEvent: null,
        ...(requestId ? { requestId } : {}),
      };
      return view && decide(view, actionId, 'dismissed', decision);
    }
    default: {
      const unreachable: never = event;
      return unreachable;
    }
  }
}

const TYPES: ReadonlySet<string> = new Set<ReconciliationEventType>([
  'ReconciliationRecorded',
  'ReconciliationActionProposed',
  'ReconciliationActionAccepted',
  'ReconciliationActionDismissed',
]);

/** A reconciliation stream folded: what was compared, each proposal and its decision (the first one counts). */
export function foldReconciliation(
  events: readonly ReconciliationStreamEvent[],
): ReconciliationView | undefined {
  let view: ReconciliationView | undefined;
  for (const event of events) {
    if (TYPES.has(event.type)) view = evolve(view, { type: event.type, data: event.data } as Payload);
    if (view) view = { ...view, revision: event.revision };
  }
  return view;
}
