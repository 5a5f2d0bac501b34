import { commandForResult } from '@app/contracts';
import type { RecordedEvent } from '@app/event-store';
import { redactSecrets, toSummaryEvent, type TenantStatus } from '@app/tenancy';

/** One word an operator reads at a glance; `requested` and `provisioning` are the same thing to them. */
export const HEALTH_WORDS = [
  'provisioning',
  'active',
  'failed',
  'cancelled',
  'rolling-back',
  'deprovisioning',
  'suspended',
  'suspending',
  'resuming',
  'purged',
] as const;
export type HealthWord = (typeof HEALTH_WORDS)[number];

const HEALTH: Record<TenantStatus, HealthWord> = {
  requested: 'provisioning',
  provisioning: 'provisioning',
  rolling_back: 'rolling-back',
  active: 'active',
  failed: 'failed',
  cancelled: 'cancelled',
  deprovisioning: 'deprovisioning',
  purged: 'purged',
  suspended: 'suspended',
  suspending: 'suspending',
  resuming: 'resuming',
};

export function healthOf(status: TenantStatus): HealthWord {
  return HEALTH[status];
}

/** States no flow leaves by itself: `watch` stops there. */
export function isSettled(health: HealthWord): boolean {
  return (
    health === 'active' ||
    health === 'failed' ||
    health === 'cancelled' ||
    health === 'purged' ||
    health === 'suspended'
  );
}

/** Event data is printed to a terminal: control characters (escape sequences) never reach it. */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex -- finding control characters is the point
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
}

/** Plain-text table: columns padded to their widest cell, the last one left ragged. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const cells = [headers, ...rows].map((row) => row.map((cell) => printable(cell)));
  const widths = headers.map((_, column) => Math.max(...cells.map((row) => (row[column] ?? '').length)));
  return cells
    .map((row) =>
      row
        .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column])))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function formatDuration(ms: number | null): string {
  if (ms === null) return '-';
  if (ms < 1000) return `${ms}ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(Math.floor(seconds % 60)).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}

function text(value: unknown, ...path: string[]): string {
  let current = value;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return '';
    current = (current as Record<string, unknown>)[key];
  }
  return typeof current === 'string' || typeof current === 'number' || typeof current === 'boolean'
    ? String(current)
    : '';
}

function failure(data: unknown, key: string): string {
  const code = text(data, key, 'code');
  const message = text(data, key, 'message');
  return code ? `${code}: ${message}` : message;
}

/** One line of a tenant's history. */
export interface TimelineEntry {
  revision: number;
  occurred_at: string;
  type: string;
  actor: string | null;
  step: string | null;
  detail: string;
  event_id: string;
  /** The event's data, with secret-looking keys masked (they should never be there). */
  data: unknown;
}

function describe(type: string, data: unknown): { step: string; detail: string } {
  const step = text(data, 'step');
  const result = commandForResult(type);
  if (result) {
    return result.outcome === 'succeeded'
      ? { step, detail: `${result.command} succeeded` }
      : { step, detail: `${failure(data, 'error')} (after ${text(data, 'attempts') || '?'} attempts)` };
  }
  switch (type) {
    case 'TenantRequested':
      return {
        step: '',
        detail: `${text(data, 'tenant', 'companyName')} (${text(data, 'tenant', 'tier')}, ${text(data, 'tenant', 'region')}) ${text(data, 'tenant', 'domain')} via ${text(data, 'source')}`,
      };
    case 'StepStarted':
      return {
        step,
        detail: `${text(data, 'commandType')} -> ${text(data, 'service')}, attempt ${text(data, 'attempt')}`,
      };
    case 'StepTimedOut':
      return { step, detail: `deadline ${text(data, 'deadline')} passed` };
    case 'RollbackStarted':
      return { step: text(data, 'failedStep'), detail: `rollback: ${failure(data, 'reason')}` };
    case 'CompensationParked':
    case 'StepParked': {
      const retryAt = text(data, 'retryAt');
      return {
        step,
        detail: `parked: ${failure(data, 'reason')}${retryAt ? `; automatic retry at ${retryAt}` : '; waits for an operator'}`,
      };
    }
    case 'TenantProvisioningFailed': {
      const compensated = (data as { compensatedSteps?: unknown }).compensatedSteps;
      const list = Array.isArray(compensated) ? compensated.map(String).join(', ') : '';
      return { step: text(data, 'failedStep'), detail: `failed; compensated: ${list || 'nothing'}` };
    }
    case 'ProvisioningCancelled': {
      const compensated = (data as { compensatedSteps?: unknown }).compensatedSteps;
      const list = Array.isArray(compensated) ? compensated.map(String).join(', ') : '';
      return {
        step: '',
        detail: `cancelled before activation: ${text(data, 'reason')}; compensated: ${list || 'nothing'}`,
      };
    }
    case 'TenantActivated':
      return { step: '', detail: `activated at ${text(data, 'activatedAt')}` };
    case 'CancellationRequested':
      return {
        step: '',
        detail: `by ${text(data, 'requestedBy')}: ${text(data, 'reason')}; deletion on ${text(data, 'deletionDate')}`,
      };
    case 'TenantReactivated':
      return {
        step: '',
        detail: `by ${text(data, 'requestedBy')}, subscription ${text(data, 'subscriptionId')}`,
      };
    case 'BackupStarted':
    case 'PurgeStarted':
      return { step: '', detail: `backup ${text(data, 'backupId')}` };
    case 'BackupCompleted': {
      const manifests = (data as { manifests?: unknown }).manifests;
      return {
        step: '',
        detail: `backup ${text(data, 'backupId')}, ${Array.isArray(manifests) ? manifests.length : 0} manifests`,
      };
    }
    case 'PurgeBlocked':
      return { step: '', detail: `${failure(data, 'reason')}; retry at ${text(data, 'retryAt')}` };
    case 'TenantPurged':
      return { step: '', detail: `purged at ${text(data, 'purgedAt')}` };
    case 'ReprovisioningRequested':
      return {
        step: '',
        detail: `run ${text(data, 'run')} by ${text(data, 'requestedBy')}: ${text(data, 'reason')}`,
      };
    case 'OperatorRetryRequested':
      return { step, detail: `retry by ${text(data, 'operator')}: ${text(data, 'reason')}` };
    case 'TierChangeRequested':
      return {
        step: '',
        detail: `${text(data, 'fromTier')} -> ${text(data, 'toTier')} by ${text(data, 'requestedBy')}`,
      };
    case 'TierChanged':
      return { step: '', detail: `${text(data, 'fromTier')} -> ${text(data, 'toTier')}` };
    case 'SuspensionRequested':
      return { step: '', detail: `by ${text(data, 'requestedBy')}: ${text(data, 'reason')}` };
    case 'ResumptionRequested':
      return { step: '', detail: `by ${text(data, 'requestedBy')}` };
    default:
      return { step, detail: '' };
  }
}

export function timelineEntry(event: RecordedEvent): TimelineEntry {
  const { step, detail } = describe(event.type, event.data);
  const actor = event.metadata['actor'];
  return {
    revision: event.revision,
    occurred_at: toSummaryEvent(event).occurredAt,
    type: event.type,
    actor: typeof actor === 'string' ? actor : null,
    step: step || null,
    detail,
    event_id: event.id,
    data: redactSecrets(event.data),
  };
}

export const TIMELINE_HEADERS = ['REV', 'TIME', 'TYPE', 'ACTOR', 'STEP', 'DETAIL'] as const;

export function timelineRow(entry: TimelineEntry): string[] {
  return [
    String(entry.revision),
    entry.occurred_at,
    entry.type,
    entry.actor ?? '-',
    entry.step ?? '-',
    entry.detail,
  ];
}
