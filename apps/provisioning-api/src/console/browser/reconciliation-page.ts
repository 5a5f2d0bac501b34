/**
 * The billing reconciliation page: a run from billing's export URL or a pasted list, then every recorded run
 * with its proposals; accepting or dismissing one asks for a reason and a confirmation. Labels, levels, what
 * accepting does and which decisions are open come from the server (`../reconciliation-console-views.ts`).
 */
import { api, ApiError, messageOf, postJson, session, statusOf } from './api.js';
import { openReasonDialog } from './dialogs.js';
import { $, badge, clear, el, focusHeading, formatTime, humanize, showView, timeNode } from './dom.js';
import type { Level } from './types.js';

type ProposalDecision = 'accept' | 'dismiss';

interface ConsoleBadge {
  level: Level;
  label: string;
}

interface Proposal {
  reconciliation_id: string;
  action_id: string;
  kind: string;
  finding: ConsoleBadge;
  subscription_id: string;
  tenant_id: string | null;
  tenant_status: string | null;
  tenant_tier: string | null;
  billing_tier: string | null;
  billing_tenant_id: string | null;
  detail: string;
  action: string;
  action_label: string;
  plan: { tenant_id: string; query: string } | null;
  state: string;
  badge: ConsoleBadge;
  decision: {
    operator: string;
    reason: string;
    decided_at: string;
    tenant_event: { tenant_id: string; type: string; event_id: string } | null;
  } | null;
  decisions: ProposalDecision[];
}

interface Run {
  reconciliation_id: string;
  source: string;
  source_label: string;
  operator: string;
  recorded_at: string;
  subscriptions: number;
  tenants_compared: number;
  open: number;
  badge: ConsoleBadge;
  summary: string;
  proposals: Proposal[];
}

interface RunsPage {
  items: Run[];
  total_runs: number;
  open_proposals: number;
}

/** The answer of `POST /api/v1/reconciliations` the page reports (the findings are in the list below). */
interface RunReport {
  reconciliation_id: string | null;
  subscriptions: number;
  tenants_compared: number;
  counts: Record<string, number>;
}

const readOnly = () => !!session.principal && session.principal.role === 'auditor';

export async function showReconciliation(): Promise<void> {
  showView('reconciliation-view');
  document.title = 'Billing reconciliation \u00B7 Tenant console';
  $('rc-error').textContent = '';
  $('rc-form').hidden = readOnly();
  $('rc-run-hint').textContent = readOnly()
    ? 'Your role (auditor) is read-only: only operators may start a run or decide a proposal.'
    : 'Give the URL of billing\u2019s export or paste its list; the findings are recorded as proposals below.';
  $<HTMLFormElement>('rc-form').onsubmit = (submitEvent) => {
    submitEvent.preventDefault();
    void startRun();
  };
  await loadRuns();
  focusHeading('reconciliation-title');
}

/** The run request from the form, or the reason it cannot be sent (shown, nothing posted). */
function runRequest(): { body: Record<string, unknown> } | { problem: string; field: string } {
  const source = $<HTMLInputElement>('rc-source').value.trim();
  const pasted = $<HTMLTextAreaElement>('rc-list').value.trim();
  if (source && pasted) return { problem: 'Give either a URL or a pasted list, not both.', field: 'rc-list' };
  if (source) return { body: { source: source, propose: true } };
  if (!pasted) {
    return { problem: 'Give the URL of billing\u2019s export, or paste its list.', field: 'rc-source' };
  }
  let list: unknown;
  try {
    list = JSON.parse(pasted);
  } catch (error) {
    return { problem: 'The pasted list is not JSON: ' + messageOf(error), field: 'rc-list' };
  }
  if (Array.isArray(list)) return { body: { subscriptions: list, propose: true } };
  if (list !== null && typeof list === 'object') return { body: Object.assign({}, list, { propose: true }) };
  return {
    problem: 'The pasted list must be a JSON array or an object with subscriptions.',
    field: 'rc-list',
  };
}

function runFailure(error: unknown): string {
  if (statusOf(error) === 403) return 'Refused: only operators may start a reconciliation.';
  if (statusOf(error) === 400 && error instanceof ApiError && error.body && error.body.violations) {
    return 'The list was refused: ' + error.body.violations.map((v) => v.messages.join(' ')).join(' ');
  }
  return 'The run failed: ' + messageOf(error);
}

async function startRun(): Promise<void> {
  const errorNode = $('rc-error');
  const submit = $<HTMLButtonElement>('rc-submit');
  errorNode.textContent = '';
  const request = runRequest();
  if ('problem' in request) {
    errorNode.textContent = request.problem;
    $(request.field).focus();
    return;
  }
  submit.disabled = true;
  $('rc-result').textContent = 'Comparing\u2026';
  try {
    // A run has no idempotency key of its own: each submission is a new comparison, recorded as such.
    const report = await api<RunReport>('/api/v1/reconciliations', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(request.body),
    });
    const found = Object.keys(report.counts)
      .filter((kind) => report.counts[kind] > 0)
      .map((kind) => report.counts[kind] + ' ' + humanize(kind));
    $('rc-result').textContent =
      'Run ' +
      report.reconciliation_id +
      ': ' +
      report.subscriptions +
      ' subscription(s) compared with ' +
      report.tenants_compared +
      ' tenant(s), ' +
      (found.length > 0 ? found.join(', ') : 'no finding') +
      '.';
    $<HTMLTextAreaElement>('rc-list').value = '';
    $<HTMLInputElement>('rc-source').value = '';
    await loadRuns();
  } catch (error) {
    $('rc-result').textContent = '';
    if (statusOf(error) !== 401) errorNode.textContent = runFailure(error);
  } finally {
    submit.disabled = false;
  }
}

async function loadRuns(): Promise<void> {
  let page: RunsPage;
  try {
    page = await api<RunsPage>('/api/v1/console/reconciliations');
  } catch (error) {
    if (statusOf(error) !== 401)
      $('rc-summary').textContent = 'Could not load the reconciliations: ' + messageOf(error);
    return;
  }
  $('rc-summary').textContent =
    page.total_runs === 0
      ? 'No reconciliation recorded yet.'
      : page.total_runs +
        ' run(s)' +
        (page.items.length < page.total_runs ? ', the newest ' + page.items.length + ' shown' : '') +
        '; ' +
        page.open_proposals +
        ' proposal(s) open.';
  const runs = clear($('rc-runs'));
  for (const run of page.items) runs.append(runSection(run));
}

function runSection(run: Run): HTMLElement {
  const titleId = 'rc-run-' + run.reconciliation_id;
  const header = el(
    'h2',
    { id: titleId, tabindex: '-1' },
    'Run of ' + formatTime(run.recorded_at),
    badge(run.badge.level, run.badge.label),
  );
  const origin = el(
    'p',
    { className: 'muted' },
    'From ' + run.source_label + ', by ' + run.operator + ' \u00B7 reconciliation ',
    el('span', { className: 'mono', text: run.reconciliation_id }),
  );
  const section = el(
    'section',
    { className: 'panel rc-run', 'aria-labelledby': titleId, 'data-reconciliation': run.reconciliation_id },
    header,
    el('p', { text: run.summary }),
    origin,
  );
  if (run.proposals.length > 0) section.append(proposalTable(run));
  return section;
}

function proposalTable(run: Run): HTMLElement {
  const columns = [
    'Finding',
    'Subscription',
    'Tenant',
    'Tier (tenant \u2192 billing)',
    'Accepting',
    'State',
    'Decision',
  ];
  const head = columns.map((text) => el('th', { scope: 'col', text: text }));
  return el(
    'div',
    { className: 'table-wrap' },
    el(
      'table',
      {},
      el('caption', {
        className: 'visually-hidden',
        text: 'Proposals of the run of ' + formatTime(run.recorded_at),
      }),
      el('thead', {}, el('tr', {}, ...head)),
      el('tbody', {}, ...run.proposals.map(proposalRow)),
    ),
  );
}

function proposalRow(proposal: Proposal): HTMLTableRowElement {
  const tenant = proposal.tenant_id
    ? el('a', {
        href: '#/tenants/' + encodeURIComponent(proposal.tenant_id),
        className: 'mono',
        text: proposal.tenant_id,
      })
    : el('span', { className: 'muted', text: 'none' });
  const tiers =
    proposal.tenant_tier || proposal.billing_tier
      ? (proposal.tenant_tier || '\u2014') + ' \u2192 ' + (proposal.billing_tier || '\u2014')
      : '\u2014';
  return el(
    'tr',
    {
      'data-action': proposal.action_id,
      'data-subscription': proposal.subscription_id,
      'data-state': proposal.state,
    },
    el(
      'td',
      { className: 'finding' },
      badge(proposal.finding.level, proposal.finding.label),
      el('div', { className: 'muted', text: proposal.detail }),
    ),
    el('td', { className: 'mono', text: proposal.subscription_id }),
    el(
      'td',
      {},
      tenant,
      proposal.tenant_status
        ? el('div', { className: 'muted', text: humanize(proposal.tenant_status) })
        : null,
    ),
    el('td', { text: tiers }),
    el('td', { text: proposal.action_label }),
    el('td', {}, badge(proposal.badge.level, proposal.badge.label)),
    decisionCell(proposal),
  );
}

function decisionCell(proposal: Proposal): HTMLTableCellElement {
  const cell = el('td', { className: 'decide' });
  const decision = proposal.decision;
  if (decision) {
    cell.append(
      el(
        'div',
        {},
        'by ' + decision.operator + ', ',
        timeNode(decision.decided_at, formatTime(decision.decided_at)),
      ),
      el('div', { className: 'muted', text: decision.reason }),
    );
    if (decision.tenant_event) {
      cell.append(
        el(
          'div',
          {},
          el('a', {
            href: '#/tenants/' + encodeURIComponent(decision.tenant_event.tenant_id),
            text: decision.tenant_event.type + ' on ' + decision.tenant_event.tenant_id,
          }),
        ),
      );
    }
    return cell;
  }
  if (readOnly() || proposal.decisions.length === 0) {
    cell.append(el('span', { className: 'muted', text: 'Awaiting an operator' }));
    return cell;
  }
  for (const choice of proposal.decisions) {
    const button = el('button', {
      type: 'button',
      className: choice === 'accept' ? 'primary' : 'secondary',
      text: choice === 'accept' ? 'Accept\u2026' : 'Dismiss\u2026',
    });
    button.addEventListener('click', () => confirmDecision(proposal, choice, button));
    cell.append(button);
  }
  return cell;
}

function confirmDecision(proposal: Proposal, choice: ProposalDecision, button: HTMLElement): void {
  const finding = proposal.finding.label + ' for subscription ' + proposal.subscription_id;
  const recorded = ' Your name and reason are recorded in the reconciliation stream.';
  const path =
    '/api/v1/reconciliations/' +
    encodeURIComponent(proposal.reconciliation_id) +
    '/actions/' +
    encodeURIComponent(proposal.action_id) +
    '/' +
    choice;
  openReasonDialog({
    title: (choice === 'accept' ? 'Accept: ' : 'Dismiss: ') + finding,
    context:
      proposal.detail +
      '. ' +
      (choice === 'accept'
        ? 'Accepting: ' + proposal.action_label + '.'
        : 'Dismissing records the decision; nothing else changes.') +
      recorded,
    submitLabel: choice === 'accept' ? 'Accept proposal' : 'Dismiss proposal',
    returnFocus: button,
    done: (choice === 'accept' ? 'Accepted: ' : 'Dismissed: ') + finding + '.',
    plan:
      choice === 'accept' && proposal.plan
        ? { tenantId: proposal.plan.tenant_id, query: proposal.plan.query }
        : undefined,
    send: async (reason, key) => {
      const answer = await postJson(path, { reason: reason }, key);
      // The list is drawn anew, the button with it: the keyboard goes on from the run's heading.
      void loadRuns().then(() => focusHeading('rc-run-' + proposal.reconciliation_id));
      return answer;
    },
  });
}
