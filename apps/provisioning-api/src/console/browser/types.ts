/**
 * The JSON the console API sends, as the browser reads it (built on the server by `../views.ts`; the browser
 * code compiles apart from the server's, so the shapes are restated here).
 */

export type Level = 'ok' | 'progress' | 'warning' | 'critical' | 'neutral';

export interface Principal {
  name: string;
  role: string;
}

export interface ErrorSummary {
  code: string;
  message: string;
}

export interface Health {
  level: Level;
  label: string;
  parked_steps: string[];
}

export interface TenantListItem {
  tenant_id: string;
  company_name: string;
  state: string;
  tier: string;
  region: string;
  domain: string;
  current_step: string | null;
  created_at: string;
  updated_at: string;
  health: Health;
}

export interface TenantPage {
  items: TenantListItem[];
  total: number;
  limit: number;
  offset: number;
}

export interface FailureReason {
  step: string;
  code: string;
  message: string;
}

export interface ParkedWork {
  step: string;
  attempt: number;
  parked_at: string | null;
  error: ErrorSummary | null;
}

export interface AttentionPage {
  items: (TenantListItem & { failure_reason: FailureReason | null; parked: ParkedWork[] })[];
  scanned: number;
  total: number;
}

export interface TenantDetail extends Omit<TenantListItem, 'health'> {
  subscription_id: string;
  activated_at: string | null;
  failure_reason: FailureReason | null;
  deprovisioning: {
    requested_at: string;
    deletion_date: string;
    reason: string;
    purge_started_at: string | null;
  } | null;
  /** The tenant's drift (absent from an API older than drift checks). */
  drift?: DriftView;
  /** The current provisioning run (1 until the tenant is provisioned again). */
  run?: number;
  /** The runs that failed before, oldest first. */
  failed_runs?: FailedRunView[];
  revision: number;
}

export interface FailedRunView {
  run: number;
  failure_reason: FailureReason | null;
  steps: { step: string; status: string }[];
  reprovisioned_at: string;
  reprovisioned_by: string;
  reason: string;
}

/** The operator actions the lifecycle admits now, decided on the server (`../tenant-console-actions.ts`). */
export interface TenantActions {
  /** `cancel`, `purge`, `reprovision`: the buttons to show. */
  available: string[];
  next_run: number;
  reprovision_blocked: string | null;
}

export interface DagNode {
  step: string;
  column: number;
  drawn_after: string[];
  state: string;
  attempt: number | null;
  duration_ms: number | null;
  error: ErrorSummary | null;
}

export interface OtherStep {
  step: string;
  kind: string;
  state: string;
  attempt: number;
  duration_ms: number | null;
  error: ErrorSummary | null;
}

/** The `tenant` frame of the live stream: everything the tenant page draws. */
export interface TenantView {
  tenant: TenantDetail;
  health: Health;
  dag: DagNode[];
  other_steps: OtherStep[];
  parked: ParkedWork[];
  links: { grafana: string; store: string };
  /** Absent from an API older than server-decided actions. */
  actions?: TenantActions;
}

/** The `event` frame of the live stream: one audit timeline entry. */
export interface TimelineEvent {
  revision: number;
  event_id: string;
  type: string;
  occurred_at: string;
  actor: string | null;
  correlation_id: string | null;
  causation_id: string | null;
  command_id: string | null;
  data: Record<string, unknown> | null;
}

export interface AuditResult {
  ok: boolean;
  checked_events: number;
  covered_up_to: number;
  uncovered_events: number;
  first_mismatch: { revision: number; type: string | null; reason: string; detail: string | null } | null;
}

/** A 400 answer's body: one entry per invalid field. */
export interface ErrorBody {
  message?: string;
  violations?: { messages: string[] }[];
}

/** One open drift of the tenant detail (`drift.open`). */
export interface DriftEntryView {
  drift_id: string;
  resource: string;
  kind: string;
  automatic: boolean;
  status: string;
  code: string;
  message: string;
  detected_at: string;
  error: { code: string; message: string } | null;
}

export interface DriftView {
  last_check: { check: number; status: string; requested_by: string; finished_at: string | null } | null;
  open: DriftEntryView[];
  detected: number;
  repaired: number;
}
