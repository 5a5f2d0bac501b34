import {
  ORCHESTRATOR_CHECKPOINT_STREAM,
  PURGE_GUARDRAIL_STREAM,
  TENANT_STREAM_CATEGORY,
  tenantIdFromStream,
  type CommandMessage,
} from '@app/contracts';
import { eventTraceContext, type EventStore, type RecordedEvent, type Subscription } from '@app/event-store';
import type { MessagePublisher } from '@app/messaging';
import { context } from '@opentelemetry/api';
import type { Logger } from 'pino';
import type { DeciderConfig, GuardrailConfig } from '../domain';
import type { Clock } from './clock';
import { recordDecision, traceDecision, type DecisionTrigger } from './decision-span';
import { FollowedTenants } from './followed-tenants';
import { IntegrationPublisher, StoppedError } from './integration-publisher';
import { PurgeGuardrails } from './purge-guardrails';
import { DriftScheduler, requestScheduledDriftCheck, type DriftScheduleConfig } from './drift-scheduler';
import { TenantProcessor, type CommandDispatcher, type LoadedTenant } from './tenant-processor';

/** Tenants decided at once on start (each reads its stream: bounded by the event store's pool). */
const START_CONCURRENCY = 8;

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
  /** The schedule of drift checks of active tenants; none when omitted (operators may still ask for one). */
  drift?: DriftScheduleConfig;
  /**
   * Called when a subscription stops on an error: the process then follows nothing. main.ts exits, so the
   * supervisor restarts it and the start rebuilds everything from the streams.
   */
  onFatal?: (error: unknown) => void;
}

/**
 * The orchestrator process: follows every tenant stream from its checkpoint, runs the decider after each
 * event and when a timer falls due, dispatches commands, and publishes integration events. Everything it
 * knows is rebuilt from the event store on start, so timers and pending commands survive restarts. What it
 * remembers per tenant is in followed-tenants.ts, the integration events in integration-publisher.ts.
 */
export class Orchestrator {
  private readonly processor: TenantProcessor;
  private readonly integration: IntegrationPublisher;
  private readonly tenants = new FollowedTenants();
  private readonly queues = new Map<string, Promise<unknown>>();
  private readonly guardrails?: PurgeGuardrails;
  private readonly driftScheduler?: DriftScheduler;
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
    this.integration = new IntegrationPublisher(options.publisher, options.logger, this.stopping.signal);
    if (options.drift && options.drift.periodSeconds > 0) {
      this.driftScheduler = new DriftScheduler(
        options.drift,
        (tenantId, window) =>
          this.serialized(tenantId, () =>
            requestScheduledDriftCheck(options.eventStore, tenantId, window, options.clock()),
          ),
        options.clock,
        options.logger.child({ component: 'drift-schedule' }),
      );
    }
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
        await this.serialized(id, () => this.pass(id, 'start')).catch((error: unknown) =>
          this.failed(id, error, 'tenant could not be decided at start; retrying'),
        );
      }
    });
    await Promise.all(workers);
    this.options.logger.info(
      { tenants: listed, followed: this.tenants.followed, ms: Date.now() - startedAt },
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
    this.options.logger.info({ checkpoint, followed: this.tenants.followed }, 'orchestrator started');
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
    recordDecision({ status: result.state.status, appended: result.appended });
    this.driftScheduler?.observe(tenantId, result.state);
    this.tenants.passed(tenantId, {
      revision: result.state.revision - 1,
      finished: result.state.status === 'purged' && !result.nextDeadline && !result.purgeHeld,
      nextDeadline: result.nextDeadline,
      purgeHeld: result.purgeHeld === true,
    });
  }

  /** How many tenants this process holds state for (followed, timed, failing, held): for tests and logs. */
  trackedTenants(): ReturnType<FollowedTenants['counts']> {
    return this.tenants.counts();
  }

  /** Whether this process holds any state for `tenantId` (for tests). */
  tracks(tenantId: string): boolean {
    return this.tenants.remembers(tenantId) || this.queues.has(tenantId);
  }

  /** A breaker reset releases every held purge now rather than at its next retry. Never throws. */
  private async onGuardrailEvent(event: RecordedEvent): Promise<void> {
    if (event.type !== 'BreakerReset') return;
    const held = this.tenants.heldPurges();
    this.options.logger.info({ tenants: held.length }, 'purge breaker reset: deciding held tenants again');
    for (const tenantId of held) {
      await this.serialized(tenantId, () => this.pass(tenantId, 'breaker-reset')).catch((error: unknown) =>
        this.failed(tenantId, error, 'decision after breaker reset failed; retrying'),
      );
    }
  }

  /**
   * A failed decision is retried through the timer map; an integration event is published before the
   * subscription moves on (see `IntegrationPublisher.publishFor`). Throws only StoppedError, when the orchestrator stops.
   */
  private async onEvent(tenantId: string, event: RecordedEvent): Promise<void> {
    // Its integration event continues the trace of whoever appended the event, as the decision does.
    await context.with(eventTraceContext(event.metadata), () => this.integration.publishFor(tenantId, event));
    // Reading the stream folds everything up to its end, so older events of a tenant need no new pass.
    if (this.tenants.decided(tenantId) >= event.revision) return;
    await this.serialized(tenantId, () => this.pass(tenantId, 'event', event)).catch((error: unknown) =>
      this.failed(tenantId, error, 'decision failed; retrying'),
    );
  }

  /**
   * One pass over a tenant. A tenant seen for the first time since start, or whose last pass failed, is
   * reconciled: its stream may hold commands decided and never sent (a crash between append and dispatch, here
   * or in another instance; a dispatch that failed after its append; a tenant whose last commits the start-up
   * read could not see yet, as PostgreSQL shows readAll only what lies below every open transaction).
   */
  private async pass(tenantId: string, trigger: DecisionTrigger, event?: RecordedEvent): Promise<void> {
    if (event) return traceDecision(tenantId, trigger, event, () => this.decideNow(tenantId));
    // No event caused this pass: it continues the trace of the tenant's last event, so that a tenant's
    // provisioning stays one trace through timers and restarts.
    const loaded = await this.processor.load(tenantId);
    return traceDecision(tenantId, trigger, loaded.events.at(-1), () => this.decideNow(tenantId, loaded));
  }

  private decideNow(tenantId: string, loaded?: LoadedTenant): Promise<void> {
    return this.tenants.needsReconcile(tenantId)
      ? this.reconcile(tenantId, loaded)
      : this.runDecider(tenantId, loaded);
  }

  /** Read the stream, send again every command without an outcome (ids are deterministic), then decide. */
  private async reconcile(tenantId: string, read?: LoadedTenant): Promise<void> {
    const loaded = read ?? (await this.processor.load(tenantId));
    await this.processor.redispatchPending(tenantId, loaded);
    await this.runDecider(tenantId, loaded);
    this.tenants.reconciled(tenantId);
  }

  /** A failed pass is retried through the deadlines, with a capped backoff per tenant. */
  private failed(tenantId: string, error: unknown, message: string): void {
    const now = this.options.clock().getTime();
    const { failures, retryInMs } = this.tenants.failed(tenantId, now, this.options.timerIntervalMs);
    this.options.logger.error({ err: error, tenantId, failures, retryInMs }, message);
  }

  private async fireDueTimers(): Promise<void> {
    if (this.stopped) return;
    for (const tenantId of this.tenants.due(this.options.clock().getTime())) {
      await this.serialized(tenantId, () => this.pass(tenantId, 'timer')).catch((error: unknown) =>
        this.failed(tenantId, error, 'timer processing failed; retrying'),
      );
    }
    void this.driftScheduler?.tick();
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
