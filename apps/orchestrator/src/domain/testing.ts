import { isDeepStrictEqual } from 'node:util';
import {
  COMMAND_CATALOG,
  buildMessage,
  deterministicId,
  type CommandType,
  type FailureReason,
  type LifecycleEvent,
  type LifecycleEventData,
  type LifecycleEventType,
  type StepOutputs,
  type TenantEvent,
  type TenantProfile,
} from '@app/contracts';
import type { DeciderConfig } from './config';
import { decide, decisionEvent, type DecidedEvent } from './decide';
import { evolve, GATING_STEPS, initialState, type StepState, type TenantState } from '@app/lifecycle';
import { PURGE_ALLOWED, type PurgeGuard } from './guardrails';

/*
 * Test support for the domain specs (not exported by the domain's index): a tenant stream driven by hand,
 * deciding to a fixed point after every event exactly as the runtime does.
 */

export const T0 = new Date('2025-06-01T10:00:00.000Z');

export const TEST_CONFIG: DeciderConfig = {
  maxAttempts: 2,
  compensationMaxAttempts: 2,
  gracePeriodDays: 30,
  purgeRetryDelaySeconds: 600,
};

export const PROFILE: TenantProfile = {
  tenantId: 'abc-corporation-7f3a9c',
  companyName: 'ABC Corporation',
  adminEmail: 'admin@abc.example',
  billingEmail: 'billing@abc.example',
  tier: 'premium',
  region: 'eu-west',
  domain: 'abc-corporation.collectverything.com',
  subscriptionId: 'sub_abc123',
  plan: { price: 199, currency: 'EUR', billingPeriod: 'monthly' },
  createdAt: '2025-06-01T09:59:00.000Z',
};

export const PERMANENT: FailureReason = {
  code: 'TEST.PERMANENT',
  message: 'refused for good',
  retryable: false,
};
export const TRANSIENT: FailureReason = { code: 'TEST.TRANSIENT', message: 'try again', retryable: true };

let sequence = 0;

export function lifecycleEvent<T extends LifecycleEventType>(
  type: T,
  data: LifecycleEventData[T],
  at: Date,
  actor = 'test',
): TenantEvent {
  const id = deterministicId('test-event', String(sequence++));
  return buildMessage(
    type,
    data,
    { tenantId: PROFILE.tenantId, correlationId: 'c', actor },
    id,
    at,
  ) as LifecycleEvent;
}

export function resultEvent(
  run: Pick<StepState, 'step' | 'commandType'>,
  commandId: string,
  outcome: { ok: true; outputs?: StepOutputs } | { ok: false; error: FailureReason },
  at: Date,
): TenantEvent {
  const spec = COMMAND_CATALOG[run.commandType];
  const metadata = { tenantId: PROFILE.tenantId, correlationId: 'c', actor: spec.service, commandId };
  const id = deterministicId('result', commandId, String(sequence++));
  const event = outcome.ok
    ? buildMessage(
        spec.succeeded,
        { commandId, step: run.step, outputs: outcome.outputs ?? {} },
        metadata,
        id,
        at,
      )
    : buildMessage(
        spec.failed,
        { commandId, step: run.step, error: outcome.error, attempts: 3 },
        metadata,
        id,
        at,
      );
  return event as TenantEvent;
}

/** Outputs a real service would report, where the orchestrator reads them. */
export function outputsFor(command: CommandType): StepOutputs {
  switch (command) {
    case 'CreateWebsiteRecord':
      return { websiteId: 4711 };
    case 'BackupDatabases':
      return { manifestKey: 'backups/abc/databases/manifest.json' };
    case 'BackupStorage':
      return { manifestKey: 'backups/abc/storage/manifest.json' };
    default:
      return {};
  }
}

/** The steps that start once a tenant is active (not gating its activation). */
export const AFTER_ACTIVATION_STEPS = ['website-activation', 'welcome-email', 'grafana-viewer'] as const;

export class TenantSim {
  state: TenantState = initialState();
  now: Date = T0;
  readonly events: TenantEvent[] = [];
  readonly decided: DecidedEvent[] = [];
  /** The guardrails' answer the runtime would pass for a purge about to start. */
  purge: PurgeGuard = PURGE_ALLOWED;

  constructor(readonly config: DeciderConfig = TEST_CONFIG) {}

  /** An event from outside the orchestrator (intake, a service, an operator), then the decisions it causes. */
  append(event: TenantEvent): DecidedEvent[] {
    this.fold(event);
    return this.decide();
  }

  emit<T extends LifecycleEventType>(type: T, data: LifecycleEventData[T]): DecidedEvent[] {
    return this.append(lifecycleEvent(type, data, this.now));
  }

  request(profile: TenantProfile = PROFILE): DecidedEvent[] {
    return this.emit('TenantRequested', { tenant: profile, source: 'bus' });
  }

  /** Decides and appends; checks the decider's contract (deterministic, a fixed point) every time. */
  decide(): DecidedEvent[] {
    const decisions = decide(this.state, this.now, this.config, this.purge);
    const again = decide(this.state, this.now, this.config, this.purge);
    if (JSON.stringify(again) !== JSON.stringify(decisions)) throw new Error('decide is not deterministic');
    for (const decision of decisions) this.fold(decisionEvent(this.state, decision, this.now));
    this.decided.push(...decisions);
    const after = decide(this.state, this.now, this.config, this.purge);
    if (after.length > 0)
      throw new Error(`decide is not a fixed point: ${JSON.stringify(after.map((d) => d.type))}`);
    return decisions;
  }

  fold(event: TenantEvent): void {
    this.events.push(event);
    this.state = evolve(this.state, event);
  }

  run(step: string): StepState {
    const run = this.state.steps[step];
    if (!run) throw new Error(`step ${step} never started`);
    return run;
  }

  succeed(step: string, outputs?: StepOutputs): DecidedEvent[] {
    const run = this.run(step);
    return this.append(
      resultEvent(
        run,
        run.commandId,
        { ok: true, outputs: outputs ?? outputsFor(run.commandType) },
        this.now,
      ),
    );
  }

  fail(step: string, error: FailureReason = PERMANENT): DecidedEvent[] {
    const run = this.run(step);
    return this.append(resultEvent(run, run.commandId, { ok: false, error }, this.now));
  }

  advance(seconds: number): DecidedEvent[] {
    this.now = new Date(this.now.getTime() + seconds * 1000);
    return this.decide();
  }

  advanceTo(instant: Date | string): DecidedEvent[] {
    this.now = new Date(instant);
    return this.decide();
  }

  /**
   * Succeeds each running gating step until the requested tenant leaves provisioning (active), then each of
   * `afterActivation`, the steps that run once it is active.
   */
  activate(afterActivation: readonly string[] = AFTER_ACTIVATION_STEPS): this {
    while (this.state.status === 'provisioning') {
      const step = GATING_STEPS.find((s) => this.state.steps[s.name]?.status === 'running');
      if (!step)
        throw new Error(`provisioning stuck: ${this.runningSteps().join(', ') || 'nothing running'}`);
      this.succeed(step.name);
    }
    for (const step of afterActivation) this.succeed(step);
    return this;
  }

  runningSteps(): string[] {
    return Object.values(this.state.steps)
      .filter((run) => run.status === 'running')
      .map((run) => run.step);
  }
}

export function startedSteps(decisions: readonly DecidedEvent[]): string[] {
  return decisions.flatMap((decision) => (decision.type === 'StepStarted' ? [decision.data.step] : []));
}

/** Whether folding `event` changes the tenant's state beyond counting it (JSON: absent and undefined alike). */
export function changesState(state: TenantState, event: TenantEvent): boolean {
  const plain = ({ revision: _revision, ...rest }: TenantState): unknown => JSON.parse(JSON.stringify(rest));
  return !isDeepStrictEqual(plain(state), plain(evolve(state, event)));
}

export function types(decisions: readonly DecidedEvent[]): string[] {
  return decisions.map((decision) => decision.type);
}
