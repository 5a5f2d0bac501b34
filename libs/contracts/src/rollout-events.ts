import type { FailureReason } from './catalog';
import type { Message } from './envelope';
import { ContractError } from './errors';
import type { Region, Tier } from './tiers';

/**
 * Staged fleet rollouts: a change of the tenant workloads' image tag across a selection of active tenants, in
 * waves (a canary wave, then batches). Each rollout is its own stream, `rolloutStream(id)`, outside the `tenant`
 * category: the plan, each wave, a checkpoint per tenant (started, then succeeded, skipped or failed) and every
 * operator decision. A tenant's change itself is an `ImageTagChangeRequested` in the tenant's own stream, which
 * the orchestrator applies like any other workloads change.
 */

export const ROLLOUT_STREAM_CATEGORY = 'rollout';
export const ROLLOUT_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * An OCI image tag (the distribution spec's `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`): it reaches rendered manifests,
 * Git paths and kustomize's `newTag`, so nothing else is accepted.
 */
export const IMAGE_TAG_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;

export function isImageTag(value: unknown): value is string {
  return typeof value === 'string' && IMAGE_TAG_PATTERN.test(value);
}

export function isRolloutId(value: unknown): value is string {
  return typeof value === 'string' && ROLLOUT_ID_PATTERN.test(value);
}

export function rolloutStream(rolloutId: string): string {
  if (!isRolloutId(rolloutId)) {
    throw new ContractError('NAMING.INVALID_ROLLOUT_ID', 'rollout id must be a lowercase UUID');
  }
  return `${ROLLOUT_STREAM_CATEGORY}-${rolloutId}`;
}

/** Which active tenants a rollout changes: every criterion given must match (none given: every active tenant). */
export interface RolloutSelection {
  tiers?: Tier[];
  regions?: Region[];
  tenantIds?: string[];
}

export interface RolloutEventData {
  /** The plan, fixed when the rollout starts: the tenants selected then, wave by wave (the first is the canary). */
  RolloutStarted: {
    rolloutId: string;
    imageTag: string;
    selection: RolloutSelection;
    canarySize: number;
    batchSize: number;
    waves: string[][];
    requestedBy: string;
    reason: string;
    startedAt: string;
  };
  RolloutWaveStarted: { wave: number; tenantIds: string[]; startedAt: string };
  /**
   * Checkpoint: the tenant's change is decided, under the tenant event id `requestEventId` (derived from the
   * rollout, the tenant and the attempt, so a driver that restarts finds it instead of asking twice).
   */
  RolloutTenantStarted: {
    wave: number;
    tenantId: string;
    attempt: number;
    requestEventId: string;
    startedAt: string;
  };
  /** The workloads run the tag and the tenant verified healthy, or it ran the tag already. */
  RolloutTenantSucceeded: {
    wave: number;
    tenantId: string;
    attempt: number;
    outcome: 'applied' | 'already-applied';
    succeededAt: string;
  };
  /** The tenant is no longer active (cancelled, suspended, purged since the plan): left as it is. */
  RolloutTenantSkipped: { wave: number; tenantId: string; reason: string; skippedAt: string };
  RolloutTenantFailed: {
    wave: number;
    tenantId: string;
    attempt: number;
    error: FailureReason;
    failedAt: string;
  };
  /** A tenant failed: no further tenant starts until an operator resumes (which retries it) or aborts. */
  RolloutHalted: { wave: number; tenantId: string; error: FailureReason; haltedAt: string };
  RolloutPaused: { requestedBy: string; reason: string; pausedAt: string };
  RolloutResumed: { requestedBy: string; reason: string; resumedAt: string };
  RolloutAborted: { requestedBy: string; reason: string; abortedAt: string };
  RolloutCompleted: { succeeded: number; skipped: number; completedAt: string };
}
export type RolloutEventType = keyof RolloutEventData;
export type RolloutEvent<T extends RolloutEventType = RolloutEventType> = T extends RolloutEventType
  ? Message<T, RolloutEventData[T]>
  : never;

export const ROLLOUT_EVENT_TYPES = [
  'RolloutStarted',
  'RolloutWaveStarted',
  'RolloutTenantStarted',
  'RolloutTenantSucceeded',
  'RolloutTenantSkipped',
  'RolloutTenantFailed',
  'RolloutHalted',
  'RolloutPaused',
  'RolloutResumed',
  'RolloutAborted',
  'RolloutCompleted',
] as const satisfies readonly RolloutEventType[];
