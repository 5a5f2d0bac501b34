import type { ReconciliationActionKind, ReconciliationFinding } from '@app/contracts';
import { Command, Query } from '@nestjs/cqrs';
import type { FindingCounts } from './reconcile';
import type { ReconciliationActionView } from './reconciliation-stream';

/*
 * Billing reconciliation, from the HTTP API and tenantctl alike. The requests' fields come straight from a body
 * or the command line: the handlers validate them.
 */

export interface RunReconciliationRequest {
  /** Billing's list as JSON (an array, or `{ subscriptions: [...] }`)... */
  subscriptions?: unknown;
  /** ...or as CSV text... */
  csv?: unknown;
  /** ...or the URL of billing's export. Exactly one of the three. */
  source?: unknown;
  /** Record the comparison and one action per finding for an operator to accept or dismiss. */
  propose?: unknown;
  operator: string;
  /** The Idempotency-Key as sent: with `propose`, a retry answers the recorded report again. */
  idempotencyKey?: unknown;
}

export type ReportedFinding = ReconciliationFinding & {
  /** What accepting the finding would do. */
  action: ReconciliationActionKind;
  /** Set when the action was proposed (recorded). */
  actionId: string | null;
};

export interface ReconciliationReport {
  /** Set when the findings were recorded as proposals. */
  reconciliationId: string | null;
  source: string;
  comparedAt: string;
  subscriptions: number;
  tenantsCompared: number;
  /** The read model's checkpoint when it was read: how fresh the tenants compared were. */
  readModelCheckpoint: string | null;
  counts: FindingCounts;
  findings: ReportedFinding[];
  /** True when this Idempotency-Key already recorded this report: it is answered again, nothing appended. */
  duplicate: boolean;
}

export interface DecideActionRequest {
  reconciliationId: unknown;
  actionId: unknown;
  decision: 'accept' | 'dismiss';
  reason: unknown;
  operator: string;
  /** The Idempotency-Key as sent: the same key with another decision or reason is refused. */
  idempotencyKey?: unknown;
}

export interface ActionDecided {
  reconciliationId: string;
  actionId: string;
  state: 'accepted' | 'dismissed';
  /** The tenant event an accepted action appended (none for a follow-up, or a tier already equal). */
  tenantEvent: { tenantId: string; type: string; eventId: string } | null;
  eventId: string;
  /** The same decision was already recorded: nothing new was appended. */
  duplicate: boolean;
}

export interface ReconciliationActionPage {
  items: ReconciliationActionView[];
  /** Reconciliations read to build the page. */
  reconciliations: number;
}

/** Compare billing's active subscriptions with the tenants; optionally propose an action per finding. */
export class RunReconciliation extends Command<ReconciliationReport> {
  constructor(readonly request: RunReconciliationRequest) {
    super();
  }
}

/** Accept (carry out) or dismiss a proposed action; the decision and who made it are recorded. */
export class DecideReconciliationAction extends Command<ActionDecided> {
  constructor(readonly request: DecideActionRequest) {
    super();
  }
}

/** Proposed actions across reconciliations, newest first, by state (`open` by default). */
export class ListReconciliationActions extends Query<ReconciliationActionPage> {
  constructor(readonly query: { state?: unknown; reconciliationId?: unknown }) {
    super();
  }
}
