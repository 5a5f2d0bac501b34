import { tenantStream } from '@app/contracts';
import {
  decideAndAppend,
  readStreamOrEmpty,
  type EventData,
  type EventStore,
  type RecordedEvent,
} from '@app/event-store';
import { foldTenant, type TenantState } from '@app/lifecycle';

/** A tenant's stream as read, and the lifecycle's state folded from it. */
export interface TenantRead {
  events: RecordedEvent[];
  state: TenantState;
  /** The revision the decision is made on (the last event read). */
  revision: number;
}

/** The tenant's stream folded, or undefined when no tenant was ever requested under this id. */
async function readTenant(store: EventStore, tenantId: string): Promise<TenantRead | undefined> {
  const events = await readStreamOrEmpty(store, tenantStream(tenantId));
  const state = foldTenant(events);
  if (!state.tenant) return undefined;
  return { events, state, revision: events[events.length - 1].revision };
}

export interface TenantDecision<R> {
  /** Nothing to append when the request changes nothing (a repeat, or a state already reached). */
  append: readonly EventData[];
  result: R;
}

/**
 * The one command-handling path for a request on an existing tenant (CONVENTIONS.md 4): read and fold, decide
 * with the lifecycle's deciders, append at the revision read; on a conflict, read and decide again.
 */
export function decideOnTenant<R>(
  store: EventStore,
  tenantId: string,
  errors: { notFound: () => Error; busy: () => Error },
  decide: (read: TenantRead) => TenantDecision<R>,
): Promise<R> {
  return decideAndAppend(
    store,
    tenantStream(tenantId),
    async () => {
      const read = await readTenant(store, tenantId);
      if (!read) throw errors.notFound();
      const { append, result } = decide(read);
      return { append, expectedRevision: read.revision, result };
    },
    { exhausted: () => errors.busy() },
  );
}

/** The event a request already appended under this id (a redelivery, or a repeated Idempotency-Key). */
export function earlierEvent(read: TenantRead, eventId: string): RecordedEvent | undefined {
  return read.events.find((event) => event.id === eventId);
}
