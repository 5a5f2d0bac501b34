/** Shapes of the provisioning-api's JSON answers that the demo and the end-to-end suites read. */
export interface StepView {
  step: string;
  status: string;
  attempt: number;
  started_at: string;
  finished_at: string | null;
  duration_ms: number | null;
  error: { code: string; message: string } | null;
}

export interface TenantView {
  tenant_id: string;
  company_name: string;
  state: string;
  tier: string;
  domain: string;
  current_step: string | null;
  activated_at: string | null;
  failure_reason: { step: string; code: string; message: string } | null;
  steps: StepView[];
}

export interface EventView {
  revision: number;
  event_id: string;
  type: string;
  occurred_at: string;
  actor: string | null;
  data: Record<string, unknown>;
}

export interface EventsPage {
  events: EventView[];
  next_from: number | null;
}

export const TERMINAL_STATES = ['active', 'failed', 'purged'];
