import { setTimeout as sleep } from 'node:timers/promises';
import {
  buildMessage,
  deterministicId,
  INTEGRATION_EVENTS,
  ORCHESTRATOR_CHECKPOINT_STREAM,
  PURGE_GUARDRAIL_STREAM,
  TENANT_STREAM_CATEGORY,
  tenantIdFromStream,
  type CommandMessage,
  type IntegrationEventType,
} from '@app/contracts';
import type { EventStore, RecordedEvent, Subscription } from '@app/event-store';
import { MessagingError, type MessagePublisher } from '@app/messaging';
import type { Logger } from 'pino';
import type { DeciderConfig, GuardrailConfig } from '../domain';
import type { Clock } from './clock';
import { PurgeGuardrails } from './purge-guardrails';
import { TenantProcessor, type CommandDispatcher, type LoadedTenant } from './tenant-processor';

/** Tenants decided at once on start (each reads its stream: bounded by the event store's pool). */
const START_CONCURRENCY = 8;

const INTEGRATION_RETRY_BASE_MS = 200;
const INTEGRATION_RETRY_MAX_MS = 30_000;
/** A tenant whose pass keeps failing is tried again at most this far apart. */
const FAILED_PASS_RETRY_MAX_MS = 30_000;
/**
 * Purged tenants whose last decided revision is still remembered after their state was dropped: the events
 * the orchestrator appended on their way to purged come back through the subscription just after, and need
 * no read of their stream. Bounded, oldest forgotten first.
 */
const RECENTLY_PURGED_MAX = 1024;

/** The orchestrator is stopping: work waiting for the broker gives up, to be redone after restart. */
class StoppedError extends Error {
  constructor() {
    super('orchestrator stopping');
  }
}

/** Resolves after `ms`, or at once when `signal` aborts (its listener removed either way, by Node). */
function delay(ms: number, signal: AbortSignal): Promise<void> {
  return sleep(ms, undefined, { signal }).catch(() => undefined);
}

/**
 * A publish the broker was never asked to take, because the message or its names are invalid: no retry can
 * fix it, and waiting on it would stop the subscription for every tenant.
 */
const UNPUBLISHABLE: ReadonlySet<string> = new Set([
  'MESSAGING.INVALID_MESSAGE',
  'MESSAGING.INVALID_NAME',
  'MESSAGING.INVALID_OPTIONS',
]);

/** Lifecycle events that the outside world hears about on `tenant.events`. */
const INTEGRATION: Readonly<Record<string, IntegrationEventType>> = {
  TenantActivated: INTEGRATION_EVENTS.activated,
  TenantProvisioningFailed: INTEGRATION_EVENTS.provisioningFailed,
  // Cancelled before activation: billing's last word on the tenant, as for a purge (nothing is left).
  ProvisioningCancelled: INTEGRATION_EVENTS.deprovisioned,
  CancellationRequested: INTEGRATION_EVENTS.deprovisioningStarted,
  TenantReactivated: INTEGRATION_EVENTS.reactivated,
  TenantPurged: INTEGRATION_EVENTS.deprovisioned,
};

/**
 * Requests from outside that are recorded even when the tenant's state refuses them (a cancellation of a
 * failed tenant, a second one during provisioning, a reactivation after purge): their integration event is
 * published only when the state machine took them, or billing would hear of a deprovisioning that never starts.
 */
const CONDITIONAL: ReadonlySet<string> = new Set(['CancellationRequested', 'TenantReactivated']);

export interface OrchestratorOptions {
  eventStore: EventStore;
  publisher: MessagePublisher;
  decider: DeciderConfig;
  clock: Clock;
  logger: Logger;
  timerIntervalMs: number;
  /** How often the checkpoint is saved at most (it is also saved on stop). */
  checkpointEveryMs?: number;
  /** Cross-tenant purge guardrails (hourly cap, mass-cancellation breaker); none when omitted. */
  guardrails?: GuardrailConfig;
  /**
   * Called when a subscription stops on an error: the process then follows nothing. main.ts exits, so the
   * supervisor restarts it and the start rebuilds everything from the streams.
   */
  onFatal?: (error: unknown) => void;
}

/**
 * The orchestrator process: follows every tenant stream from its checkpoint, runs the decider after each
 * event and when a timer falls due, dispatches commands, and publishes integration events. Everything it
 * knows is rebuilt from the event store on start, so timers and pending commands survive restarts.
 */
export class Orchestrator {
  private readonly processor: TenantProcessor;
  private readonly queues = new Map<string, Promise<unknown>>();
  /**
   * The last revision decided, per tenant followed. A purged tenant is not followed: it has nothing left to
   * decide, so everything about it is dropped (see `forgetPurged`); an event for it later, if any, finds no
   * entry here and makes the next pass read its stream again (a reconcile), as for a tenant never seen.
   */
  private readonly processedRevision = new Map<string, number>();
  /** Dropped purged tenants, with the revision decided last (bounded: RECENTLY_PURGED_MAX). */
  private readonly recentlyPurged = new Map<string, number>();
  private readonly deadlines = new Map<string, number>();
  /** Tenants whose last pass failed, with how many times in a row: their next pass reconciles. */
  private readonly failures = new Map<string, number>();
  private readonly guardrails?: PurgeGuardrails;
  /** Tenants whose purge the guardrails hold: an operator's breaker reset wakes them at once. */
  private readonly held = new Set<string>();
  private subscription?: Subscription;
  private guardrailSubscription?: Subscription;
  private timer?: NodeJS.Timeout;
  private lastCheckpointSave = 0;
  private stopped = false;
  /** Aborted on stop: ends the wait between two attempts to publish an integration event. */
  private readonly stopping = new AbortController();

  constructor(private readonly options: OrchestratorOptions) {
    const dispatcher: CommandDispatcher = {
      dispatch: async (command: CommandMessage, routingKey: string) => {
        await options.publisher.publish('provisioningCommands', routingKey, command);
      },
    };
    this.guardrails = options.guardrails
      ? new PurgeGuardrails(
          options.eventStore,
          options.guardrails,
          options.logger.child({ component: 'purge-guardrails' }),
          options.clock,
        )
      : undefined;
    this.processor = new TenantProcessor(
      options.eventStore,
      dispatcher,
      options.decider,
      options.clock,
      options.logger,
      this.guardrails,
    );
  }

  async start(): Promise<void> {
    // Timers and unsent commands live only in the streams: rebuild them for every tenant before following
    // new events, so a restart misses no deadline and re-sends what a crash left undispatched. Tenants are
    // independent: several at a time, one read of each stream.
    const tenants = await this.listTenants();
    const listed = tenants.length;
    const startedAt = Date.now();
    const workers = Array.from({ length: Math.min(START_CONCURRENCY, tenants.length) }, async () => {
      for (let tenantId = tenants.pop(); tenantId !== undefined; tenantId = tenants.pop()) {
        const id = tenantId;
        // One tenant that cannot be decided now must not keep every other one from starting.
        await this.serialized(id, () => this.reconcile(id)).catch((error: unknown) =>
          this.failed(id, error, 'tenant could not be decided at start; retrying'),
        );
      }
    });
    await Promise.all(workers);
    this.options.logger.info(
      { tenants: listed, followed: this.processedRevision.size, ms: Date.now() - startedAt },
      'every tenant decided after start (purged ones are not followed)',
    );
    const metadata = await this.options.eventStore.getStreamMetadata(ORCHESTRATOR_CHECKPOINT_STREAM);
    const checkpoint = typeof metadata.checkpoint === 'string' ? metadata.checkpoint : 'start';
    this.subscription = this.options.eventStore.subscribe(
      { category: TENANT_STREAM_CATEGORY },
      {
        name: 'orchestrator',
        fromCheckpoint: checkpoint,
        handler: async (event) => {
          await this.onEvent(tenantIdFromStream(event.streamName), event);
          // The checkpoint only shortens the next start's catch-up: a save that fails while the store is away
          // must not stop the subscription (the next save, a second later, covers it).
          await this.maybeSaveCheckpoint(event.position).catch((error: unknown) =>
            this.options.logger.warn({ err: error }, 'checkpoint not saved; the next event saves it'),
          );
        },
        onError: (error) => {
          // Stopping interrupts an integration event still waiting for the broker: it is sent after restart.
          if (error instanceof StoppedError) this.options.logger.info('orchestrator subscription stopped');
          else {
            this.options.logger.fatal({ err: error }, 'orchestrator subscription stopped');
            this.options.onFatal?.(error);
          }
        },
      },
    );
    if (this.guardrails) {
      // Only new events matter: on start every tenant was just decided against the stream as it is.
      this.guardrailSubscription = this.options.eventStore.subscribe(
        { category: PURGE_GUARDRAIL_STREAM.split('-')[0] },
        {
          name: 'orchestrator-guardrails',
          fromCheckpoint: 'end',
          handler: (event) => this.onGuardrailEvent(event),
          onError: (error) => {
            this.options.logger.fatal({ err: error }, 'guardrail subscription stopped');
            this.options.onFatal?.(error);
          },
        },
      );
    }
    this.timer = setInterval(() => void this.fireDueTimers(), this.options.timerIntervalMs);
    this.options.logger.info({ checkpoint, followed: this.processedRevision.size }, 'orchestrator started');
  }

  private async listTenants(): Promise<string[]> {
    const tenants = new Set<string>();
    let after: string | undefined;
    for (;;) {
      const page = await this.options.eventStore.readAll({
        after,
        limit: 1000,
        filter: { category: TENANT_STREAM_CATEGORY },
      });
      for (const event of page) tenants.add(tenantIdFromStream(event.streamName));
      if (page.length < 1000) return [...tenants];
      after = page[page.length - 1].position;
    }
  }

  private async runDecider(tenantId: string, loaded?: LoadedTenant): Promise<void> {
    const result = await this.processor.process(tenantId, loaded);
    const revision = result.state.revision - 1;
    if (result.state.status === 'purged' && !result.nextDeadline && !result.purgeHeld) {
      this.forgetPurged(tenantId, revision);
      return;
    }
    this.recentlyPurged.delete(tenantId);
    this.processedRevision.set(tenantId, revision);
    this.track(tenantId, result.nextDeadline);
    if (result.purgeHeld) this.held.add(tenantId);
    else this.held.delete(tenantId);
  }

  /**
   * A purged tenant with no timer, no running step and no held purge: nothing more will be decided for it
   * unless a new event arrives, so its entries go (a fleet's churn must not grow this process's memory).
   * `failures` goes with the rest: this pass succeeded.
   */
  private forgetPurged(tenantId: string, revision: number): void {
    this.processedRevision.delete(tenantId);
    this.deadlines.delete(tenantId);
    this.failures.delete(tenantId);
    this.held.delete(tenantId);
    this.recentlyPurged.delete(tenantId);
    this.recentlyPurged.set(tenantId, revision);
    if (this.recentlyPurged.size > RECENTLY_PURGED_MAX) {
      const oldest = this.recentlyPurged.keys().next().value;
      if (oldest !== undefined) this.recentlyPurged.delete(oldest);
    }
  }

  /** How many tenants this process holds state for (followed, timed, failing, held): for tests and logs. */
  trackedTenants(): {
    followed: number;
    deadlines: number;
    failures: number;
    held: number;
    recentlyPurged: number;
  } {
    return {
      followed: this.processedRevision.size,
      deadlines: this.deadlines.size,
      failures: this.failures.size,
      held: this.held.size,
      recentlyPurged: this.recentlyPurged.size,
    };
  }

  /** Whether this process holds any state for `tenantId` (for tests). */
  tracks(tenantId: string): boolean {
    return (
      this.processedRevision.has(tenantId) ||
      this.deadlines.has(tenantId) ||
      this.failures.has(tenantId) ||
      this.held.has(tenantId) ||
      this.queues.has(tenantId)
    );
  }

  /** A breaker reset releases every held purge now rather than at its next retry. Never throws. */
  private async onGuardrailEvent(event: RecordedEvent): Promise<void> {
    if (event.type !== 'BreakerReset') return;
    this.options.logger.info({ tenants: this.held.size }, 'purge breaker reset: deciding held tenants again');
    for (const tenantId of [...this.held]) {
      await this.serialized(tenantId, () => this.pass(tenantId)).catch((error: unknown) =>
        this.failed(tenantId, error, 'decision after breaker reset failed; retrying'),
      );
    }
  }

  /**
   * A failed decision is retried through the timer map; an integration event is published before the
   * subscription moves on (see publishUntilSent). Throws only StoppedError, when the orchestrator stops.
   */
  private async onEvent(tenantId: string, event: RecordedEvent): Promise<void> {
    const integration = INTEGRATION[event.type];
    if (integration) await this.publishUntilSent(tenantId, integration, event);
    // Reading the stream folds everything up to its end, so older events of a tenant need no new pass.
    const decided = this.processedRevision.get(tenantId) ?? this.recentlyPurged.get(tenantId) ?? -1;
    if (decided >= event.revision) return;
    await this.serialized(tenantId, () => this.pass(tenantId)).catch((error: unknown) =>
      this.failed(tenantId, error, 'decision failed; retrying'),
    );
  }

  /**
   * One pass over a tenant. A tenant seen for the first time since start, or whose last pass failed, is
   * reconciled: its stream may hold commands decided and never sent (a crash between append and dispatch, here
   * or in another instance; a dispatch that failed after its append; a tenant whose last commits the start-up
   * read could not see yet, as PostgreSQL shows readAll only what lies below every open transaction).
   */
  private pass(tenantId: string): Promise<void> {
    return this.processedRevision.has(tenantId) && !this.failures.has(tenantId)
      ? this.runDecider(tenantId)
      : this.reconcile(tenantId);
  }

  /** Read the stream, send again every command without an outcome (ids are deterministic), then decide. */
  private async reconcile(tenantId: string): Promise<void> {
    const loaded = await this.processor.load(tenantId);
    await this.processor.redispatchPending(tenantId, loaded);
    await this.runDecider(tenantId, loaded);
    this.failures.delete(tenantId);
  }

  /** A failed pass is retried through the timer map, with a capped backoff per tenant. */
  private failed(tenantId: string, error: unknown, message: string): void {
    const failures = (this.failures.get(tenantId) ?? 0) + 1;
    this.failures.set(tenantId, failures);
    const retryInMs = Math.min(
      FAILED_PASS_RETRY_MAX_MS,
      this.options.timerIntervalMs * 2 ** Math.min(failures - 1, 16),
    );
    this.options.logger.error({ err: error, tenantId, failures, retryInMs }, message);
    this.deadlines.set(tenantId, this.options.clock().getTime() + retryInMs);
  }

  private track(tenantId: string, deadline: Date | undefined): void {
    if (deadline) this.deadlines.set(tenantId, deadline.getTime());
    else this.deadlines.delete(tenantId);
  }

  private async fireDueTimers(): Promise<void> {
    if (this.stopped) return;
    const now = this.options.clock().getTime();
    for (const [tenantId, due] of this.deadlines) {
      if (due > now) continue;
      this.deadlines.delete(tenantId);
      await this.serialized(tenantId, () => this.pass(tenantId)).catch((error: unknown) =>
        this.failed(tenantId, error, 'timer processing failed; retrying'),
      );
    }
  }

  /**
   * Integration events are facts other systems act on (billing, CRM): one lost would never be sent again, since
   * the checkpoint moves past its event. So the subscription waits here until the broker confirms it (with a
   * capped backoff; while the broker is down no command can be sent either). On stop the wait ends with
   * `StoppedError`, the checkpoint stays before the event, and the next start sends it; consumers dedupe by
   * its message id, derived from the event id.
   */
  private async publishUntilSent(
    tenantId: string,
    type: IntegrationEventType,
    event: RecordedEvent,
  ): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      if (this.stopped) throw new StoppedError();
      try {
        if (CONDITIONAL.has(event.type) && !(await this.processor.tookEffect(tenantId, event))) {
          this.options.logger.info(
            { tenantId, type: event.type, eventId: event.id },
            'request refused by the tenant state: no integration event',
          );
          return;
        }
        await this.publishIntegration(type, event);
        return;
      } catch (error) {
        if (error instanceof MessagingError && UNPUBLISHABLE.has(error.code)) {
          // A defect to fix, not an outage to wait out: the event stays in the stream for a replay.
          this.options.logger.error(
            { err: error, tenantId, type, eventId: event.id },
            'integration event can never be published as built; skipped',
          );
          return;
        }
        const retryInMs = Math.min(INTEGRATION_RETRY_MAX_MS, INTEGRATION_RETRY_BASE_MS * 2 ** (attempt - 1));
        this.options.logger.error(
          { err: error, tenantId, type, attempt, retryInMs },
          'integration event not published; retrying',
        );
        await delay(retryInMs, this.stopping.signal);
      }
    }
  }

  private async publishIntegration(type: IntegrationEventType, event: RecordedEvent): Promise<void> {
    const tenantId = tenantIdFromStream(event.streamName);
    const id = deterministicId('integration', event.id);
    await this.options.publisher.publish(
      'tenantEvents',
      type,
      buildMessage(
        type,
        { tenantId, event: event.type, ...(event.data as object) },
        {
          tenantId,
          correlationId: String(event.metadata.correlationId ?? id),
          causationId: event.id,
          actor: 'orchestrator',
        },
        id,
        String(event.metadata.occurredAt ?? event.recordedAt.toISOString()),
      ),
      { mandatory: false },
    );
  }

  /** One tenant at a time within this process; other tenants proceed in parallel. */
  private serialized<T>(tenantId: string, work: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(tenantId) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(work);
    this.queues.set(tenantId, next);
    void next
      .finally(() => {
        if (this.queues.get(tenantId) === next) this.queues.delete(tenantId);
      })
      .catch(() => undefined);
    return next;
  }

  private async maybeSaveCheckpoint(position: string, force = false): Promise<void> {
    const now = Date.now();
    if (!force && now - this.lastCheckpointSave < (this.options.checkpointEveryMs ?? 1000)) return;
    this.lastCheckpointSave = now;
    await this.options.eventStore.setStreamMetadata(ORCHESTRATOR_CHECKPOINT_STREAM, { checkpoint: position });
  }

  /** Ready: started, not stopping, and following the tenant streams (and the guardrail stream, if any). */
  isReady(): boolean {
    const following = (subscription?: Subscription) => !!subscription && !subscription.stats().stopped;
    return (
      !this.stopped &&
      following(this.subscription) &&
      (!this.guardrails || following(this.guardrailSubscription))
    );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.stopping.abort();
    if (this.timer) clearInterval(this.timer);
    await this.subscription?.stop();
    await this.guardrailSubscription?.stop();
    await Promise.allSettled([...this.queues.values()]);
    const checkpoint = this.subscription?.checkpoint;
    if (checkpoint) await this.maybeSaveCheckpoint(checkpoint, true);
  }
}
