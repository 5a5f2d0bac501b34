import {
  invalidRequest,
  type ActionDecided,
  type ReconciliationActionView,
  type ReconciliationReport,
  type RunReconciliationRequest,
} from '@app/tenancy';
import type { ReconciliationFinding } from '@app/contracts';

const BODY_KEYS = ['subscriptions', 'source', 'propose'];

/** The body as the use case takes it: billing's list (an array, or `subscriptions`) or a `source` URL. */
export function reconciliationRequest(
  body: unknown,
  operator: string,
  idempotencyKey?: string,
): RunReconciliationRequest {
  const keyed = idempotencyKey === undefined ? {} : { idempotencyKey };
  if (Array.isArray(body)) return { subscriptions: body, operator, ...keyed };
  if (body === null || typeof body !== 'object') {
    throw invalidRequest('invalid reconciliation request', [
      { field: '', rules: ['isObject'], messages: ['body must be a subscription list or an object'] },
    ]);
  }
  const fields = body as Record<string, unknown>;
  const unknown = Object.keys(fields).filter((key) => !BODY_KEYS.includes(key));
  if (unknown.length > 0) {
    throw invalidRequest('invalid reconciliation request', [
      {
        field: unknown[0],
        rules: ['whitelist'],
        messages: [`unknown field(s) ${unknown.slice(0, 5).join(', ')} (expected ${BODY_KEYS.join(', ')})`],
      },
    ]);
  }
  return {
    subscriptions: fields['subscriptions'],
    source: fields['source'],
    propose: fields['propose'],
    operator,
    ...keyed,
  };
}

/** A finding's fields as the API and the console send them. */
export function findingView(finding: ReconciliationFinding) {
  return {
    kind: finding.kind,
    subscription_id: finding.subscriptionId,
    tenant_id: finding.tenantId,
    tenant_status: finding.tenantStatus,
    tenant_tier: finding.tenantTier,
    billing_tier: finding.billingTier,
    billing_tenant_id: finding.billingTenantId,
    detail: finding.detail,
  };
}

export function reportView(report: ReconciliationReport) {
  return {
    reconciliation_id: report.reconciliationId,
    source: report.source,
    compared_at: report.comparedAt,
    subscriptions: report.subscriptions,
    tenants_compared: report.tenantsCompared,
    read_model_checkpoint: report.readModelCheckpoint,
    counts: report.counts,
    findings: report.findings.map((finding) => ({
      ...findingView(finding),
      action: finding.action,
      action_id: finding.actionId,
    })),
    duplicate: report.duplicate,
  };
}

export function actionView(action: ReconciliationActionView) {
  return {
    reconciliation_id: action.reconciliationId,
    action_id: action.actionId,
    action: action.action,
    state: action.state,
    proposed_at: action.proposedAt,
    finding: findingView(action.finding),
    decision: action.decision && {
      operator: action.decision.operator,
      reason: action.decision.reason,
      decided_at: action.decision.decidedAt,
      tenant_event: action.decision.tenantEvent && {
        tenant_id: action.decision.tenantEvent.tenantId,
        type: action.decision.tenantEvent.type,
        event_id: action.decision.tenantEvent.eventId,
      },
    },
  };
}

export function decisionView(result: ActionDecided) {
  return {
    reconciliation_id: result.reconciliationId,
    action_id: result.actionId,
    state: result.state,
    tenant_event: result.tenantEvent && {
      tenant_id: result.tenantEvent.tenantId,
      type: result.tenantEvent.type,
      event_id: result.tenantEvent.eventId,
      status_url: `/api/v1/tenants/${result.tenantEvent.tenantId}`,
    },
    event_id: result.eventId,
    duplicate: result.duplicate,
  };
}
