/**
 * The rollout pages: every rollout with its state and progress, and one rollout's waves with each tenant's
 * progress, refreshed while shown; pause, resume and abort ask for a reason and confirmation, then call the
 * rollouts API. Labels, levels and the actions offered come from the server (`../rollout-console-views.ts`).
 */
import { api, messageOf, postJson, session, statusOf } from './api.js';
import { currentView } from './current-view.js';
import { openReasonDialog } from './dialogs.js';
import {
  $,
  badge,
  clear,
  el,
  focusHeading,
  formatAge,
  formatTime,
  setBadge,
  showView,
  timeNode,
} from './dom.js';
import type { Level } from './types.js';

type RolloutAction = 'pause' | 'resume' | 'abort';

interface ConsoleBadge {
  level: Level;
  label: string;
}

interface RolloutItem {
  rollout_id: string;
  image_tag: string;
  status: string;
  badge: ConsoleBadge;
  requested_by: string;
  reason: string;
  started_at: string;
  completed_at: string | null;
  wave: { current: number | null; total: number; label: string };
  progress: {
    pending: number;
    in_progress: number;
    succeeded: number;
    skipped: number;
    failed: number;
    total: number;
    done: number;
    percent: number;
  };
  halt: { wave: number; tenant_id: string; code: string; message: string; halted_at: string } | null;
  actions: RolloutAction[];
}

interface RolloutDetail extends RolloutItem {
  selection: string;
  canary_size: number;
  batch_size: number;
  decisions: { action: string; by: string; reason: string; at: string }[];
  waves: {
    wave: number;
    label: string;
    status: string;
    badge: ConsoleBadge;
    tenants: {
      tenant_id: string;
      status: string;
      badge: ConsoleBadge;
      attempt: number;
      detail: string;
      started_at: string | null;
      finished_at: string | null;
    }[];
  }[];
}

const REFRESH_MS = 3000;

function rolloutPath(rolloutId: string, suffix?: string): string {
  return '/api/v1/rollouts/' + encodeURIComponent(rolloutId) + (suffix || '');
}

function progressText(p: RolloutItem['progress']): string {
  return (
    p.done +
    ' of ' +
    p.total +
    ' done: ' +
    p.succeeded +
    ' succeeded, ' +
    p.skipped +
    ' skipped, ' +
    p.in_progress +
    ' in progress, ' +
    p.failed +
    ' failed, ' +
    p.pending +
    ' pending.'
  );
}

function progressCell(p: RolloutItem['progress']): HTMLElement {
  return el(
    'span',
    { className: 'rollout-progress' },
    el('progress', { max: 100, value: p.percent, 'aria-label': progressText(p) }),
    p.done + '/' + p.total + (p.failed > 0 ? ', ' + p.failed + ' failed' : ''),
  );
}

export async function showRollouts(): Promise<void> {
  showView('rollouts-view');
  document.title = 'Fleet rollouts \u00B7 Tenant console';
  await loadRollouts();
  focusHeading('rollouts-title');
  currentView.listTimer = window.setInterval(() => void loadRollouts(), 5000);
}

async function loadRollouts(): Promise<void> {
  let page: { items: RolloutItem[] };
  try {
    page = await api<{ items: RolloutItem[] }>('/api/v1/console/rollouts');
  } catch (error) {
    if (statusOf(error) !== 401)
      $('rollouts-summary').textContent = 'Could not load rollouts: ' + messageOf(error);
    return;
  }
  const body = clear($<HTMLTableElement>('rollouts-table').tBodies[0]);
  for (const item of page.items) {
    body.append(
      el(
        'tr',
        { 'data-rollout': item.rollout_id },
        el(
          'td',
          {},
          el('a', {
            href: '#/rollouts/' + encodeURIComponent(item.rollout_id),
            className: 'mono',
            text: item.rollout_id,
          }),
          el('div', { className: 'muted', text: item.reason }),
        ),
        el('td', {}, badge(item.badge.level, item.badge.label)),
        el('td', { className: 'mono', text: item.image_tag }),
        el('td', { text: item.wave.label }),
        el('td', {}, progressCell(item.progress)),
        el('td', {}, timeNode(item.started_at, formatAge(item.started_at) + ' ago')),
      ),
    );
  }
  if (page.items.length === 0) body.append(el('tr', {}, el('td', { colspan: '6', text: 'No rollout yet.' })));
  const running = page.items.filter((item) => item.status === 'running').length;
  $('rollouts-summary').textContent =
    page.items.length + ' rollout(s), ' + running + ' running (refreshed every 5 s).';
}

export async function showRollout(rolloutId: string): Promise<void> {
  showView('rollout-view');
  document.title = 'Rollout ' + rolloutId + ' \u00B7 Tenant console';
  $('rollout-title').textContent = 'Rollout ' + rolloutId;
  $('r-error').textContent = '';
  await loadRollout(rolloutId);
  focusHeading('rollout-title');
  currentView.listTimer = window.setInterval(() => void loadRollout(rolloutId), REFRESH_MS);
}

async function loadRollout(rolloutId: string): Promise<void> {
  let rollout: RolloutDetail;
  try {
    rollout = await api<RolloutDetail>('/api/v1/console/rollouts/' + encodeURIComponent(rolloutId));
  } catch (error) {
    const status = statusOf(error);
    if (status === 401) return;
    $('r-error').textContent =
      status === 404 || status === 400
        ? 'No such rollout: ' + messageOf(error)
        : 'Could not load the rollout: ' + messageOf(error);
    return;
  }
  $('r-error').textContent = '';
  renderRollout(rollout);
}

function renderRollout(rollout: RolloutDetail): void {
  $('rollout-title').textContent = 'Rollout of ' + rollout.image_tag;
  setBadge($('r-state'), rollout.badge.level, 'State: ' + rollout.badge.label);
  $('r-state').dataset.state = rollout.status;
  const facts = clear($('r-facts'));
  const fact = (label: string, value: string | null, mono?: boolean) => {
    if (value === null || value === '') return;
    facts.append(
      el('div', {}, el('dt', { text: label }), el('dd', { className: mono ? 'mono' : '', text: value })),
    );
  };
  fact('Rollout', rollout.rollout_id, true);
  fact('Image tag', rollout.image_tag, true);
  fact('Selection', rollout.selection);
  fact('Waves', rollout.wave.label);
  fact('Canary, batch size', rollout.canary_size + ' tenant(s), then ' + rollout.batch_size + ' per batch');
  fact('Requested by', rollout.requested_by);
  fact('Reason', rollout.reason);
  fact('Started', formatTime(rollout.started_at));
  fact('Completed', rollout.completed_at && formatTime(rollout.completed_at));

  const halt = $('r-halt');
  halt.hidden = !rollout.halt;
  if (rollout.halt) {
    halt.textContent =
      'Halted at tenant ' +
      rollout.halt.tenant_id +
      ' (wave ' +
      (rollout.halt.wave + 1) +
      '): ' +
      rollout.halt.code +
      ' \u2014 ' +
      rollout.halt.message +
      '. No other tenant starts: resuming tries it again, aborting ends the rollout.';
  }
  $<HTMLProgressElement>('r-progress').value = rollout.progress.percent;
  $('r-progress-text').textContent = progressText(rollout.progress);
  renderActions(rollout);
  renderWaves(rollout);
  renderDecisions(rollout);
}

const ACTION_TEXT: Record<RolloutAction, { title: string; submit: string; done: string }> = {
  pause: { title: 'Pause the rollout of ', submit: 'Pause rollout', done: 'Rollout paused.' },
  resume: { title: 'Resume the rollout of ', submit: 'Resume rollout', done: 'Rollout resumed.' },
  abort: { title: 'Abort the rollout of ', submit: 'Abort rollout', done: 'Rollout aborted.' },
};

function actionContext(rollout: RolloutDetail, action: RolloutAction): string {
  const recorded = ' Your name and reason are recorded in the rollout stream.';
  if (action === 'pause') {
    return 'Tenants in flight finish; no other tenant starts until the rollout is resumed.' + recorded;
  }
  if (action === 'resume') {
    return (
      (rollout.halt
        ? 'Tenant ' + rollout.halt.tenant_id + ', which failed, is tried again; then the waves go on.'
        : 'The waves go on from where they paused.') + recorded
    );
  }
  return (
    'No further tenant starts, and an aborted rollout cannot be resumed. The ' +
    rollout.progress.succeeded +
    ' tenant(s) already changed keep ' +
    rollout.image_tag +
    '; tenants in flight finish.' +
    recorded
  );
}

function confirmAction(rollout: RolloutDetail, action: RolloutAction, button: HTMLElement): void {
  const text = ACTION_TEXT[action];
  openReasonDialog({
    title: text.title + rollout.image_tag,
    context: actionContext(rollout, action),
    submitLabel: text.submit,
    returnFocus: button,
    done: text.done,
    send: async (reason, key) => {
      const answer = await postJson(rolloutPath(rollout.rollout_id, '/' + action), { reason: reason }, key);
      void loadRollout(rollout.rollout_id);
      return answer;
    },
  });
}

function renderActions(rollout: RolloutDetail): void {
  const readOnly = !!session.principal && session.principal.role === 'auditor';
  const focused = document.activeElement;
  const buttons = (['pause', 'resume', 'abort'] as const).map((action) => {
    const button = $<HTMLButtonElement>('r-' + action);
    button.hidden = readOnly || !rollout.actions.includes(action);
    button.onclick = () => confirmAction(rollout, action, button);
    return button;
  });
  // The button just used may be gone (a resumed rollout offers no resume): keep the keyboard in the section.
  if (buttons.some((button) => button === focused && button.hidden)) {
    const next = buttons.find((button) => !button.hidden);
    if (next) next.focus();
    else focusHeading('r-actions-title');
  }
  $('r-actions-hint').textContent =
    rollout.actions.length === 0
      ? 'The rollout is ' + rollout.status + ': no action is available.'
      : readOnly
        ? 'Your role (auditor) is read-only: only operators may pause, resume or abort a rollout.'
        : 'Each action asks for a reason and a confirmation.';
}

function renderWaves(rollout: RolloutDetail): void {
  const waves = clear($('r-waves'));
  for (const wave of rollout.waves) {
    const titleId = 'r-wave-' + wave.wave;
    const rows = wave.tenants.map((tenant) =>
      el(
        'tr',
        { 'data-tenant': tenant.tenant_id, 'data-status': tenant.status },
        el(
          'td',
          {},
          el('a', {
            href: '#/tenants/' + encodeURIComponent(tenant.tenant_id),
            className: 'mono',
            text: tenant.tenant_id,
          }),
        ),
        el('td', {}, badge(tenant.badge.level, tenant.badge.label)),
        el('td', { className: 'detail', text: tenant.detail || '\u2014' }),
        el('td', {}, tenant.started_at ? timeNode(tenant.started_at, formatTime(tenant.started_at)) : ''),
        el('td', {}, tenant.finished_at ? timeNode(tenant.finished_at, formatTime(tenant.finished_at)) : ''),
      ),
    );
    waves.append(
      el(
        'section',
        { className: 'panel rollout-wave', 'aria-labelledby': titleId, 'data-wave': wave.wave },
        el(
          'h2',
          { id: titleId },
          wave.label + ' (wave ' + (wave.wave + 1) + ')',
          badge(wave.badge.level, wave.badge.label),
        ),
        el(
          'div',
          { className: 'table-wrap' },
          el(
            'table',
            {},
            el(
              'thead',
              {},
              el(
                'tr',
                {},
                el('th', { scope: 'col', text: 'Tenant' }),
                el('th', { scope: 'col', text: 'Progress' }),
                el('th', { scope: 'col', text: 'Detail' }),
                el('th', { scope: 'col', text: 'Started' }),
                el('th', { scope: 'col', text: 'Finished' }),
              ),
            ),
            el('tbody', {}, ...rows),
          ),
        ),
      ),
    );
  }
}

function renderDecisions(rollout: RolloutDetail): void {
  $('r-decisions-section').hidden = rollout.decisions.length === 0;
  const list = clear($('r-decisions'));
  for (const decision of rollout.decisions) {
    list.append(
      el(
        'li',
        { className: 'kind-operator' },
        el(
          'div',
          { className: 'event-head' },
          timeNode(decision.at, formatTime(decision.at)),
          el('strong', { text: decision.action }),
          el('span', { className: 'muted', text: 'by ' + decision.by }),
        ),
        decision.reason ? el('p', { text: decision.reason }) : null,
      ),
    );
  }
}
