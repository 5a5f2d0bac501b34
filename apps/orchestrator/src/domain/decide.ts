import { buildMessage, deterministicId, type LifecycleEvent, type TenantEvent } from '@app/contracts';
import type { DeciderConfig } from './config';
import type { Decision, DecisionContext } from './decision';
import { decideDeprovisioning, decidePurge, decidePurged } from './deprovisioning';
import { OrchestratorDomainError } from './errors';
import { evolve, type TenantState } from '@app/lifecycle';
import { PURGE_ALLOWED, type PurgeGuard } from './guardrails';
import { decideOperations } from './operations';
import { decideDrift } from './drift';
import { decideProvisioning, decideRollback } from './provisioning';

/** A decision with the id its event gets; the same state always yields the same ids. */
export type DecidedEvent = Decision & { eventId: string };

/** Far above the longest chain of decisions one call can make; reaching it means a decision the fold ignores. */
const MAX_ROUNDS = 100;

export const ORCHESTRATOR_ACTOR = 'orchestrator';

/**
 * The events to append next, given the tenant's folded stream and the current time. Decisions are applied
 * to a copy of the state until nothing more follows, so the result is complete: deciding again on the state
 * with these events appended returns nothing (the runtime may call this after every event and every tick).
 * `purge` is the cross-tenant guardrails' answer for a purge about to start (the runtime asks them only when a
 * decision with the permissive default contains PurgeStarted, then decides again with their answer).
 */
export function decide(
  state: TenantState,
  now: Date,
  config: DeciderConfig,
  purge: PurgeGuard = PURGE_ALLOWED,
): DecidedEvent[] {
  const decided: DecidedEvent[] = [];
  let current = state;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const decisions = decideRound(current, now, config, purge);
    if (decisions.length === 0) return decided;
    for (const decision of decisions) {
      const event = decisionEvent(current, decision, now);
      decided.push({ ...decision, eventId: event.metadata.messageId });
      current = evolve(current, event);
    }
  }
  throw new OrchestratorDomainError(
    'ORCHESTRATOR.DECIDER_DID_NOT_SETTLE',
    `decide produced decisions for ${MAX_ROUNDS} rounds for tenant ${state.tenant?.tenantId ?? '(none)'}`,
  );
}

/**
 * The event a decision becomes when appended at the state's revision. Its id derives from the tenant and
 * the stream position, so two orchestrators racing on the same state write identical events.
 */
export function decisionEvent(state: TenantState, decision: Decision, now: Date): TenantEvent {
  const tenantId = state.tenant?.tenantId ?? '';
  const eventId = deterministicId(tenantId, 'decision', String(state.revision), decision.type);
  const commandId = decision.type === 'StepStarted' ? decision.data.commandId : undefined;
  const metadata = { tenantId, correlationId: tenantId, actor: ORCHESTRATOR_ACTOR, commandId };
  // The mapped Decision union and LifecycleEvent union describe the same pairs; TypeScript cannot relate them.
  return buildMessage(decision.type, decision.data, metadata, eventId, now) as LifecycleEvent;
}

function decideRound(state: TenantState, now: Date, config: DeciderConfig, purge: PurgeGuard): Decision[] {
  const tenant = state.tenant;
  if (!tenant) return [];
  const timeouts = decideTimeouts(state, now);
  if (timeouts.length > 0) return timeouts;
  const ctx: DecisionContext = { state, tenant, now, config, purge };
  const byStatus = decideByStatus(ctx);
  const decisions = byStatus.length > 0 ? byStatus : decideOperations(ctx);
  // Drift work comes last: it never runs beside a decision about the tenant itself.
  return decisions.length > 0 ? decisions : decideDrift(ctx);
}

/** Every command past its deadline counts as failed, whatever the tenant's status (DESIGN.md section 6). */
function decideTimeouts(state: TenantState, now: Date): Decision[] {
  return Object.values(state.steps)
    .filter((run) => run.status === 'running' && Date.parse(run.deadline) <= now.getTime())
    .map((run) => ({
      type: 'StepTimedOut' as const,
      data: { step: run.step, commandId: run.commandId, deadline: run.deadline },
    }));
}

function decideByStatus(ctx: DecisionContext): Decision[] {
  const status = ctx.state.status;
  switch (status) {
    case 'requested':
    case 'provisioning':
      return decideProvisioning(ctx);
    case 'rolling_back':
    case 'failed':
    case 'cancelled':
      return decideRollback(ctx);
    case 'deprovisioning':
      return decideDeprovisioning(ctx);
    case 'purging':
      return decidePurge(ctx);
    case 'purged':
      return decidePurged(ctx);
    case 'active':
    case 'suspended':
      return [];
    default: {
      const _exhaustive: never = status;
      return _exhaustive;
    }
  }
}
