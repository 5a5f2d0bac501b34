import {
  buildMetadata,
  deterministicId,
  GUARDRAIL_SNAPSHOT_EVENT,
  purgeGuardrailSnapshotStream,
  purgeGuardrailStream,
  type GuardrailSnapshotData,
  type MessageMetadata,
} from '@app/contracts';
import {
  WrongExpectedVersionError,
  decideAndAppend,
  readStreamOrEmpty,
  type EventData,
  type EventStore,
} from '@app/event-store';
import type { Logger } from 'pino';
import {
  compactGuardrail,
  decideObservation,
  decidePermit,
  DEFAULT_SNAPSHOT_EVERY,
  evolveGuardrail,
  guardrailFromSnapshot,
  guardrailSnapshot,
  guardedCancellationKey,
  initialGuardrailState,
  type GuardrailConfig,
  type GuardrailDecision,
  type GuardrailState,
  type PurgeGuard,
  type TenantState,
} from '../domain';

const ACTOR = 'orchestrator';

/**
 * The runtime side of the purge guardrails: folds the global guardrail stream (incrementally, from the last
 * revision it saw), records cancellations, and grants or refuses purge permits. Every write appends with the
 * revision it decided on, so two orchestrator instances never both take the last slot of the hour or miss a
 * trip: the loser of a race reloads and decides again.
 *
 * The fold starts from the latest snapshot (`purgeGuardrailSnapshotStream()`), and a compacted snapshot is
 * written once `snapshotEvery` events follow it: start-up reads a bounded tail and memory holds only what a
 * decision can still need, however long the guardrail stream (kept whole for audit) grows.
 */
export class PurgeGuardrails {
  private state: GuardrailState = initialGuardrailState();
  private loaded = false;
  /** Revision of the guardrail stream the newest snapshot covers, and that snapshot's own revision. */
  private snapshotCovers = 0;
  private snapshotRevision: number | 'no_stream' = 'no_stream';

  constructor(
    private readonly store: EventStore,
    private readonly config: GuardrailConfig,
    private readonly logger: Logger,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  get snapshot(): GuardrailState {
    return this.state;
  }

  /** Reads what other writers (instances, operators) appended since the last read. */
  async refresh(): Promise<GuardrailState> {
    if (!this.loaded) await this.loadSnapshot();
    const events = await readStreamOrEmpty(this.store, purgeGuardrailStream(), { from: this.state.revision });
    for (const event of events) {
      if (event.revision !== this.state.revision) continue;
      this.state = evolveGuardrail(this.state, { type: event.type, data: event.data } as GuardrailDecision);
    }
    if (this.state.revision - this.snapshotCovers >= (this.config.snapshotEvery ?? DEFAULT_SNAPSHOT_EVERY)) {
      await this.takeSnapshot();
    }
    return this.state;
  }

  private async loadSnapshot(): Promise<void> {
    const [latest] = await readStreamOrEmpty(this.store, purgeGuardrailSnapshotStream(), {
      direction: 'backwards',
      from: 'end',
      limit: 1,
    });
    if (latest) {
      const data = latest.data as GuardrailSnapshotData;
      this.state = guardrailFromSnapshot(data);
      this.snapshotCovers = data.revision;
      this.snapshotRevision = latest.revision;
    }
    this.loaded = true;
  }

  /**
   * Compacts the state and records it. Best effort: a failure (or another instance snapshotting first) only
   * means the next refresh tries again; the guardrail stream stays the truth either way.
   */
  private async takeSnapshot(): Promise<void> {
    const now = this.clock();
    const compacted = compactGuardrail(this.state, now, this.config);
    const data = guardrailSnapshot(compacted, now);
    const id = deterministicId('guardrail-snapshot', String(compacted.revision));
    const metadata = buildMetadata(
      { tenantId: '', correlationId: deterministicId('guardrail-correlation', 'snapshot'), actor: ACTOR },
      id,
      now,
    );
    try {
      const result = await this.store.append(
        purgeGuardrailSnapshotStream(),
        [{ id, type: GUARDRAIL_SNAPSHOT_EVENT, data, metadata }],
        { expectedRevision: this.snapshotRevision },
      );
      this.snapshotRevision = Number(result.nextExpectedRevision);
    } catch (error) {
      if (error instanceof WrongExpectedVersionError) {
        // Another instance snapshotted: reload from its snapshot, and try again after more events.
        this.loaded = false;
        return;
      }
      this.logger.warn({ err: error }, 'guardrail snapshot not written; will retry');
      return;
    }
    // Unless a concurrent refresh folded further meanwhile (its state is compacted at the next snapshot).
    if (this.state.revision === compacted.revision) this.state = compacted;
    this.snapshotCovers = Math.max(this.snapshotCovers, compacted.revision);
    this.logger.info(
      { revision: compacted.revision, observed: Object.keys(compacted.observed).length },
      'guardrail snapshot taken',
    );
  }

  /** Records the tenant's current cancellation for the breaker (once per cycle). */
  async observe(tenant: TenantState, now: Date): Promise<void> {
    const cancellation = tenant.cancellation;
    const tenantId = tenant.tenant?.tenantId;
    // A cancellation during provisioning is rolled back, never purged: the breaker guards purges only. Only a
    // tenant still waiting for its purge is observed: a purged or reactivated one (its observation possibly
    // compacted away long ago) must not be counted again.
    if (!cancellation || !tenantId || cancellation.duringProvisioning) return;
    if (tenant.status !== 'deprovisioning') return;
    const subject = { tenantId, cycle: cancellation.cycle, arrivedAt: cancellation.cancelledAt };
    if (this.state.observed[guardedCancellationKey(tenantId, cancellation.cycle)]) return;
    await this.decideAndAppend((state) => ({
      decisions: decideObservation(state, subject, now, this.config),
      answer: undefined,
    }));
  }

  /** Whether this tenant's purge may start now; a grant is recorded before it is returned. */
  async permit(tenant: TenantState, now: Date): Promise<PurgeGuard> {
    const cancellation = tenant.cancellation;
    const tenantId = tenant.tenant?.tenantId;
    if (!cancellation || !tenantId) return { allowed: true };
    const subject = { tenantId, cycle: cancellation.cycle };
    const guard = await this.decideAndAppend<PurgeGuard>((state) => {
      const decision = decidePermit(state, subject, now, this.config);
      return { decisions: decision.decisions, answer: decision.guard };
    });
    if (!guard.allowed) {
      this.logger.warn(
        { tenantId, code: guard.reason.code, retryAt: guard.retryAt },
        'purge held by guardrail',
      );
    }
    return guard;
  }

  /** Read, decide, append at the revision read; on a conflict, read and decide again. Returns the answer. */
  private async decideAndAppend<T>(
    decideOn: (state: GuardrailState) => { decisions: GuardrailDecision[]; answer: T },
  ): Promise<T> {
    const { decisions, answer } = await decideAndAppend(this.store, purgeGuardrailStream(), async () => {
      const state = await this.refresh();
      const decided = decideOn(state);
      return {
        append: decided.decisions.map((decision, index) => this.toEvent(state, decision, index)),
        expectedRevision: state.revision === 0 ? ('no_stream' as const) : state.revision - 1,
        result: decided,
      };
    });
    for (const decision of decisions) {
      if (decision.type === 'BreakerTripped') {
        this.logger.error(decision.data, 'mass-cancellation breaker tripped: purges paused for an operator');
      }
    }
    return answer;
  }

  private toEvent(
    state: GuardrailState,
    decision: GuardrailDecision,
    index: number,
  ): EventData<unknown, MessageMetadata> {
    const tenantId = 'tenantId' in decision.data ? decision.data.tenantId : '';
    // Ids name the fact, not the position: a racing instance recording the same fact is an idempotent no-op,
    // while a different fact at the same revision is a conflict that makes the loser decide again.
    const id =
      'cycle' in decision.data
        ? deterministicId('guardrail', decision.type, tenantId, String(decision.data.cycle))
        : deterministicId('guardrail', decision.type, String(state.revision), String(index));
    const metadata = buildMetadata(
      { tenantId, correlationId: deterministicId('guardrail-correlation', tenantId), actor: ACTOR },
      id,
      new Date(),
    );
    return { id, type: decision.type, data: decision.data, metadata };
  }
}
