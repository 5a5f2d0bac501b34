import { buildMetadata, deterministicId, tenantStream } from '@app/contracts';
import {
  readStreamOrEmpty,
  WrongExpectedVersionError,
  type EventData,
  type EventStore,
  type RecordedEvent,
} from '@app/event-store';
import {
  AUDIT_CHECKPOINT_EVENT_TYPE,
  AUDIT_HASH_ALGORITHM,
  chainEntries,
  genesisHash,
  parseCheckpoint,
  type AuditCheckpointData,
} from './chain';
import { AUDIT_ERROR_CODES, AuditError } from './errors';
import { auditStream } from './streams';

/**
 * Brings one tenant's audit stream up to its tenant stream: reads the tenant events after the audit head a page
 * at a time, appends their hash-chain checkpoints naming the audit revision last read, and on a conflict
 * (another instance wrote first) reloads the head and carries on from there.
 */

export interface ChainHead {
  toRevision: number;
  headHash: string;
  /** Revision of the audit stream's last event; -1 when the audit stream is empty. */
  auditRevision: number;
}

const MAX_CONFLICT_RETRIES = 20;
const ACTOR = 'audit-chain';

export class AuditWriter {
  /** Checkpoint events appended (idempotent repeats included), hashes appended, conflicts met. */
  readonly counters = { checkpointsWritten: 0, eventsCovered: 0, conflicts: 0 };
  private readonly heads = new Map<string, ChainHead>();

  constructor(
    private readonly store: EventStore,
    private readonly maxEntriesPerCheckpoint: number,
    private readonly pageSize: number,
    private readonly now: () => Date,
  ) {}

  /** The head last written or loaded for the tenant, if any. */
  head(tenantId: string): ChainHead | undefined {
    return this.heads.get(tenantId);
  }

  /** Appends checkpoints, a page at a time, until the audit stream covers `revision` or the stream's end. */
  async cover(tenantId: string, revision: number): Promise<ChainHead> {
    const stream = tenantStream(tenantId);
    for (let conflicts = 0; ;) {
      const head = this.heads.get(tenantId) ?? (await this.loadHead(tenantId));
      if (head.toRevision >= revision) return head;
      const events = await readStreamOrEmpty(this.store, stream, {
        from: head.toRevision + 1,
        limit: this.pageSize,
      });
      if (events.length === 0) return head;
      try {
        this.heads.set(tenantId, await this.appendCheckpoints(tenantId, head, events));
      } catch (error) {
        if (!(error instanceof WrongExpectedVersionError)) throw error;
        // Another instance checkpointed this tenant first: its head is as good as ours.
        this.heads.delete(tenantId);
        this.counters.conflicts += 1;
        conflicts += 1;
        if (conflicts > MAX_CONFLICT_RETRIES) throw error;
      }
    }
  }

  private async appendCheckpoints(
    tenantId: string,
    head: ChainHead,
    events: RecordedEvent[],
  ): Promise<ChainHead> {
    const stream = tenantStream(tenantId);
    for (const [index, event] of events.entries()) {
      if (event.revision !== head.toRevision + 1 + index) {
        // A gap means the store hides events (truncateBefore, maxAge): a chain over it would vouch for a lie.
        throw new AuditError(
          AUDIT_ERROR_CODES.INVALID_CHECKPOINT,
          `${stream}: expected revision ${head.toRevision + 1 + index}, read ${event.revision}`,
        );
      }
    }
    const entries = chainEntries(head.headHash, events);
    const checkpoints: EventData<AuditCheckpointData>[] = [];
    let prevHash = head.headHash;
    for (let start = 0; start < entries.length; start += this.maxEntriesPerCheckpoint) {
      const slice = entries.slice(start, start + this.maxEntriesPerCheckpoint);
      const last = slice[slice.length - 1];
      const id = deterministicId('audit-checkpoint', tenantId, String(last.revision));
      checkpoints.push({
        id,
        type: AUDIT_CHECKPOINT_EVENT_TYPE,
        data: {
          algorithm: AUDIT_HASH_ALGORITHM,
          streamName: stream,
          fromRevision: slice[0].revision,
          toRevision: last.revision,
          prevHash,
          entries: slice,
          headHash: last.hash,
        },
        metadata: buildMetadata(
          { tenantId, correlationId: id, causationId: events[start + slice.length - 1].id, actor: ACTOR },
          id,
          this.now(),
        ),
      });
      prevHash = last.hash;
    }
    const result = await this.store.append(auditStream(tenantId), checkpoints, {
      expectedRevision: head.auditRevision < 0 ? 'no_stream' : head.auditRevision,
    });
    this.counters.checkpointsWritten += checkpoints.length;
    this.counters.eventsCovered += entries.length;
    const last = entries[entries.length - 1];
    return { toRevision: last.revision, headHash: last.hash, auditRevision: result.nextExpectedRevision };
  }

  private async loadHead(tenantId: string): Promise<ChainHead> {
    const [last] = await readStreamOrEmpty(this.store, auditStream(tenantId), {
      direction: 'backwards',
      limit: 1,
    });
    if (!last) return { toRevision: -1, headHash: genesisHash(tenantStream(tenantId)), auditRevision: -1 };
    const checkpoint = parseCheckpoint(last.data);
    if (checkpoint.streamName !== tenantStream(tenantId)) {
      throw new AuditError(
        AUDIT_ERROR_CODES.INVALID_CHECKPOINT,
        `${auditStream(tenantId)} names another stream`,
      );
    }
    return { toRevision: checkpoint.toRevision, headHash: checkpoint.headHash, auditRevision: last.revision };
  }
}
