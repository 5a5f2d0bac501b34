import { tenantStream } from '@app/contracts';
import type { EventStore } from '@app/event-store';
import { compareWithAnchor, type AnchorComparison, type AnchorReading, type AnchorRejection } from './anchor';
import { AUDIT_CHECKPOINT_EVENT_TYPE, parseCheckpoint, verifyChain } from './chain';
import { auditStream, readWholeStream } from './streams';
import type { TenantVerification } from './verify';

/** The latest anchor object found in the archive (`location` names the bucket and prefix or the object). */
export type LatestAnchor =
  { found: false; location: string } | { found: true; location: string; reading: AnchorReading };

export type TenantAnchorCheck =
  | { status: 'no-anchor'; location: string }
  | { status: 'invalid-anchor'; location: string; reason: AnchorRejection; detail: string }
  | { status: 'not-anchored'; location: string; createdAt: string }
  | ({ location: string; createdAt: string; keyId: string } & AnchorComparison);

export interface TenantAnchorVerification {
  chain: TenantVerification;
  anchor: TenantAnchorCheck;
}

/**
 * The tenant's stream against its audit chain (as `verifyTenant`) and against the latest anchor, from one read
 * of each stream. The store must be opened without upcasters.
 */
export async function verifyTenantWithAnchor(
  store: EventStore,
  tenantId: string,
  latest: LatestAnchor,
): Promise<TenantAnchorVerification> {
  const stream = tenantStream(tenantId);
  const [events, audit] = await Promise.all([
    readWholeStream(store, stream),
    readWholeStream(store, auditStream(tenantId)),
  ]);
  const checkpoints = audit
    .filter((event) => event.type === AUDIT_CHECKPOINT_EVENT_TYPE)
    .map((event) => event.data);
  const chain = { tenantId, ...verifyChain(stream, events, checkpoints) };
  return { chain, anchor: checkAnchor(stream, tenantId, events, checkpoints, latest) };
}

function checkAnchor(
  stream: string,
  tenantId: string,
  events: Parameters<typeof compareWithAnchor>[1],
  checkpoints: readonly unknown[],
  latest: LatestAnchor,
): TenantAnchorCheck {
  const { location } = latest;
  if (!latest.found) return { status: 'no-anchor', location };
  if (!latest.reading.ok) {
    const { reason, detail } = latest.reading;
    return { status: 'invalid-anchor', location, reason, detail };
  }
  const { anchor } = latest.reading;
  const head = anchor.tenants[tenantId];
  if (head === undefined) return { status: 'not-anchored', location, createdAt: anchor.createdAt };
  const recorded = recordedHashes(checkpoints);
  return {
    location,
    createdAt: anchor.createdAt,
    keyId: anchor.keyId,
    ...compareWithAnchor(stream, events, head, (revision) => recorded.get(revision) ?? null),
  };
}

/** Revision → hash as the audit stream records it now (well-formed checkpoints only). */
function recordedHashes(checkpoints: readonly unknown[]): Map<number, string> {
  const hashes = new Map<number, string>();
  for (const raw of checkpoints) {
    try {
      for (const entry of parseCheckpoint(raw).entries) hashes.set(entry.revision, entry.hash);
    } catch {
      // A malformed checkpoint is reported by the chain verification.
    }
  }
  return hashes;
}
