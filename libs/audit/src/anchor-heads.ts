import { isTenantId } from '@app/contracts';
import type { Checkpoint, EventStore } from '@app/event-store';
import type { AnchoredHead, SignedAuditAnchor } from './anchor';
import { AUDIT_CHECKPOINT_EVENT_TYPE, parseCheckpoint } from './chain';
import { AUDIT_STREAM_CATEGORY } from './streams';

export interface ChainHeads {
  /** Tenant id → the head of its last well-formed checkpoint. */
  heads: Map<string, AnchoredHead>;
  /** Checkpoint events read. */
  checkpoints: number;
  /** Checkpoints that did not parse (left out of the heads; `tenantctl verify` names them). */
  invalid: number;
  /** For each tenant of `watch`: the hash the audit stream now records at the watched revision. */
  recordedAt: Map<string, string>;
}

const PREFIX = `${AUDIT_STREAM_CATEGORY}-`;

/**
 * Every tenant's recorded chain head, from the checkpoints of the `audit` category, read page by page through
 * the store's global log. A head only moves forward: a checkpoint that would take a tenant back (it cannot
 * come from the projector) is ignored here and reported by `verify` as a chain that does not link.
 */
export async function collectChainHeads(
  store: EventStore,
  watch: ReadonlyMap<string, number> = new Map(),
  pageSize = 1000,
): Promise<ChainHeads> {
  const heads = new Map<string, AnchoredHead>();
  const recordedAt = new Map<string, string>();
  let checkpoints = 0;
  let invalid = 0;
  let after: Checkpoint | undefined;
  for (;;) {
    const page = await store.readAll({
      filter: { category: AUDIT_STREAM_CATEGORY },
      limit: pageSize,
      ...(after === undefined ? {} : { after }),
    });
    for (const event of page) {
      if (event.type !== AUDIT_CHECKPOINT_EVENT_TYPE || !event.streamName.startsWith(PREFIX)) continue;
      checkpoints += 1;
      const tenantId = event.streamName.slice(PREFIX.length);
      try {
        if (!isTenantId(tenantId)) throw new Error(`${event.streamName} names no tenant`);
        const checkpoint = parseCheckpoint(event.data);
        const watched = watch.get(tenantId);
        if (watched !== undefined && watched >= checkpoint.fromRevision && watched <= checkpoint.toRevision)
          recordedAt.set(tenantId, checkpoint.entries[watched - checkpoint.fromRevision].hash);
        const current = heads.get(tenantId);
        if (current === undefined || checkpoint.toRevision > current.revision)
          heads.set(tenantId, { revision: checkpoint.toRevision, hash: checkpoint.headHash });
      } catch {
        invalid += 1;
      }
    }
    if (page.length < pageSize) return { heads, checkpoints, invalid, recordedAt };
    after = page[page.length - 1].position;
  }
}

/** A tenant whose head an anchor run kept from the previous anchor instead of moving it forward. */
export interface HeldHead {
  tenantId: string;
  revision: number;
  /** The audit stream records another hash at the anchored revision, or none at all. */
  reason: 'chain-rewritten' | 'chain-missing';
}

/**
 * The heads to sign, given the previous valid anchor: a tenant whose audit stream no longer records the
 * previously anchored hash at the anchored revision had its chain rewritten (or removed), and signing its new
 * head would bless the rewrite. Its previous head is carried over instead, so `verify` keeps reporting it.
 */
export function holdAnchoredHeads(
  chain: ChainHeads,
  previous: SignedAuditAnchor | null,
): { heads: Map<string, AnchoredHead>; held: HeldHead[] } {
  const heads = new Map(chain.heads);
  const held: HeldHead[] = [];
  for (const [tenantId, head] of Object.entries(previous?.tenants ?? {})) {
    const recorded = chain.recordedAt.get(tenantId);
    if (recorded === head.hash) continue;
    heads.set(tenantId, head);
    held.push({
      tenantId,
      revision: head.revision,
      reason: recorded === undefined ? 'chain-missing' : 'chain-rewritten',
    });
  }
  return { heads, held };
}
