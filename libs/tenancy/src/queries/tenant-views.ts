import type { RecordedEvent } from '@app/event-store';
import { redactSecrets } from '../read-model/redact';
import {
  toSummaryEvent,
  type StepSummary,
  type TenantSummary,
} from '../read-model/tenant-summary.projection';
import { emptyDriftSummary, type DriftEntry, type DriftSummary } from '../drift/drift.projection';

/* The wire shapes of the tenant queries (snake_case, as the API, the console and `tenantctl --json` print them). */

function stepView(step: StepSummary) {
  return {
    step: step.step,
    status: step.status,
    attempt: step.attempt,
    service: step.service,
    command_type: step.commandType,
    command_id: step.commandId,
    started_at: step.startedAt,
    finished_at: step.finishedAt,
    duration_ms: step.durationMs,
    error: step.error,
  };
}

export function tenantListItem(summary: TenantSummary) {
  return {
    tenant_id: summary.tenantId,
    company_name: summary.companyName,
    state: summary.status,
    tier: summary.tier,
    region: summary.region,
    domain: summary.domain,
    current_step: summary.currentStep,
    created_at: summary.createdAt,
    updated_at: summary.updatedAt,
  };
}

export function tenantDetail(summary: TenantSummary) {
  return {
    ...tenantListItem(summary),
    subscription_id: summary.subscriptionId,
    activated_at: summary.activatedAt,
    failure_reason: summary.failureReason,
    deprovisioning: summary.deprovisioning && {
      requested_at: summary.deprovisioning.requestedAt,
      deletion_date: summary.deprovisioning.deletionDate,
      reason: summary.deprovisioning.reason,
      purge_started_at: summary.deprovisioning.purgeStartedAt,
    },
    purged_at: summary.purgedAt,
    steps: stepViews(summary.steps),
    run: summary.run ?? 1,
    failed_runs: (summary.failedRuns ?? []).map((failed) => ({
      run: failed.run,
      failure_reason: failed.failureReason,
      steps: stepViews(failed.steps),
      reprovisioned_at: failed.reprovisionedAt,
      reprovisioned_by: failed.reprovisionedBy,
      reason: failed.reason,
    })),
    drift: driftView(summary.drift),
    revision: summary.revision,
  };
}

function stepViews(steps: Record<string, StepSummary>) {
  return Object.values(steps)
    .sort((a, b) => a.startedAt.localeCompare(b.startedAt) || a.step.localeCompare(b.step))
    .map(stepView);
}

/** One event of the audit history, its data with secret-looking keys masked. */
export function historyEvent(event: RecordedEvent) {
  return {
    revision: event.revision,
    event_id: event.id,
    type: event.type,
    occurred_at: toSummaryEvent(event).occurredAt,
    recorded_at: event.recordedAt.toISOString(),
    actor: typeof event.metadata['actor'] === 'string' ? event.metadata['actor'] : null,
    correlation_id: event.metadata['correlationId'] ?? null,
    causation_id: event.metadata['causationId'] ?? null,
    command_id: event.metadata['commandId'] ?? null,
    schema_version: event.metadata.schemaVersion,
    data: redactSecrets(event.data),
  };
}

function driftEntryView(entry: DriftEntry) {
  return {
    drift_id: entry.driftId,
    check: entry.check,
    resource: entry.resource,
    kind: entry.kind,
    automatic: entry.automatic,
    status: entry.status,
    code: entry.code,
    message: entry.message,
    checks: entry.checks,
    detected_at: entry.detectedAt,
    approved_by: entry.approvedBy,
    repaired_at: entry.repairedAt,
    error: entry.error,
  };
}

/** The tenant's drift: the last check, open drifts (the console's Drift section), the last ones closed. */
export function driftView(drift: DriftSummary | undefined) {
  const summary = drift ?? emptyDriftSummary();
  const last = summary.lastCheck;
  return {
    last_check: last && {
      check: last.check,
      requested_by: last.requestedBy,
      requested_at: last.requestedAt,
      status: last.status,
      finished_at: last.finishedAt,
      drifts: last.drifts,
      inconclusive: last.inconclusive,
      reason: last.reason,
    },
    open: summary.open.map(driftEntryView),
    recent: summary.recent.map(driftEntryView),
    detected: summary.detected,
    repaired: summary.repaired,
  };
}
