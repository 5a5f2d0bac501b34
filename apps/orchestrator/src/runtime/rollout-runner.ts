import { deterministicId, isRolloutId, ROLLOUT_STREAM_CATEGORY, rolloutStream } from '@app/contracts';
import {
  readStreamOrEmpty,
  WrongExpectedVersionError,
  type EventStore,
  type RecordedEvent,
  type Subscription,
} from '@app/event-store';
import {
  decideRollout,
  foldRollout,
  rolloutFinished,
  tenantsInFlight,
  type TenantObservation,
} from '@app/lifecycle';
import { observeOrRequest, ROLLOUT_ACTOR, rolloutEvent } from '@app/rollouts';
import type { Logger } from 'pino';
import type { Clock } from './clock';

export interface RolloutRunnerOptions {
  eventStore: EventStore;
  clock: Clock;
  logger: Logger;
  /** How often each unfinished rollout is looked at (its tenants observed, its next events decided). */
  intervalMs: number;
  /** Called when the rollout subscription stops on an error (main.ts exits; the restart rebuilds everything). */
  onFatal?: (error: unknown) => void;
}

/**
 * Drives the staged fleet rollouts, in the orchestrator process: the one that already applies each tenant's
 * image tag change, follows the event store and restarts from it. It holds nothing of its own: which rollouts are
 * unfinished comes from following the `rollout` streams (from the start, on every start: they are few), and
 * every pass reads a rollout's stream and its tenants' streams again, decides with the pure rollout decider and
 * appends at the revision read. So a restart continues where the checkpoints stopped, and two orchestrator
 * replicas driving the same rollout write one history: a concurrent append loses and is decided again, and a
 * tenant's request carries the id its checkpoint named, so no tenant is asked twice.
 */
export class RolloutRunner {
  private readonly unfinished = new Set<string>();
  private subscription?: Subscription;
  private timer?: NodeJS.Timeout;
  private pass?: Promise<void>;
  private stopped = false;

  constructor(private readonly options: RolloutRunnerOptions) {}

  async start(): Promise<void> {
    this.subscription = this.options.eventStore.subscribe(
      { category: ROLLOUT_STREAM_CATEGORY },
      {
        name: 'orchestrator-rollouts',
        fromCheckpoint: 'start',
        handler: (event) => this.onEvent(event),
        onError: (error) => {
          this.options.logger.fatal({ err: error }, 'rollout subscription stopped');
          this.options.onFatal?.(error);
        },
      },
    );
    this.timer = setInterval(() => void this.runPass(), this.options.intervalMs);
  }

  /** A new rollout, or an operator's decision on one, is looked at from the next pass on. */
  private onEvent(event: RecordedEvent): void {
    const rolloutId = event.streamName.slice(ROLLOUT_STREAM_CATEGORY.length + 1);
    if (isRolloutId(rolloutId)) this.unfinished.add(rolloutId);
  }

  /** One pass over every unfinished rollout; passes never overlap. Resolves when done (tests await it). */
  runPass(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.pass ??= (async () => {
      for (const rolloutId of [...this.unfinished]) {
        await this.advance(rolloutId).catch((error: unknown) =>
          this.options.logger.error(
            { err: error, rolloutId },
            'rollout pass failed; retrying at the next one',
          ),
        );
      }
    })().finally(() => (this.pass = undefined));
    return this.pass;
  }

  /** Reads the rollout, observes (or asks) each tenant in flight, decides and appends. */
  async advance(rolloutId: string): Promise<void> {
    const { eventStore: store, clock, logger } = this.options;
    const stream = rolloutStream(rolloutId);
    const state = foldRollout(await readStreamOrEmpty(store, stream));
    if (!state) return;
    const inFlight = tenantsInFlight(state);
    if (rolloutFinished(state) && inFlight.length === 0) {
      this.unfinished.delete(rolloutId);
      return;
    }
    const observations = new Map<string, TenantObservation>();
    for (const tenant of inFlight) {
      const observation = await observeOrRequest(store, state, tenant, clock());
      if (observation) observations.set(tenant.tenantId, observation);
    }
    const now = clock();
    const decided = decideRollout(state, observations, now);
    if (decided.length === 0) return;
    const events = decided.map((payload, index) => {
      // Derived from the revision it lands at: two drivers deciding on the same state write the same events.
      const id = deterministicId('rollout-event', rolloutId, String(state.revision + 1 + index));
      return rolloutEvent(rolloutId, payload, id, now, ROLLOUT_ACTOR);
    });
    try {
      await store.append(stream, events, { expectedRevision: state.revision });
    } catch (error) {
      if (error instanceof WrongExpectedVersionError) return; // another writer moved it: decided again next pass
      throw error;
    }
    for (const payload of decided) {
      if (payload.type !== 'RolloutTenantStarted') {
        const tenantId = 'tenantId' in payload.data ? payload.data.tenantId : undefined;
        logger.info({ rolloutId, event: payload.type, tenantId }, 'rollout progressed');
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.subscription?.stop();
    await this.pass;
  }

  isFollowing(): boolean {
    return !this.stopped && !!this.subscription && !this.subscription.stats().stopped;
  }
}
