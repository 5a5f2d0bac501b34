import {
  buildEvent,
  deterministicId,
  isRolloutId,
  ROLLOUT_STREAM_CATEGORY,
  rolloutStream,
  TENANT_STREAM_CATEGORY,
  type RolloutEventData,
} from '@app/contracts';
import {
  decideAndAppend,
  readStreamOrEmpty,
  WrongExpectedVersionError,
  type EventStore,
  type RecordedEvent,
} from '@app/event-store';
import {
  evolve,
  foldRollout,
  initialState,
  planWaves,
  selectTenants,
  type RolloutCandidate,
  type RolloutPayload,
  type RolloutState,
  type TenantState,
} from '@app/lifecycle';
import {
  idempotencyKeyOf,
  idempotencyViolations,
  invalidRequest,
  operatorActor,
  operatorViolations,
  UseCaseError,
} from '@app/tenancy';
import type { TenantEvent } from '@app/contracts';
import {
  reasonViolations,
  validStartRollout,
  type RolloutActionRequest,
  type StartRolloutRequest,
  type ValidStartRollout,
} from './rollout-request';
import { rolloutView, type RolloutView } from './rollout-views';

const PAGE = 1000;

export interface RolloutAccepted {
  rollout: RolloutView;
  /** The same Idempotency-Key and request again: the rollout it started, nothing new. */
  duplicate: boolean;
}

/** The event id and metadata of an event appended to a rollout stream. */
export function rolloutEvent(
  rolloutId: string,
  payload: RolloutPayload,
  id: string,
  at: Date,
  actor: string,
) {
  return buildEvent(
    payload.type,
    payload.data,
    { tenantId: '', correlationId: deterministicId('rollout', rolloutId), actor },
    id,
    at,
  );
}

/** Everything read, in commit order, of one stream category. */
async function readCategory(store: EventStore, category: string): Promise<RecordedEvent[]> {
  const events: RecordedEvent[] = [];
  for (let after: string | undefined; ;) {
    const page = await store.readAll({ filter: { category }, limit: PAGE, ...(after ? { after } : {}) });
    events.push(...page);
    if (page.length < PAGE) return events;
    after = page[page.length - 1].position;
  }
}

/**
 * The fleet as the orchestrator folds it: every tenant's state, one page of the tenant category at a time (no
 * stream is held in memory, only its state). Reading the whole category costs one pass over the tenant events:
 * an operator's action, not a hot path.
 */
async function foldFleet(store: EventStore): Promise<RolloutCandidate[]> {
  const states = new Map<string, TenantState>();
  for (let after: string | undefined; ;) {
    const page = await store.readAll({
      filter: { category: TENANT_STREAM_CATEGORY },
      limit: PAGE,
      ...(after ? { after } : {}),
    });
    for (const event of page) {
      const state = states.get(event.streamName) ?? initialState();
      states.set(event.streamName, evolve(state, event as unknown as TenantEvent));
    }
    if (page.length < PAGE) break;
    after = page[page.length - 1].position;
  }
  return [...states.values()].flatMap((state) =>
    state.tenant
      ? [
          {
            tenantId: state.tenant.tenantId,
            tier: state.tenant.tier,
            region: state.tenant.region,
            status: state.status,
          },
        ]
      : [],
  );
}

const ACTIONS = {
  pause: { type: 'RolloutPaused', from: ['running'], at: 'pausedAt' },
  resume: { type: 'RolloutResumed', from: ['paused', 'halted'], at: 'resumedAt' },
  abort: { type: 'RolloutAborted', from: ['running', 'paused', 'halted'], at: 'abortedAt' },
} as const;

/**
 * Staged fleet rollouts' use cases, on the event store alone: start one (the plan fixed and recorded), read
 * them, and an operator's pause, resume or abort. The orchestrator's driver does the rest (rollout-runner.ts).
 */
export class Rollouts {
  constructor(
    private readonly store: EventStore,
    private readonly clock: () => Date,
    private readonly newId: () => string,
  ) {}

  async start(request: StartRolloutRequest): Promise<RolloutAccepted> {
    const valid = validStartRollout(request);
    // A repeated Idempotency-Key names the same rollout, so the stream's no_stream append refuses the repeat.
    const rolloutId = valid.idempotencyKey
      ? deterministicId('rollout', valid.operator, valid.idempotencyKey)
      : this.newId();
    const earlier = await this.read(rolloutId);
    if (earlier) return this.repeated(earlier, valid);
    const { tenantIds, problems } = selectTenants(await foldFleet(this.store), valid.selection);
    if (problems.length > 0) {
      throw invalidRequest('invalid rollout selection', [
        { field: 'selection.tenant_ids', rules: ['isActiveTenant'], messages: problems },
      ]);
    }
    if (tenantIds.length === 0) {
      throw new UseCaseError(
        'ROLLOUT.NOTHING_SELECTED',
        'no active tenant matches the selection: nothing to roll out',
      );
    }
    const now = this.clock();
    const data: RolloutEventData['RolloutStarted'] = {
      rolloutId,
      imageTag: valid.imageTag,
      selection: valid.selection,
      canarySize: valid.canarySize,
      batchSize: valid.batchSize,
      waves: planWaves(tenantIds, valid.canarySize, valid.batchSize),
      requestedBy: operatorActor(valid.operator),
      reason: valid.reason,
      startedAt: now.toISOString(),
    };
    const payload: RolloutPayload = { type: 'RolloutStarted', data };
    const id = deterministicId('rollout-event', rolloutId, '0');
    try {
      await this.store.append(
        rolloutStream(rolloutId),
        [rolloutEvent(rolloutId, payload, id, now, data.requestedBy)],
        { expectedRevision: 'no_stream' },
      );
    } catch (error) {
      if (!(error instanceof WrongExpectedVersionError)) throw error;
      // The same key, raced by another replica: answer as the repeat it is.
      const raced = await this.read(rolloutId);
      if (raced) return this.repeated(raced, valid);
      throw error;
    }
    return { rollout: rolloutView(foldRollout([{ ...payload, revision: 0 }])!), duplicate: false };
  }

  async get(rolloutId: unknown): Promise<RolloutView> {
    if (!isRolloutId(rolloutId)) {
      throw invalidRequest('invalid rollout id', [
        { field: 'rollout_id', rules: ['isUuid'], messages: ['rollout id must be a lowercase UUID'] },
      ]);
    }
    const state = await this.read(rolloutId);
    if (!state) throw new UseCaseError('ROLLOUT.NOT_FOUND', `no rollout ${rolloutId}`);
    return rolloutView(state);
  }

  /** Every rollout, newest first. */
  async list(): Promise<RolloutView[]> {
    const streams = new Map<string, RecordedEvent[]>();
    for (const event of await readCategory(this.store, ROLLOUT_STREAM_CATEGORY)) {
      streams.set(event.streamName, [...(streams.get(event.streamName) ?? []), event]);
    }
    return [...streams.values()]
      .flatMap((events) => {
        const state = foldRollout(events);
        return state ? [rolloutView(state)] : [];
      })
      .sort((a, b) => b.startedAt.localeCompare(a.startedAt) || a.rolloutId.localeCompare(b.rolloutId));
  }

  /** Pause (running), resume (paused or halted: a halt's failed tenant is tried again) or abort. */
  async decide(request: RolloutActionRequest): Promise<RolloutAccepted> {
    const { rolloutId, action, operator } = request;
    const base = await this.get(rolloutId);
    const problems = [
      ...reasonViolations(request.reason, false),
      ...operatorViolations(operator),
      ...idempotencyViolations(request.idempotencyKey),
    ];
    if (problems.length > 0) throw invalidRequest(`invalid ${action}`, problems);
    const key = idempotencyKeyOf(request.idempotencyKey);
    // Scoped to the operator, the rollout and the action, like the tenant actions' keys.
    const eventId = key
      ? deterministicId('rollout-action', base.rolloutId, action, operator, key)
      : this.newId();
    const spec = ACTIONS[action];
    const stream = rolloutStream(base.rolloutId);
    return decideAndAppend<RolloutAccepted>(
      this.store,
      stream,
      async () => {
        const events = await readStreamOrEmpty(this.store, stream);
        const state = foldRollout(events)!;
        if (events.some((event) => event.id === eventId)) {
          return {
            append: [],
            expectedRevision: 'any',
            result: { rollout: rolloutView(state), duplicate: true },
          };
        }
        if (!(spec.from as readonly string[]).includes(state.status)) {
          throw new UseCaseError(
            'ROLLOUT.ACTION_REFUSED',
            `rollout ${state.rolloutId} is ${state.status}: cannot ${action} it (needs ${spec.from.join(' or ')})`,
          );
        }
        const now = this.clock();
        const requestedBy = operatorActor(operator);
        const reason = typeof request.reason === 'string' ? request.reason.trim() : '';
        const payload = {
          type: spec.type,
          data: { requestedBy, reason, [spec.at]: now.toISOString() },
        } as RolloutPayload;
        const next = foldRollout([...events, { ...payload, revision: state.revision + 1 }])!;
        return {
          append: [rolloutEvent(state.rolloutId, payload, eventId, now, requestedBy)],
          expectedRevision: state.revision,
          result: { rollout: rolloutView(next), duplicate: false },
        };
      },
      {
        exhausted: () =>
          new UseCaseError('ROLLOUT.CONCURRENCY_EXHAUSTED', `rollout ${base.rolloutId} is too busy; retry`),
      },
    );
  }

  private async read(rolloutId: string): Promise<RolloutState | undefined> {
    return foldRollout(await readStreamOrEmpty(this.store, rolloutStream(rolloutId)));
  }

  /** A repeated Idempotency-Key must repeat the same request. */
  private repeated(state: RolloutState, valid: ValidStartRollout): RolloutAccepted {
    const same =
      state.imageTag === valid.imageTag &&
      state.canarySize === valid.canarySize &&
      state.batchSize === valid.batchSize &&
      state.reason === valid.reason &&
      JSON.stringify(state.selection) === JSON.stringify(valid.selection);
    if (!same) {
      throw new UseCaseError(
        'OPERATION.IDEMPOTENCY_KEY_REUSED',
        'this Idempotency-Key was already used for a different rollout',
      );
    }
    return { rollout: rolloutView(state), duplicate: true };
  }
}
