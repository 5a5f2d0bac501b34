import { tenantIdFromStream, TENANT_STREAM_CATEGORY } from '@app/contracts';
import type { Checkpoint, EventStore, RecordedEvent, Subscription } from '@app/event-store';
import pino, { type Logger } from 'pino';
import { AuditWriter } from './audit-writer';
import { AUDIT_ERROR_CODES, AuditError } from './errors';
import { streamMetadataCursor, type ProjectorCursor } from './projector-cursor';

export interface AuditChainProjectorOptions {
  /** Subscription and cursor name (default `audit-chain`). */
  name?: string;
  logger?: Logger;
  /** Default: the stream metadata of `auditcursor-<name>`; `false` replays the tenant category on every start. */
  cursor?: ProjectorCursor | false;
  /** Hashes per checkpoint event (default 500). */
  maxEntriesPerCheckpoint?: number;
  /** Batching window: events arriving within it share a checkpoint (default 200 ms). */
  flushDelayMs?: number;
  /** Events read per page of a tenant stream (default 1000). */
  readPageSize?: number;
  /** Tenants waiting for a checkpoint before the subscription is held back (default 1000). */
  maxPendingTenants?: number;
  /** Minimum gap between two cursor saves while running (default 1000 ms). */
  cursorSaveIntervalMs?: number;
  /** Delay before retrying tenants whose checkpoint failed, doubled per failure up to 30 s (default 500 ms). */
  retryDelayMs?: number;
  now?: () => Date;
  /** Called if the subscription stops for good (it then needs a restart). */
  onError?: (error: unknown) => void;
}

export interface AuditChainProjectorStats {
  running: boolean;
  pendingTenants: number;
  /** Checkpoint events appended, counting appends that turned out to be idempotent repeats of another instance's. */
  checkpointsWritten: number;
  /** Hashes appended (same caveat). */
  eventsCovered: number;
  conflicts: number;
  failures: number;
  cursor: Checkpoint | undefined;
}

/**
 * Follows the `tenant` category and appends chain checkpoints to `audit-<tenantId>`.
 *
 * Hashes live in a companion stream rather than in event metadata because services append to tenant streams
 * concurrently with expectedRevision `any`: a writer cannot know the previous hash without serialising every
 * writer. Here a single logical writer per audit stream is enforced by optimistic concurrency on the audit
 * stream instead: each append names the audit revision the projector last read, checkpoint ids derive from
 * (tenant, toRevision) so a repeated append is a no-op, and a conflict means another instance wrote first, so
 * the projector reloads the head and carries on from there. Subscription events only mark a tenant dirty;
 * the hashes are computed from `readStream`, the authoritative revision order, not from delivery order.
 *
 * The store must be opened without upcasters: the chain covers the data as stored. This class batches the
 * subscription's tenants and keeps the cursor; audit-writer.ts writes each tenant's checkpoints.
 */
export class AuditChainProjector {
  private readonly name: string;
  private readonly logger: Logger;
  private readonly cursor: ProjectorCursor | undefined;
  private readonly writer: AuditWriter;
  private readonly flushDelayMs: number;
  private readonly maxPending: number;
  private readonly cursorSaveIntervalMs: number;
  private readonly retryDelayMs: number;

  private subscription: Subscription | undefined;
  /** Tenant → highest delivered revision not yet known to be covered. */
  private pending = new Map<string, number>();
  private delivered: Checkpoint | undefined;
  private savedCursor: Checkpoint | undefined;
  private lastCursorSave = 0;
  private flushTimer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private consecutiveFailures = 0;
  private stopping = false;
  private failures = 0;

  constructor(
    private readonly store: EventStore,
    private readonly options: AuditChainProjectorOptions = {},
  ) {
    this.name = options.name ?? 'audit-chain';
    this.logger = options.logger ?? pino({ name: 'audit', level: process.env['LOG_LEVEL'] ?? 'info' });
    this.cursor =
      options.cursor === false ? undefined : (options.cursor ?? streamMetadataCursor(store, this.name));
    this.writer = new AuditWriter(
      store,
      positive(options.maxEntriesPerCheckpoint ?? 500, 'maxEntriesPerCheckpoint'),
      positive(options.readPageSize ?? 1000, 'readPageSize'),
      options.now ?? (() => new Date()),
    );
    this.flushDelayMs = options.flushDelayMs ?? 200;
    this.maxPending = positive(options.maxPendingTenants ?? 1000, 'maxPendingTenants');
    this.cursorSaveIntervalMs = options.cursorSaveIntervalMs ?? 1000;
    this.retryDelayMs = options.retryDelayMs ?? 500;
  }

  /** Subscribes from the saved cursor (or the start of the log). */
  async start(): Promise<void> {
    if (this.subscription) return;
    this.stopping = false;
    const from = await this.cursor?.load();
    this.savedCursor = from;
    this.delivered = from;
    this.logger.info({ projector: this.name, from: from ?? 'start' }, 'audit chain projector starting');
    this.subscription = this.store.subscribe(
      { category: TENANT_STREAM_CATEGORY },
      {
        name: this.name,
        fromCheckpoint: from ?? 'start',
        handler: (event) => this.onEvent(event),
        onError: (error) => {
          this.logger.error(
            { projector: this.name, error: describe(error) },
            'audit chain subscription stopped',
          );
          this.options.onError?.(error);
        },
      },
    );
  }

  /** Stops the subscription, writes the checkpoints still pending and saves the cursor. */
  async stop(): Promise<void> {
    this.stopping = true;
    const subscription = this.subscription;
    this.subscription = undefined;
    await subscription?.stop();
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    await this.flush();
  }

  /** Brings `audit-<tenantId>` up to the tenant stream's current end now; returns the covered revision. */
  async catchUpTenant(tenantId: string): Promise<number> {
    return (await this.writer.cover(tenantId, Number.MAX_SAFE_INTEGER)).toRevision;
  }

  /** Runs a flush now and resolves when nothing delivered so far is left uncovered (or a tenant failed). */
  async flush(): Promise<void> {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    while (this.flushing) await this.flushing;
    this.flushing = this.flushRound().finally(() => {
      this.flushing = undefined;
    });
    await this.flushing;
  }

  stats(): AuditChainProjectorStats {
    return {
      running: this.subscription !== undefined,
      pendingTenants: this.pending.size,
      ...this.writer.counters,
      failures: this.failures,
      cursor: this.savedCursor,
    };
  }

  private async onEvent(event: RecordedEvent): Promise<void> {
    let tenantId: string;
    try {
      tenantId = tenantIdFromStream(event.streamName);
    } catch {
      // Not a tenant stream by the contracts' rule, so there is no audit stream to hold its chain.
      this.logger.warn(
        { projector: this.name, stream: event.streamName },
        'skipping a stream with an invalid tenant id',
      );
      this.delivered = event.position;
      return;
    }
    const head = this.writer.head(tenantId);
    if (!head || head.toRevision < event.revision) {
      this.pending.set(tenantId, Math.max(this.pending.get(tenantId) ?? -1, event.revision));
    }
    this.delivered = event.position;
    if (this.pending.size >= this.maxPending) {
      await this.flush();
    } else {
      this.scheduleFlush(this.flushDelayMs);
    }
  }

  private scheduleFlush(delayMs: number): void {
    if (this.flushTimer || this.stopping) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      this.flush().catch((error: unknown) =>
        this.logger.error({ projector: this.name, error: describe(error) }, 'audit flush failed'),
      );
    }, delayMs);
  }

  /**
   * One round: swap out the pending tenants together with the delivered position, cover each; only if all
   * succeed is that position known covered and saved as the cursor. Failed tenants go back to pending.
   */
  private async flushRound(): Promise<void> {
    const covered = this.delivered;
    const batch = this.pending;
    this.pending = new Map();
    let failed = false;
    for (const [tenantId, revision] of batch) {
      try {
        await this.writer.cover(tenantId, revision);
      } catch (error) {
        failed = true;
        this.failures += 1;
        this.pending.set(tenantId, Math.max(this.pending.get(tenantId) ?? -1, revision));
        this.logger.error(
          { projector: this.name, tenantId, error: describe(error) },
          'audit checkpoint failed',
        );
      }
    }
    if (failed) {
      this.consecutiveFailures += 1;
      if (!this.stopping) {
        this.scheduleFlush(
          Math.min(30_000, this.retryDelayMs * 2 ** Math.min(this.consecutiveFailures - 1, 10)),
        );
      }
      return;
    }
    this.consecutiveFailures = 0;
    await this.saveCursor(covered);
    if (this.pending.size > 0) this.scheduleFlush(this.flushDelayMs);
  }

  private async saveCursor(checkpoint: Checkpoint | undefined): Promise<void> {
    if (!this.cursor || checkpoint === undefined || checkpoint === this.savedCursor) return;
    if (!this.stopping && Date.now() - this.lastCursorSave < this.cursorSaveIntervalMs) {
      this.scheduleFlush(this.cursorSaveIntervalMs);
      return;
    }
    try {
      await this.cursor.save(checkpoint);
      this.savedCursor = checkpoint;
      this.lastCursorSave = Date.now();
    } catch (error) {
      // Only costs a longer replay after a restart: checkpoints themselves are idempotent.
      this.logger.warn({ projector: this.name, error: describe(error) }, 'saving the audit cursor failed');
    }
  }
}

function positive(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new AuditError(AUDIT_ERROR_CODES.INVALID_ARGUMENT, `${name} must be a positive integer`);
  }
  return value;
}

function describe(error: unknown): { name: string; message: string; code?: string } {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) };
  const code = (error as { code?: unknown }).code;
  return { name: error.name, message: error.message, ...(typeof code === 'string' ? { code } : {}) };
}
