import {
  buildMessage,
  commandRoutingKey,
  deterministicId,
  tenantStream,
  type CommandMessage,
  type CommandType,
  type MessageMetadata,
  type TenantEvent,
} from '@app/contracts';
import {
  StreamNotFoundError,
  decideAndAppend,
  type StreamDecision,
  type EventData,
  type EventStore,
  type RecordedEvent,
} from '@app/event-store';
import type { Logger } from 'pino';
import { evolve, initialState, type TenantState } from '@app/lifecycle';
import {
  decide,
  nextDeadline,
  pendingCommands,
  type DecidedEvent,
  type DeciderConfig,
  type PurgeGuard,
} from '../domain';
import type { Clock } from './clock';

export interface CommandDispatcher {
  dispatch(command: CommandMessage, routingKey: string): Promise<void>;
}

/** The cross-tenant purge guardrails as the processor needs them (see `PurgeGuardrails`). */
export interface PurgeGate {
  /** Records the tenant's cancellation, if any, for the mass-cancellation breaker. */
  observe(state: TenantState, now: Date): Promise<void>;
  /** Asked only when the decider is about to start this tenant's purge; a grant is durable before it returns. */
  permit(state: TenantState, now: Date): Promise<PurgeGuard>;
}

export interface ProcessResult {
  state: TenantState;
  /** The decider would have purged, but the guardrails hold the purge. */
  purgeHeld?: boolean;
  /** Events this call appended (empty when the decider had nothing new to say). */
  appended: number;
  nextDeadline: Date | undefined;
}

const ACTOR = 'orchestrator';

/** What one pass decided on the state it read (appended once `decideAndAppend` returns it). */
interface Decided {
  state: TenantState;
  toAppend: EventData<unknown, MessageMetadata>[];
  decisions: DecidedEvent[];
  correlationId: string;
  purgeHeld: boolean;
}

/** A tenant stream as read, and the state it folds to. */
export interface LoadedTenant {
  state: TenantState;
  events: RecordedEvent[];
}

/**
 * The one command-handling path of the orchestrator (CONVENTIONS.md 4): read the tenant stream, fold,
 * decide, append with the revision read (on conflict: reload and decide again), then dispatch the commands
 * the appended `StepStarted` events stand for. The stream is the outbox: a crash between append and
 * dispatch is repaired by `redispatchPending`, which the orchestrator's reconcile pass calls (on start, on
 * first sight of a tenant, after a failed pass).
 */
export class TenantProcessor {
  constructor(
    private readonly eventStore: EventStore,
    private readonly dispatcher: CommandDispatcher,
    private readonly config: DeciderConfig,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly gate?: PurgeGate,
  ) {}

  async load(tenantId: string): Promise<LoadedTenant> {
    let events: RecordedEvent[] = [];
    try {
      events = await this.eventStore.readStream(tenantStream(tenantId));
    } catch (error) {
      if (!(error instanceof StreamNotFoundError)) throw error;
    }
    const state = events.reduce((s, e) => evolve(s, toTenantEvent(e)), initialState());
    return { state, events };
  }

  /** `loaded`: the stream as just read by the caller, used for the first attempt (saves a read). */
  async process(tenantId: string, loaded?: LoadedTenant): Promise<ProcessResult> {
    const decided = await decideAndAppend(
      this.eventStore,
      tenantStream(tenantId),
      async (attempt): Promise<StreamDecision<Decided | undefined>> => {
        const { state, events } = attempt === 0 && loaded ? loaded : await this.load(tenantId);
        if (events.length === 0) return { append: [], expectedRevision: 'any', result: undefined };
        const now = this.clock();
        if (this.gate) await this.gate.observe(state, now);
        let decisions = decide(state, now, this.config);
        let purgeHeld = false;
        // The guardrails are asked exactly when a purge is about to start, never earlier: a permit is a purge.
        if (this.gate && decisions.some((decision) => decision.type === 'PurgeStarted')) {
          const guard = await this.gate.permit(state, now);
          if (!guard.allowed) {
            purgeHeld = true;
            decisions = decide(state, now, this.config, guard);
          }
        }
        const last = events[events.length - 1];
        const correlationId = String(last.metadata.correlationId ?? deterministicId('correlation', tenantId));
        const toAppend: EventData<unknown, MessageMetadata>[] = decisions.map((decision, index) => {
          // Same state, same decisions, same ids: two orchestrators racing append identical events.
          const id = deterministicId(
            'decision',
            tenantId,
            String(last.revision),
            String(index),
            decision.type,
          );
          return {
            id,
            type: decision.type,
            data: decision.data,
            metadata: {
              messageId: id,
              schemaVersion: 1,
              occurredAt: now.toISOString(),
              tenantId,
              correlationId,
              causationId: last.id,
              actor: ACTOR,
            },
          };
        });
        return {
          append: toAppend,
          expectedRevision: last.revision,
          result: { state, toAppend, decisions, correlationId, purgeHeld },
        };
      },
      {
        onConflict: () => this.logger.debug({ tenantId }, 'tenant stream moved on; deciding again'),
        exhausted: (_stream, conflicts) =>
          new Error(`tenant ${tenantId}: gave up after ${conflicts} concurrent-append conflicts`),
      },
    );
    // A tenant without a stream: nothing to decide, nothing to wait for.
    if (!decided) return { state: initialState(), appended: 0, nextDeadline: undefined };
    const { state, toAppend, decisions, correlationId, purgeHeld } = decided;
    if (toAppend.length === 0) {
      return { state, appended: 0, nextDeadline: nextDeadline(state, this.config), purgeHeld };
    }
    const next = toAppend.reduce(
      (folded, event) =>
        evolve(folded, { type: event.type, data: event.data, metadata: event.metadata } as TenantEvent),
      state,
    );
    const started = new Set(
      decisions
        .filter((d) => d.type === 'StepStarted')
        .map((d) => (d.data as { commandId: string }).commandId),
    );
    await this.dispatchPending(next, (commandId) => started.has(commandId), correlationId);
    return {
      state: next,
      appended: toAppend.length,
      nextDeadline: nextDeadline(next, this.config),
      purgeHeld,
    };
  }

  /** Send again every command that has no outcome yet. */
  async redispatchPending(tenantId: string, loaded?: LoadedTenant): Promise<number> {
    const { state, events } = loaded ?? (await this.load(tenantId));
    if (events.length === 0) return 0;
    const correlationId = String(events[events.length - 1].metadata.correlationId ?? '');
    return this.dispatchPending(state, () => true, correlationId);
  }

  private async dispatchPending(
    state: TenantState,
    include: (commandId: string) => boolean,
    correlationId: string,
  ): Promise<number> {
    const tenant = state.tenant;
    if (!tenant) return 0;
    let sent = 0;
    for (const pending of pendingCommands(state)) {
      if (!include(pending.commandId)) continue;
      const command = buildMessage(
        pending.commandType,
        { step: pending.step, tenant, params: pending.params as CommandMessage['data']['params'] },
        {
          tenantId: tenant.tenantId,
          correlationId,
          causationId: deterministicId('started', pending.commandId),
          commandId: pending.commandId,
          actor: ACTOR,
        },
        pending.commandId,
        this.clock(),
      ) as CommandMessage;
      await this.dispatcher.dispatch(command, commandRoutingKey(pending.commandType as CommandType));
      sent++;
    }
    return sent;
  }
}

export function toTenantEvent(event: RecordedEvent): TenantEvent {
  return { type: event.type, data: event.data, metadata: event.metadata } as unknown as TenantEvent;
}
