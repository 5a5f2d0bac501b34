import { tenantStream } from '@app/contracts';
import type { EventStore } from '@app/event-store';
import {
  AUDIT_CHECKPOINT_EVENT_TYPE,
  AUDIT_HASH_ALGORITHM,
  genesisHash,
  hashEvent,
  parseCheckpoint,
  type HashableEvent,
} from './chain';
import { auditStream, readStreamPages, readWholeStream } from './streams';

/** One exported event: the event as stored plus the chain hashes recorded by the audit projector. */
export interface NdjsonEventLine extends HashableEvent {
  recordedAt: string;
  /** Recorded hash for covered events; computed (and `covered: false`) for events not yet checkpointed. */
  hash: string;
  prevHash: string;
  covered: boolean;
}

/** Last line of an export: what the audit stream vouched for when it was written. */
export interface NdjsonTrailer {
  algorithm: typeof AUDIT_HASH_ALGORITHM;
  streamName: string;
  chainHead: string;
  coveredUpTo: number;
}

/**
 * The tenant's history as NDJSON lines (without their trailing newline): one line per event, then a trailer.
 * Covered events carry the hashes recorded in the audit stream, not hashes recomputed now, so an event altered
 * in the store after it was checkpointed no longer matches its line's hash and `verifyNdjson` names it offline.
 */
export async function* exportNdjson(store: EventStore, tenantId: string): AsyncGenerator<string> {
  const stream = tenantStream(tenantId);
  const recorded = new Map<number, string>();
  let coveredUpTo = -1;
  let chainHead = genesisHash(stream);
  for (const event of await readWholeStream(store, auditStream(tenantId))) {
    if (event.type !== AUDIT_CHECKPOINT_EVENT_TYPE) continue;
    // A malformed checkpoint contributes nothing; the offline verification then fails where it should apply.
    let checkpoint;
    try {
      checkpoint = parseCheckpoint(event.data);
    } catch {
      continue;
    }
    for (const entry of checkpoint.entries) recorded.set(entry.revision, entry.hash);
    if (checkpoint.toRevision > coveredUpTo) {
      coveredUpTo = checkpoint.toRevision;
      chainHead = checkpoint.headHash;
    }
  }
  let previous = genesisHash(stream);
  for await (const page of readStreamPages(store, stream)) {
    for (const event of page) {
      const recordedHash = event.revision <= coveredUpTo ? recorded.get(event.revision) : undefined;
      const prevHash =
        event.revision === 0 ? genesisHash(stream) : (recorded.get(event.revision - 1) ?? previous);
      const hash = recordedHash ?? hashEvent(prevHash, event);
      const line: NdjsonEventLine = {
        streamName: event.streamName,
        revision: event.revision,
        id: event.id,
        type: event.type,
        data: event.data,
        metadata: event.metadata,
        recordedAt: event.recordedAt.toISOString(),
        hash,
        prevHash,
        covered: recordedHash !== undefined,
      };
      previous = hash;
      yield JSON.stringify(line);
    }
  }
  const trailer: NdjsonTrailer = {
    algorithm: AUDIT_HASH_ALGORITHM,
    streamName: stream,
    chainHead,
    coveredUpTo,
  };
  yield JSON.stringify(trailer);
}

export interface NdjsonError {
  /** 1-based line number in the export (blank lines count). */
  line: number;
  revision?: number;
  eventId?: string;
  reason: 'malformed' | 'stream' | 'sequence' | 'prev-hash' | 'hash' | 'head' | 'trailer' | 'anchor';
  expectedHash?: string;
  actualHash?: string;
  detail: string;
}

export interface NdjsonVerification {
  ok: boolean;
  streamName?: string;
  /** Event lines whose hashes were recomputed and matched, before the first error. */
  checkedEvents: number;
  coveredUpTo?: number;
  chainHead?: string;
  /** Event lines after coveredUpTo: consistent with the chain but not vouched for by a checkpoint. */
  uncoveredEvents?: number;
  firstError?: NdjsonError;
}

export interface VerifyNdjsonOptions {
  /**
   * Chain heads obtained independently (an earlier export, a printed report): the export must reproduce them.
   * Without an anchor, a verifier only learns that the export is internally consistent.
   */
  anchors?: ReadonlyArray<{ revision: number; hash: string }>;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * Verifies an export without any system access: recomputes every hash from genesis, checks that each line
 * links to the previous one, that revisions are consecutive, and that the trailer's head is the hash at
 * `coveredUpTo`. Accepts the whole text or its lines; names the first bad line.
 */
export function verifyNdjson(
  input: string | Iterable<string>,
  options: VerifyNdjsonOptions = {},
): NdjsonVerification {
  const lines = typeof input === 'string' ? input.split('\n') : [...input];
  let streamName: string | undefined;
  let head = '';
  let nextRevision = 0;
  let checkedEvents = 0;
  const hashes = new Map<number, string>();
  let trailer: NdjsonTrailer | undefined;
  const failed = (error: NdjsonError): NdjsonVerification => ({
    ok: false,
    streamName,
    checkedEvents,
    ...(trailer ? { coveredUpTo: trailer.coveredUpTo, chainHead: trailer.chainHead } : {}),
    firstError: error,
  });

  for (const [index, text] of lines.entries()) {
    const lineNumber = index + 1;
    if (text.trim() === '') continue;
    if (trailer) {
      return failed({ line: lineNumber, reason: 'trailer', detail: 'content after the trailer line' });
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return failed({ line: lineNumber, reason: 'malformed', detail: 'not JSON' });
    }
    if (!isObject(value)) return failed({ line: lineNumber, reason: 'malformed', detail: 'not an object' });
    if ('chainHead' in value) {
      const { algorithm, chainHead, coveredUpTo } = value;
      const name = value['streamName'];
      if (
        algorithm !== AUDIT_HASH_ALGORITHM ||
        typeof chainHead !== 'string' ||
        typeof coveredUpTo !== 'number' ||
        !Number.isSafeInteger(coveredUpTo) ||
        typeof name !== 'string'
      ) {
        return failed({
          line: lineNumber,
          reason: 'trailer',
          detail: 'trailer fields missing or of another algorithm',
        });
      }
      if (streamName !== undefined && name !== streamName) {
        return failed({ line: lineNumber, reason: 'stream', detail: 'trailer names another stream' });
      }
      streamName = name;
      trailer = { algorithm, streamName: name, chainHead, coveredUpTo };
      continue;
    }
    const { revision, id, type, hash, prevHash, recordedAt } = value;
    const name = value['streamName'];
    if (
      typeof name !== 'string' ||
      typeof revision !== 'number' ||
      typeof id !== 'string' ||
      typeof type !== 'string' ||
      typeof hash !== 'string' ||
      typeof prevHash !== 'string' ||
      typeof recordedAt !== 'string' ||
      !('data' in value) ||
      !('metadata' in value)
    ) {
      return failed({ line: lineNumber, reason: 'malformed', detail: 'event fields missing' });
    }
    const located = { line: lineNumber, revision, eventId: id };
    if (streamName === undefined) {
      streamName = name;
      head = genesisHash(name);
    } else if (name !== streamName) {
      return failed({ ...located, reason: 'stream', detail: `line belongs to ${name}, not ${streamName}` });
    }
    if (revision !== nextRevision) {
      return failed({ ...located, reason: 'sequence', detail: `expected revision ${nextRevision}` });
    }
    if (prevHash !== head) {
      return failed({
        ...located,
        reason: 'prev-hash',
        expectedHash: head,
        actualHash: prevHash,
        detail: 'prevHash does not link to the previous line',
      });
    }
    const event: HashableEvent = {
      streamName: name,
      revision,
      id,
      type,
      data: value['data'],
      metadata: value['metadata'],
    };
    const actual = hashEvent(head, event);
    if (actual !== hash) {
      return failed({
        ...located,
        reason: 'hash',
        expectedHash: hash,
        actualHash: actual,
        detail: 'event content does not match its recorded hash',
      });
    }
    head = actual;
    hashes.set(revision, actual);
    nextRevision += 1;
    checkedEvents += 1;
  }

  if (!trailer) {
    return failed({
      line: lines.length,
      reason: 'trailer',
      detail: 'export has no trailer line (truncated?)',
    });
  }
  const trailerLine = lines.length - [...lines].reverse().findIndex((text) => text.trim() !== '');
  const coveredHash =
    trailer.coveredUpTo < 0 ? genesisHash(trailer.streamName) : hashes.get(trailer.coveredUpTo);
  if (coveredHash !== trailer.chainHead) {
    return failed({
      line: trailerLine,
      revision: trailer.coveredUpTo,
      reason: 'head',
      expectedHash: trailer.chainHead,
      ...(coveredHash ? { actualHash: coveredHash } : {}),
      detail: coveredHash
        ? 'recomputed hash at coveredUpTo differs from the recorded chain head'
        : 'the export lacks the event at coveredUpTo',
    });
  }
  for (const anchor of options.anchors ?? []) {
    const atAnchor = anchor.revision < 0 ? genesisHash(trailer.streamName) : hashes.get(anchor.revision);
    if (atAnchor !== anchor.hash) {
      return failed({
        line: trailerLine,
        revision: anchor.revision,
        reason: 'anchor',
        expectedHash: anchor.hash,
        ...(atAnchor ? { actualHash: atAnchor } : {}),
        detail: 'the export does not reproduce an independently known chain head',
      });
    }
  }
  return {
    ok: true,
    streamName: trailer.streamName,
    checkedEvents,
    coveredUpTo: trailer.coveredUpTo,
    chainHead: trailer.chainHead,
    uncoveredEvents: Math.max(0, nextRevision - 1 - trailer.coveredUpTo),
  };
}
