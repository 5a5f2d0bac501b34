import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical-json';
import { AUDIT_ERROR_CODES, AuditError } from './errors';

/** Names the hashing rule below; recorded in every checkpoint and export so a verifier knows what to recompute. */
export const AUDIT_HASH_ALGORITHM = 'sha256-jcs-v1';

/** Event type of the chain checkpoints appended to `audit-<tenantId>`. */
export const AUDIT_CHECKPOINT_EVENT_TYPE = 'AuditChainCheckpointed';

/**
 * What the chain covers of an event: everything its writer chose. The global position and the recording time
 * are left out because the adapter assigns them (and they differ between stores holding the same history).
 */
export interface HashableEvent {
  streamName: string;
  revision: number;
  id: string;
  type: string;
  data: unknown;
  metadata: unknown;
}

export interface AuditEntry {
  revision: number;
  eventId: string;
  type: string;
  hash: string;
}

/** Payload of one `AuditChainCheckpointed` event: the hashes of revisions fromRevision..toRevision, in order. */
export interface AuditCheckpointData {
  algorithm: typeof AUDIT_HASH_ALGORITHM;
  streamName: string;
  fromRevision: number;
  toRevision: number;
  /** Chain head before this checkpoint (the genesis hash for the first one). */
  prevHash: string;
  entries: AuditEntry[];
  /** Hash of the entry at toRevision. */
  headHash: string;
}

const HASH = /^[0-9a-f]{64}$/;

function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** hash_{-1}: binds the chain to its stream, so a chain cannot be replayed onto another tenant's events. */
export function genesisHash(streamName: string): string {
  return sha256Hex(`genesis:${streamName}`);
}

/** The JCS text that is hashed for one event. */
export function hashedContent(event: HashableEvent): string {
  return canonicalJson({
    streamName: event.streamName,
    revision: event.revision,
    id: event.id,
    type: event.type,
    data: event.data,
    metadata: event.metadata,
  });
}

/** hash_n = sha256_hex(utf8(hash_{n-1} as 64 hex digits + canonicalJson(event_n))). */
export function hashEvent(prevHash: string, event: HashableEvent): string {
  if (!HASH.test(prevHash)) {
    throw new AuditError(AUDIT_ERROR_CODES.INVALID_ARGUMENT, 'previous hash must be 64 lowercase hex digits');
  }
  return sha256Hex(prevHash + hashedContent(event));
}

/** Entries for consecutive events following a head (pure; the projector and the tests share it). */
export function chainEntries(prevHash: string, events: readonly HashableEvent[]): AuditEntry[] {
  let head = prevHash;
  return events.map((event) => {
    head = hashEvent(head, event);
    return { revision: event.revision, eventId: event.id, type: event.type, hash: head };
  });
}

function fail(message: string): never {
  throw new AuditError(AUDIT_ERROR_CODES.INVALID_CHECKPOINT, message);
}

function isRevision(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** Validates the shape and internal consistency of one checkpoint payload read back from a store. */
export function parseCheckpoint(value: unknown): AuditCheckpointData {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    fail('checkpoint is not an object');
  const data = value as Record<string, unknown>;
  if (data['algorithm'] !== AUDIT_HASH_ALGORITHM)
    fail(`unknown algorithm ${JSON.stringify(data['algorithm'])}`);
  const { streamName, fromRevision, toRevision, prevHash, headHash, entries } = data;
  if (typeof streamName !== 'string') fail('streamName missing');
  if (!isRevision(fromRevision) || !isRevision(toRevision) || toRevision < fromRevision) {
    fail('fromRevision/toRevision invalid');
  }
  if (typeof prevHash !== 'string' || !HASH.test(prevHash)) fail('prevHash invalid');
  if (typeof headHash !== 'string' || !HASH.test(headHash)) fail('headHash invalid');
  if (!Array.isArray(entries) || entries.length !== toRevision - fromRevision + 1)
    fail('entries count invalid');
  const parsed = entries.map((raw: unknown, index): AuditEntry => {
    const entry = (raw ?? {}) as Record<string, unknown>;
    const { revision, eventId, type, hash } = entry;
    if (revision !== fromRevision + index) fail(`entry ${index} has revision ${String(revision)}`);
    if (typeof eventId !== 'string' || typeof type !== 'string') fail(`entry ${index} lacks eventId/type`);
    if (typeof hash !== 'string' || !HASH.test(hash)) fail(`entry ${index} hash invalid`);
    return { revision, eventId, type, hash };
  });
  if (parsed[parsed.length - 1].hash !== headHash) fail('headHash differs from the last entry');
  return {
    algorithm: AUDIT_HASH_ALGORITHM,
    streamName,
    fromRevision,
    toRevision,
    prevHash,
    headHash,
    entries: parsed,
  };
}

/** Why an event fails verification. */
export type MismatchReason =
  /** The stored event no longer hashes to the recorded value (data, metadata, id or type changed). */
  | 'hash'
  /** A revision was recorded but the stream no longer holds an event there (deleted or hidden). */
  | 'missing-event'
  /** The audit record itself is malformed or does not link to the previous checkpoint. */
  | 'record-invalid';

export interface ChainMismatch {
  revision: number;
  /** Id of the stored event at that revision (the recorded id when the event is missing). */
  eventId: string | null;
  type: string | null;
  reason: MismatchReason;
  /** Recorded in the audit stream. */
  expectedHash: string | null;
  /** Recomputed from the stored event and the recorded previous hash. */
  actualHash: string | null;
  detail?: string;
}

export interface ChainVerification {
  ok: boolean;
  streamName: string;
  /** Covered events whose recomputed hash matched, before the first mismatch. */
  checkedEvents: number;
  /** Last revision recorded in the audit stream; -1 when nothing is covered yet. */
  coveredUpTo: number;
  /** Recorded chain head at coveredUpTo (the genesis hash when nothing is covered). */
  chainHead: string;
  firstMismatch?: ChainMismatch;
  /** Events after coveredUpTo: not yet hashed by the projector, so neither verified nor failed. */
  uncoveredEvents: number;
}

/**
 * Recomputes the chain over the stored events (ordered by revision) and compares it with the recorded
 * checkpoints (payloads in audit-stream order). Pure: `verifyTenant` loads both lists from a store.
 * Each entry is checked as hash(recorded previous hash, stored event); with the first entry bound to the
 * genesis hash this is equivalent to recomputing from genesis, and stops at the first event that differs.
 */
export function verifyChain(
  streamName: string,
  events: readonly HashableEvent[],
  checkpoints: readonly unknown[],
): ChainVerification {
  const byRevision = new Map<number, HashableEvent>();
  for (const event of events) byRevision.set(event.revision, event);
  // What the audit stream claims to cover, whether or not it verifies: the last well-formed checkpoint.
  let coveredUpTo = -1;
  let chainHead = genesisHash(streamName);
  for (const raw of checkpoints) {
    try {
      const checkpoint = parseCheckpoint(raw);
      coveredUpTo = Math.max(coveredUpTo, checkpoint.toRevision);
      if (checkpoint.toRevision === coveredUpTo) chainHead = checkpoint.headHash;
    } catch {
      // Reported by the walk below, at the revision where the chain breaks.
    }
  }
  let head = genesisHash(streamName);
  let nextRevision = 0;
  let checkedEvents = 0;
  const result = (firstMismatch?: ChainMismatch): ChainVerification => ({
    ok: firstMismatch === undefined,
    streamName,
    checkedEvents,
    coveredUpTo,
    chainHead,
    ...(firstMismatch ? { firstMismatch } : {}),
    uncoveredEvents: events.filter((event) => event.revision > coveredUpTo).length,
  });
  const invalidRecord = (detail: string): ChainVerification => {
    const event = byRevision.get(nextRevision);
    return result({
      revision: nextRevision,
      eventId: event?.id ?? null,
      type: event?.type ?? null,
      reason: 'record-invalid',
      expectedHash: null,
      actualHash: event ? hashEvent(head, event) : null,
      detail,
    });
  };

  for (const [index, raw] of checkpoints.entries()) {
    let checkpoint: AuditCheckpointData;
    try {
      checkpoint = parseCheckpoint(raw);
    } catch (error) {
      return invalidRecord(`checkpoint ${index}: ${(error as Error).message}`);
    }
    if (checkpoint.streamName !== streamName)
      return invalidRecord(`checkpoint ${index} names another stream`);
    if (checkpoint.fromRevision !== nextRevision) {
      return invalidRecord(
        `checkpoint ${index} starts at ${checkpoint.fromRevision}, expected ${nextRevision}`,
      );
    }
    if (checkpoint.prevHash !== head)
      return invalidRecord(`checkpoint ${index} does not link to the previous head`);
    for (const entry of checkpoint.entries) {
      const event = byRevision.get(entry.revision);
      if (!event) {
        return result({
          revision: entry.revision,
          eventId: entry.eventId,
          type: entry.type,
          reason: 'missing-event',
          expectedHash: entry.hash,
          actualHash: null,
        });
      }
      const actual = hashEvent(head, event);
      if (actual !== entry.hash) {
        return result({
          revision: entry.revision,
          eventId: event.id,
          type: event.type,
          reason: 'hash',
          expectedHash: entry.hash,
          actualHash: actual,
        });
      }
      head = actual;
      nextRevision = entry.revision + 1;
      checkedEvents += 1;
    }
  }
  return result();
}
