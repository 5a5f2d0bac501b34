import { assertTenantId } from '@app/contracts';
import { readStreamOrEmpty, type EventStore, type RecordedEvent } from '@app/event-store';

/** Category of the companion streams that hold chain checkpoints (outside the `tenant` category on purpose). */
export const AUDIT_STREAM_CATEGORY = 'audit';

/** `audit-<tenantId>`: the chain checkpoints covering `tenant-<tenantId>`. */
export function auditStream(tenantId: string): string {
  assertTenantId(tenantId);
  return `${AUDIT_STREAM_CATEGORY}-${tenantId}`;
}

const PAGE_SIZE = 1000;

/** Every event of a stream from `from` on, page by page (empty when the stream does not exist). */
export async function* readStreamPages(
  store: EventStore,
  stream: string,
  from = 0,
  pageSize = PAGE_SIZE,
): AsyncGenerator<RecordedEvent[]> {
  let next = from;
  for (;;) {
    const page = await readStreamOrEmpty(store, stream, { from: next, limit: pageSize });
    if (page.length === 0) return;
    yield page;
    if (page.length < pageSize) return;
    next = page[page.length - 1].revision + 1;
  }
}

export async function readWholeStream(store: EventStore, stream: string): Promise<RecordedEvent[]> {
  const events: RecordedEvent[] = [];
  for await (const page of readStreamPages(store, stream)) events.push(...page);
  return events;
}
