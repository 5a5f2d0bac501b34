import type { FailureReason, LifecycleEventData } from '@app/contracts';

/**
 * The drift part of the tenant summary: the last check, the drifts still open and the last ones closed, folded
 * from the drift events alone (the checks' own steps stay out of the summary's step list).
 */

export type DriftEntryStatus = 'awaiting_approval' | 'repairing' | 'repair_failed' | 'repaired';

export interface DriftEntry {
  driftId: string;
  check: number;
  resource: string;
  kind: string;
  automatic: boolean;
  code: string;
  message: string;
  checks: string[];
  detectedAt: string;
  status: DriftEntryStatus;
  approvedBy: string | null;
  repairedAt: string | null;
  error: FailureReason | null;
}

export interface DriftCheckSummary {
  check: number;
  requestedBy: string;
  requestedAt: string;
  status: 'running' | 'completed' | 'dropped';
  finishedAt: string | null;
  drifts: string[];
  inconclusive: string[];
  reason: string | null;
}

export interface DriftSummary {
  lastCheck: DriftCheckSummary | null;
  open: DriftEntry[];
  /** The last closed drifts, newest first (at most RECENT_DRIFTS). */
  recent: DriftEntry[];
  detected: number;
  repaired: number;
}

export const RECENT_DRIFTS = 10;

export const DRIFT_EVENT_TYPES = [
  'DriftCheckRequested',
  'DriftDetected',
  'DriftRepairApproved',
  'DriftRepaired',
  'DriftRepairFailed',
  'DriftCheckCompleted',
  'DriftCheckDropped',
] as const;
export type DriftEventType = (typeof DRIFT_EVENT_TYPES)[number];
export type DriftEvent = { [K in DriftEventType]: { type: K; data: LifecycleEventData[K] } }[DriftEventType];

export function emptyDriftSummary(): DriftSummary {
  return { lastCheck: null, open: [], recent: [], detected: 0, repaired: 0 };
}

function updateOpen(
  summary: DriftSummary,
  driftId: string,
  change: (entry: DriftEntry) => DriftEntry,
): DriftSummary {
  if (!summary.open.some((entry) => entry.driftId === driftId)) return summary;
  return {
    ...summary,
    open: summary.open.map((entry) => (entry.driftId === driftId ? change(entry) : entry)),
  };
}

function finishCheck(summary: DriftSummary, check: number, change: Partial<DriftCheckSummary>): DriftSummary {
  if (!summary.lastCheck || summary.lastCheck.check !== check) return summary;
  return { ...summary, lastCheck: { ...summary.lastCheck, ...change } };
}

export function evolveDriftSummary(
  current: DriftSummary | undefined,
  event: DriftEvent,
  at: string,
): DriftSummary {
  const summary = current ?? emptyDriftSummary();
  switch (event.type) {
    case 'DriftCheckRequested': {
      const { check, requestedBy, requestedAt } = event.data;
      const lastCheck: DriftCheckSummary = {
        check,
        requestedBy,
        requestedAt,
        status: 'running',
        finishedAt: null,
        drifts: [],
        inconclusive: [],
        reason: null,
      };
      return { ...summary, lastCheck };
    }
    case 'DriftDetected': {
      const d = event.data;
      if (summary.open.some((entry) => entry.driftId === d.driftId)) return summary;
      const entry: DriftEntry = {
        driftId: d.driftId,
        check: d.check,
        resource: d.resource,
        kind: d.kind,
        automatic: d.automatic,
        code: d.code,
        message: d.message,
        checks: d.checks,
        detectedAt: d.detectedAt,
        status: d.automatic ? 'repairing' : 'awaiting_approval',
        approvedBy: null,
        repairedAt: null,
        error: null,
      };
      return { ...summary, open: [...summary.open, entry], detected: summary.detected + 1 };
    }
    case 'DriftRepairApproved':
      return updateOpen(summary, event.data.driftId, (entry) => ({
        ...entry,
        status: 'repairing',
        approvedBy: event.data.approvedBy,
      }));
    case 'DriftRepairFailed':
      return updateOpen(summary, event.data.driftId, (entry) => ({
        ...entry,
        status: 'repair_failed',
        error: event.data.error,
      }));
    case 'DriftRepaired': {
      const closed = summary.open.find((entry) => entry.driftId === event.data.driftId);
      if (!closed) return summary;
      const repaired: DriftEntry = { ...closed, status: 'repaired', repairedAt: event.data.repairedAt };
      return {
        ...summary,
        open: summary.open.filter((entry) => entry !== closed),
        recent: [repaired, ...summary.recent].slice(0, RECENT_DRIFTS),
        repaired: summary.repaired + 1,
      };
    }
    case 'DriftCheckCompleted':
      return finishCheck(summary, event.data.check, {
        status: 'completed',
        finishedAt: at,
        drifts: event.data.drifts,
        inconclusive: event.data.inconclusive,
      });
    case 'DriftCheckDropped':
      return finishCheck(summary, event.data.check, {
        status: 'dropped',
        finishedAt: at,
        reason: event.data.reason,
      });
    default: {
      const unreachable: never = event;
      return unreachable;
    }
  }
}
