import { createHash } from 'node:crypto';
import type { ReconciliationEventData } from '@app/contracts';
import type { RecordedEvent } from '@app/event-store';
import { UseCaseError } from '../errors';
import { countFindings } from './reconcile';
import type { ReconciliationReport } from './reconciliation.commands';
import type { BillingSubscription } from './subscription-list';

/*
 * A reconciliation run under an Idempotency-Key: its stream's id derives from the operator and the key, so a
 * retry finds what the first run recorded and answers that report again rather than comparing anew (the
 * tenants may have changed since: the answer must be the first one's ids, findings and counts).
 */

/** What a run compares: billing's list as parsed, or the URL it is fetched from (not fetched to tell). */
export type RunFingerprintInput = { propose: boolean } & (
  { list: readonly BillingSubscription[] } | { source: URL }
);

/**
 * The sha256 of a run's request as the comparison sees it: the same list in any order, as JSON or CSV, is the
 * same request; a source counts by its whole URL (another query is another export), only digested, so a token
 * in it never lands in the stream.
 */
export function runFingerprint(input: RunFingerprintInput): string {
  const what =
    'list' in input
      ? {
          propose: input.propose,
          list: [...input.list]
            .map((s) => [s.subscriptionId, s.tier, s.tenantId ?? null])
            .sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
        }
      : { propose: input.propose, source: input.source.href };
  return createHash('sha256').update(JSON.stringify(what)).digest('hex');
}

/**
 * The report a keyed run recorded in its stream, answered again (`duplicate: true`), or undefined when the
 * stream holds no run. The same key with another request is refused.
 */
export function recordedReport(
  events: readonly RecordedEvent[],
  fingerprint: string,
): ReconciliationReport | undefined {
  const recorded = events.find((event) => event.type === 'ReconciliationRecorded');
  if (!recorded) return undefined;
  const run = recorded.data as ReconciliationEventData['ReconciliationRecorded'];
  if (run.requestFingerprint !== fingerprint) {
    throw new UseCaseError(
      'OPERATION.IDEMPOTENCY_KEY_REUSED',
      'this Idempotency-Key was already used for a different reconciliation request',
    );
  }
  const proposals = events
    .filter((event) => event.type === 'ReconciliationActionProposed')
    .map((event) => event.data as ReconciliationEventData['ReconciliationActionProposed']);
  return {
    reconciliationId: run.reconciliationId,
    source: run.source,
    comparedAt: run.recordedAt,
    subscriptions: run.subscriptions,
    tenantsCompared: run.tenantsCompared,
    readModelCheckpoint: run.readModelCheckpoint ?? null,
    counts: countFindings(proposals.map((proposal) => proposal.finding)),
    findings: proposals.map((proposal) => ({
      ...proposal.finding,
      action: proposal.action,
      actionId: proposal.actionId,
    })),
    duplicate: true,
  };
}
