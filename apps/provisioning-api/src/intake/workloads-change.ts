import { deterministicId } from '@app/contracts';
import type { EventStore } from '@app/event-store';
import { isRefusal, workloadsChangeQueued, type Admission, type TenantState } from '@app/lifecycle';
import type { Clock } from '@app/tenancy';
import { changeTenant, isoOf } from './intake-events';
import type { SuspensionAccepted } from './intake.types';

export interface WorkloadsChange {
  tenantId: string;
  subscriptionId: string;
  /** Billing's timestamp: a redelivery repeats it, a later change of the same kind does not. */
  timestamp: string;
  kind: 'suspension' | 'resumption';
  admit: (state: TenantState) => Admission;
}

/**
 * A suspension or resumption: admitted even while the opposite one is still being applied (it then queues
 * behind it in the stream, and the answer says so); none appended when the workloads already head there.
 */
export function changeWorkloads(
  store: EventStore,
  clock: Clock,
  change: WorkloadsChange,
): Promise<SuspensionAccepted> {
  const { tenantId, subscriptionId, kind } = change;
  const target = kind === 'suspension' ? 'suspended' : 'active';
  return changeTenant<SuspensionAccepted>(store, clock, {
    tenantId,
    subscriptionId,
    eventId: deterministicId(`${kind}-requested`, subscriptionId, tenantId, isoOf(change.timestamp)),
    duplicateOf: () => ({ tenantId, status: target, changed: true, duplicate: true }),
    decide: (state) => {
      const admission = change.admit(state);
      const changed = !isRefusal(admission) && admission.events.length > 0;
      const queued = changed && workloadsChangeQueued(state) ? { queued: true as const } : {};
      return { admission, result: { tenantId, status: target, changed, ...queued, duplicate: false } };
    },
  });
}
