import type { FailureReason, Region, Tier } from '@app/contracts';
import type { WorkloadsKind } from '@app/lifecycle';
import type { DriftSummary } from '../drift/drift.projection';
import type { FailedRun } from './provisioning-runs.projection';

/** The shapes of the tenant summary (tenant-summary.projection.ts folds them). */

export const TENANT_STATUSES = [
  'requested',
  'provisioning',
  'rolling_back',
  'active',
  'failed',
  'cancelled',
  'deprovisioning',
  'purged',
  'suspended',
  'suspending',
  'resuming',
] as const;
export type TenantStatus = (typeof TENANT_STATUSES)[number];

export type StepState = 'running' | 'succeeded' | 'failed' | 'timed_out' | 'parked';

export interface StepSummary {
  step: string;
  status: StepState;
  commandId: string;
  commandType: string;
  service: string;
  attempt: number;
  startedAt: string;
  finishedAt: string | null;
  durationMs: number | null;
  error: FailureReason | null;
}

export interface TenantSummary {
  tenantId: string;
  subscriptionId: string;
  companyName: string;
  tier: Tier;
  region: Region;
  domain: string;
  status: TenantStatus;
  currentStep: string | null;
  steps: Record<string, StepSummary>;
  createdAt: string;
  updatedAt: string;
  activatedAt: string | null;
  failureReason: (FailureReason & { step: string }) | null;
  deprovisioning: {
    requestedAt: string;
    deletionDate: string;
    reason: string;
    purgeStartedAt: string | null;
  } | null;
  purgedAt: string | null;
  /** Revision of the last event folded in; tells a reader how fresh the summary is. */
  revision: number;
  /** Where the workloads are (absent until the first suspension: running once active). */
  workloads?: WorkloadsSummary;
  /** Number of the current provisioning run (absent: the first). */
  run?: number;
  /** The runs that failed before the tenant was provisioned again, oldest first (absent: none). */
  failedRuns?: FailedRun<StepSummary>[];
  /** Drift checks and the drifts they found (absent until the first check). */
  drift?: DriftSummary;
}

/**
 * The workloads as the k8s service last applied them, and the suspension or resumption asked but not yet
 * applied (with the one queued behind it), by the same rules as the orchestrator's fold (`@app/lifecycle`).
 */
export interface WorkloadsSummary {
  applied: 'active' | 'suspended';
  pending: WorkloadsKind | null;
  /** The pending one's step key once the orchestrator started it. */
  pendingStep: string | null;
  queued: WorkloadsKind | null;
}

/** The part of a recorded event the fold needs. `occurredAt` comes from the metadata (or the record time). */
export interface SummaryEvent {
  type: string;
  data: unknown;
  revision: number;
  occurredAt: string;
}
