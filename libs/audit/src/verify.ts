import { tenantStream } from '@app/contracts';
import type { EventStore } from '@app/event-store';
import { AUDIT_CHECKPOINT_EVENT_TYPE, verifyChain, type ChainVerification } from './chain';
import { auditStream, readWholeStream } from './streams';

export type TenantVerification = ChainVerification & { tenantId: string };

/**
 * Recomputes the hash chain of `tenant-<tenantId>` and compares it with the checkpoints in `audit-<tenantId>`.
 * The store must be opened without upcasters: the chain covers the data as stored, not today's reading of it.
 */
export async function verifyTenant(store: EventStore, tenantId: string): Promise<TenantVerification> {
  const stream = tenantStream(tenantId);
  const [events, checkpoints] = await Promise.all([
    readWholeStream(store, stream),
    readWholeStream(store, auditStream(tenantId)),
  ]);
  return {
    tenantId,
    ...verifyChain(
      stream,
      events,
      checkpoints
        .filter((checkpoint) => checkpoint.type === AUDIT_CHECKPOINT_EVENT_TYPE)
        .map((checkpoint) => checkpoint.data),
    ),
  };
}
