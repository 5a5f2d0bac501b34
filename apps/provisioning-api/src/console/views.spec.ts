import { deterministicId, type TenantProfile } from '@app/contracts';
import type { TenantVerification } from '@app/audit';
import type { RecordedEvent } from '@app/event-store';
import { foldTenantSummary, type SummaryEvent, type TenantSummary } from '@app/tenancy';
import { consolePage } from './assets/page';
import { CONSOLE_CSS } from './assets/styles';
import { loadConsoleConfig } from './console.config';
import {
  auditView,
  consoleEventView,
  consoleLinks,
  consoleTenantView,
  dagView,
  otherSteps,
  parkedWork,
  sseFrame,
  tenantHealth,
} from './views';

const tenant: TenantProfile = {
  tenantId: 'abc-corporation-7f3a9c',
  companyName: 'ABC Corporation',
  adminEmail: 'admin@abc-corp.com',
  billingEmail: 'billing@abc-corp.com',
  tier: 'premium',
  region: 'us-east',
  domain: 'abc-corporation.collectverything.com',
  subscriptionId: 'sub_abc123',
  plan: { price: 124.99, currency: 'EUR', billingPeriod: 'monthly' },
  createdAt: '2025-01-15T10:00:00.000Z',
};

/** Builds a stream step by step; every event is one second after the previous one. */
function history() {
  const events: SummaryEvent[] = [];
  let second = 0;
  const at = () => new Date(Date.UTC(2025, 0, 15, 10, 0, second++)).toISOString();
  const push = (type: string, data: unknown) =>
    events.push({ type, data, occurredAt: at(), revision: events.length });
  push('TenantRequested', { tenant, source: 'webhook' });
  const api = {
    start(step: string, attempt = 1) {
      push('StepStarted', {
        step,
        commandId: deterministicId(step, String(attempt)),
        commandType: 'ProvisionDatabases',
        service: 'database',
        attempt,
        deadline: '2025-01-15T11:00:00Z',
        params: {},
      });
      return api;
    },
    succeed(step: string, attempt = 1) {
      push('DatabasesProvisioned', { step, commandId: deterministicId(step, String(attempt)) });
      return api;
    },
    park(step: string, attempt = 1) {
      push('StepParked', {
        step,
        commandId: deterministicId(step, String(attempt)),
        reason: { code: 'SMTP.REFUSED', message: 'SMTP send failed (550)', retryable: false },
      });
      return api;
    },
    push,
    summary(): TenantSummary {
      const summary = foldTenantSummary(events);
      if (!summary) throw new Error('no summary');
      return summary;
    },
  };
  return api;
}

describe('tenant health badge', () => {
  it('is in progress while provisioning, healthy once active, and always carries a text label', () => {
    const h = history().start('namespace');
    expect(tenantHealth(h.summary())).toEqual({ level: 'progress', label: 'Provisioning', parked_steps: [] });
    h.succeed('namespace').push('TenantActivated', { activatedAt: '2025-01-15T10:05:00Z' });
    expect(tenantHealth(h.summary())).toEqual({ level: 'ok', label: 'Healthy', parked_steps: [] });
  });

  it('asks for attention when an active tenant has parked work', () => {
    const parked = history();
    parked.push('TenantActivated', { activatedAt: '2025-01-15T10:05:00Z' });
    parked.start('welcome-email').park('welcome-email');
    expect(tenantHealth(parked.summary())).toEqual({
      level: 'warning',
      label: 'Needs attention: 1 parked',
      parked_steps: ['welcome-email'],
    });
  });

  it('is critical while rolling back and once failed', () => {
    const h = history().start('website');
    h.push('RollbackStarted', {
      failedStep: 'website',
      reason: { code: 'WEBSITES.HTTP_500', message: 'injected', retryable: false },
    });
    expect(tenantHealth(h.summary()).level).toBe('critical');
    expect(tenantHealth(h.summary()).label).toBe('Rolling back');
    h.push('TenantProvisioningFailed', {
      failedStep: 'website',
      reason: { code: 'WEBSITES.HTTP_500', message: 'injected', retryable: false },
    });
    expect(tenantHealth(h.summary())).toMatchObject({ level: 'critical', label: 'Failed' });
  });

  it('says so when a provisioning step is being retried', () => {
    const h = history().start('databases');
    h.push('DatabasesProvisioningFailed', {
      step: 'databases',
      commandId: deterministicId('databases', '1'),
      error: { code: 'DATABASE.UNAVAILABLE', message: 'down', retryable: true },
    });
    expect(tenantHealth(h.summary()).label).toBe('Provisioning (retrying a step)');
  });
});

describe('provisioning DAG view', () => {
  it('draws every step of the contracts with activate in its place, by dependency depth', () => {
    const nodes = dagView(history().summary());
    const column = Object.fromEntries(nodes.map((n) => [n.step, n.column]));
    expect(column).toEqual({
      namespace: 0,
      databases: 0,
      storage: 0,
      broker: 0,
      monitoring: 1,
      workloads: 1,
      ingress: 2,
      website: 2,
      'verify-kubernetes': 3,
      'verify-databases': 3,
      'verify-storage': 3,
      'verify-broker': 3,
      activate: 4,
      'website-activation': 5,
      'welcome-email': 5,
      'grafana-viewer': 5,
    });
    expect(nodes.every((n) => n.state === 'pending')).toBe(true);
    const drawn = Object.fromEntries(nodes.map((n) => [n.step, n.drawn_after]));
    expect(drawn['verify-storage']).toEqual(['ingress', 'monitoring', 'website']);
    expect(drawn.workloads).toEqual(['namespace', 'databases', 'storage', 'broker']);
    expect(drawn.activate).toHaveLength(4);
    expect(nodes.find((n) => n.step === 'activate')?.depends_on).toEqual([
      'verify-kubernetes',
      'verify-databases',
      'verify-storage',
      'verify-broker',
    ]);
  });

  it('shows each step state, attempt and duration, and activate as succeeded once activated', () => {
    const h = history().start('databases').succeed('databases').start('namespace');
    let nodes = dagView(h.summary());
    expect(nodes.find((n) => n.step === 'databases')).toMatchObject({
      state: 'succeeded',
      attempt: 1,
      duration_ms: 1000,
      error: null,
    });
    expect(nodes.find((n) => n.step === 'namespace')).toMatchObject({ state: 'running', duration_ms: null });
    h.push('TenantActivated', { activatedAt: '2025-01-15T10:05:00.000Z' });
    nodes = dagView(h.summary());
    expect(nodes.find((n) => n.step === 'activate')).toMatchObject({
      state: 'succeeded',
      finished_at: '2025-01-15T10:05:00.000Z',
    });
  });

  it('lists compensations as rollback work apart from the DAG, and parked steps as retryable work', () => {
    const h = history().start('namespace').succeed('namespace').start('compensate:namespace');
    h.start('welcome-email').park('welcome-email');
    const other = otherSteps(h.summary());
    expect(other).toEqual([
      expect.objectContaining({ step: 'compensate:namespace', kind: 'rollback', state: 'running' }),
    ]);
    expect(parkedWork(h.summary())).toEqual([
      {
        step: 'welcome-email',
        attempt: 1,
        parked_at: expect.any(String),
        error: { code: 'SMTP.REFUSED', message: 'SMTP send failed (550)' },
      },
    ]);
  });
});

describe('links, events, audit and frames', () => {
  it('links to the tenant Grafana folder under the configured base and to the store over https', () => {
    const summary = history().summary();
    expect(consoleLinks(summary, 'https://grafana.example.com/')).toEqual({
      grafana: 'https://grafana.example.com/dashboards/f/tenant-abc-corporation-7f3a9c',
      store: 'https://abc-corporation.collectverything.com',
    });
    expect(consoleTenantView(summary, 'http://g:3000').links.grafana).toBe(
      'http://g:3000/dashboards/f/tenant-abc-corporation-7f3a9c',
    );
  });

  it('defaults Grafana to the monitoring namespace and refuses a non-http base URL', () => {
    expect(loadConsoleConfig({}).GRAFANA_PUBLIC_URL).toBe('http://grafana.e-commerce-monitoring:3000');
    expect(() => loadConsoleConfig({ GRAFANA_PUBLIC_URL: 'javascript:alert(1)' })).toThrow(
      /GRAFANA_PUBLIC_URL/,
    );
  });

  it('masks secret-looking keys in event payloads', () => {
    const event: RecordedEvent = {
      id: 'e1',
      type: 'DatabasesProvisioned',
      data: { step: 'databases', password: 'hunter2hunter2', secretPath: 'tenants/x/db' },
      metadata: { schemaVersion: 1, actor: 'database-service', occurredAt: '2025-01-15T10:00:00Z' },
      streamName: 'tenant-abc-corporation-7f3a9c',
      revision: 3,
      position: '1',
      recordedAt: new Date('2025-01-15T10:00:01Z'),
    };
    const view = consoleEventView(event);
    expect(JSON.stringify(view)).not.toContain('hunter2');
    expect(view).toMatchObject({
      revision: 3,
      type: 'DatabasesProvisioned',
      actor: 'database-service',
      occurred_at: '2025-01-15T10:00:00Z',
      data: { step: 'databases', password: '[redacted]', secretPath: 'tenants/x/db' },
    });
  });

  it('reports the first chain mismatch with its revision and reason', () => {
    const verification: TenantVerification = {
      tenantId: 'abc-corporation-7f3a9c',
      ok: false,
      streamName: 'tenant-abc-corporation-7f3a9c',
      checkedEvents: 4,
      coveredUpTo: 9,
      chainHead: 'h',
      uncoveredEvents: 1,
      firstMismatch: {
        revision: 4,
        eventId: 'e4',
        type: 'StepStarted',
        reason: 'hash',
        expectedHash: 'a',
        actualHash: 'b',
      },
    };
    expect(auditView(verification)).toMatchObject({
      ok: false,
      checked_events: 4,
      covered_up_to: 9,
      uncovered_events: 1,
      first_mismatch: { revision: 4, reason: 'hash', detail: null },
    });
    expect(auditView({ ...verification, ok: true, firstMismatch: undefined }).first_mismatch).toBeNull();
  });

  it('frames one server-sent event per call on a single data line, refusing odd event names', () => {
    expect(sseFrame('event', { text: 'two\nlines' }, 7)).toBe(
      'event: event\nid: 7\ndata: {"text":"two\\nlines"}\n\n',
    );
    expect(() => sseFrame('x\ndata: injected', {})).toThrow('invalid SSE event name');
  });
});

describe('console assets', () => {
  it('load only same-origin assets, label every form control and offer a live region', () => {
    const page = consolePage('v1');
    expect(page).toContain('<script type="module" src="/console/app.js?v=v1"></script>');
    expect(page).not.toMatch(/<script>|\sstyle=|\son[a-z]+=/);
    for (const id of [...page.matchAll(/<(?:input|select|textarea) id="([^"]+)"/g)].map((m) => m[1])) {
      expect(page).toContain(`<label for="${id}"`);
    }
    expect(page).toContain('aria-live="polite"');
    expect(CONSOLE_CSS).toContain(':focus-visible');
  });
});
