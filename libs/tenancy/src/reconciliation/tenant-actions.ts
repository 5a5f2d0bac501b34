import { buildEvent, deterministicId, type ReconciliationEventData } from '@app/contracts';
import type { EventStore } from '@app/event-store';
import {
  admitOperatorCancel,
  admitSubscriptionUpdated,
  currentSubscription,
  isRefusal,
  REFUSAL_CODES,
  type Admission,
} from '@app/lifecycle';
import { refusalError, UseCaseError, type RefusalCodes } from '../errors';
import { operatorActor, REASON_MAX_LENGTH } from '../operations/operator-request';
import { decideOnTenant, earlierEvent, type TenantRead } from '../tenant-stream';
import type { ReconciliationActionView } from './reconciliation-stream';

type TenantEvent = NonNullable<ReconciliationEventData['ReconciliationActionAccepted']['tenantEvent']>;

const DAY_MS = 24 * 60 * 60 * 1000;
const REFUSED: RefusalCodes = Object.fromEntries(
  Object.values(REFUSAL_CODES).map((code) => [code, 'RECONCILIATION.ACTION_REFUSED']),
);

export interface Decision {
  operator: string;
  reason: string;
  now: Date;
  gracePeriodDays: number;
}

/**
 * Carries out an accepted action on its tenant, through the same lifecycle deciders as the operator and billing
 * requests: the tenant must still hold the finding's subscription and be in a state that allows the change.
 * Returns the tenant event appended (or appended by an earlier attempt), or null when nothing was to be done.
 */
export async function carryOut(
  store: EventStore,
  action: ReconciliationActionView,
  decision: Decision,
): Promise<TenantEvent | null> {
  const { finding } = action;
  if (action.action === 'follow-up' || !finding.tenantId) return null;
  const tenantId = finding.tenantId;
  const eventId = deterministicId('reconciliation-effect', action.actionId);
  const requestedBy = operatorActor(decision.operator);
  const admit = (read: TenantRead): Admission => {
    if (currentSubscription(read.state) !== finding.subscriptionId) {
      throw new UseCaseError(
        'RECONCILIATION.ACTION_REFUSED',
        `tenant ${tenantId} no longer holds subscription ${finding.subscriptionId}`,
      );
    }
    if (action.action === 'change-tier') {
      const admitted = admitSubscriptionUpdated(read.state, {
        subscriptionId: finding.subscriptionId,
        toTier: finding.billingTier!,
      });
      if (isRefusal(admitted)) return admitted;
      return {
        events: admitted.events.map((event) =>
          event.type === 'TierChangeRequested' ? { ...event, data: { ...event.data, requestedBy } } : event,
        ),
      };
    }
    const why = `billing reconciliation ${action.reconciliationId}: ${decision.reason}`;
    return admitOperatorCancel(read.state, {
      reason: why.slice(0, REASON_MAX_LENGTH),
      requestedAt: decision.now.toISOString(),
      deletionDate: new Date(decision.now.getTime() + decision.gracePeriodDays * DAY_MS).toISOString(),
      requestedBy,
    });
  };
  return decideOnTenant<TenantEvent | null>(
    store,
    tenantId,
    {
      notFound: () => new UseCaseError('RECONCILIATION.ACTION_REFUSED', `tenant ${tenantId} not found`),
      busy: () => new UseCaseError('RECONCILIATION.CONCURRENCY_EXHAUSTED', `tenant ${tenantId} is too busy`),
    },
    (read) => {
      const earlier = earlierEvent(read, eventId);
      if (earlier) return { append: [], result: { tenantId, type: earlier.type, eventId } };
      const admission = admit(read);
      if (isRefusal(admission)) throw refusalError(admission, REFUSED);
      const [event] = admission.events;
      // The tier is already billing's: nothing to change.
      if (!event) return { append: [], result: null };
      const metadata = {
        tenantId,
        correlationId: deterministicId('reconciliation', action.reconciliationId),
        actor: requestedBy,
      };
      return {
        append: [buildEvent(event.type, event.data, metadata, eventId, decision.now)],
        result: { tenantId, type: event.type, eventId },
      };
    },
  );
}
