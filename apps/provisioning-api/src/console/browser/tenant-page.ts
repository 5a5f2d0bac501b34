/** The tenant page: facts, parked work, DAG, hash-chain check, actions and the audit timeline, kept live. */
import { api, messageOf, openStream, statusOf, tenantPath } from './api.js';
import { currentView } from './current-view.js';
import { renderDag, renderOther } from './dag.js';
import { openCancel, openPurge, openRetry } from './dialogs.js';
import { renderDrift } from './drift-section.js';
import {
  $,
  announce,
  clear,
  el,
  focusHeading,
  formatTime,
  humanize,
  setBadge,
  showView,
  TENANT_LEVEL,
  timeNode,
} from './dom.js';
import { renderReprovision } from './reprovision-section.js';
import type { AuditResult, ParkedWork, TenantDetail, TenantView, TimelineEvent } from './types.js';

const ROLLBACK_TYPES = new Set(['RollbackStarted', 'TenantProvisioningFailed', 'CompensationParked']);
const OPERATOR_TYPES = new Set([
  'OperatorRetryRequested',
  'CancellationRequested',
  'SuspensionRequested',
  'ResumptionRequested',
  'TierChangeRequested',
]);

function eventKind(event: TimelineEvent): string {
  if (ROLLBACK_TYPES.has(event.type)) return 'rollback';
  const step = event.data && typeof event.data.step === 'string' ? event.data.step : '';
  if (step.startsWith('compensate:')) return 'rollback';
  if (OPERATOR_TYPES.has(event.type) || (event.actor || '').startsWith('operator:')) return 'operator';
  if (/(Failed|TimedOut|Parked|Blocked)$/.test(event.type)) return 'failure';
  if (event.type === 'TenantActivated') return 'success';
  return 'event';
}

function timelineItem(event: TimelineEvent): HTMLLIElement {
  const kind = eventKind(event);
  const step = event.data && typeof event.data.step === 'string' ? event.data.step : null;
  const head = el(
    'div',
    { className: 'event-head' },
    el('span', { className: 'rev', text: '#' + event.revision }),
    timeNode(event.occurred_at, formatTime(event.occurred_at)),
    el('strong', { className: 'type', text: event.type }),
    kind === 'rollback' || kind === 'failure' || kind === 'operator'
      ? el('span', { className: 'tag kind-' + kind, text: kind })
      : null,
    step !== null ? el('span', { className: 'mono', text: step }) : null,
    event.actor ? el('span', { className: 'muted', text: 'by ' + event.actor }) : null,
  );
  const metadata = {
    data: event.data,
    event_id: event.event_id,
    correlation_id: event.correlation_id,
    causation_id: event.causation_id,
    command_id: event.command_id,
  };
  const details = el(
    'details',
    {},
    el('summary', { text: 'Payload and metadata' }),
    el('pre', { text: JSON.stringify(metadata, null, 2) }),
  );
  return el(
    'li',
    { className: 'kind-' + kind, 'data-revision': event.revision, 'data-type': event.type },
    head,
    details,
  );
}

function renderFacts(tenant: TenantDetail): void {
  const facts = clear($('t-facts'));
  const add = (label: string, value: string | null | undefined, mono?: boolean) => {
    if (value === null || value === undefined || value === '') return;
    facts.append(
      el('div', {}, el('dt', { text: label }), el('dd', { className: mono ? 'mono' : null, text: value })),
    );
  };
  add('Tenant id', tenant.tenant_id, true);
  add('Tier', tenant.tier);
  add('Region', tenant.region);
  add('Domain', tenant.domain, true);
  add('Subscription', tenant.subscription_id, true);
  add('Current step', tenant.current_step, true);
  add('Created', formatTime(tenant.created_at));
  add('Activated', tenant.activated_at ? formatTime(tenant.activated_at) : null);
  if (tenant.deprovisioning) add('Deletion date', formatTime(tenant.deprovisioning.deletion_date));
  if (tenant.run && tenant.run > 1) add('Provisioning run', String(tenant.run));
  add('Revision', String(tenant.revision));
}

function renderParked(tenantId: string, parked: ParkedWork[]): void {
  $('t-parked-section').hidden = parked.length === 0;
  const list = clear($('t-parked'));
  for (const work of parked) {
    const button = el('button', {
      type: 'button',
      className: 'primary',
      text: 'Retry ' + work.step + '\u2026',
    });
    button.addEventListener('click', () => openRetry(tenantId, work.step, button));
    list.append(
      el(
        'li',
        { 'data-step': work.step },
        el(
          'span',
          {},
          el('strong', { className: 'mono', text: work.step }),
          ' parked after attempt ' + work.attempt,
          work.error ? ' \u2014 ' + work.error.code + ': ' + work.error.message : '',
        ),
        button,
      ),
    );
  }
}

async function refreshAudit(tenantId: string): Promise<void> {
  const target = $('t-audit');
  target.className = 'audit-result';
  target.textContent = 'Verifying\u2026';
  try {
    const audit = await api<AuditResult>(tenantPath(tenantId, '/audit'));
    const m = audit.first_mismatch;
    if (audit.ok && audit.covered_up_to < 0) {
      target.className = 'audit-result';
      target.textContent =
        'Not hashed yet: the audit projector has not covered this tenant’s ' +
        audit.uncovered_events +
        ' event(s) so far.';
    } else if (audit.ok) {
      target.className = 'audit-result ok';
      target.textContent =
        '\u2713 Chain intact: ' +
        audit.checked_events +
        ' events verified (revisions 0\u2013' +
        audit.covered_up_to +
        ')' +
        (audit.uncovered_events > 0
          ? '; ' + audit.uncovered_events + ' newer events not yet hashed by the audit projector.'
          : '.');
    } else {
      if (!m) throw new Error('the chain check reported no first mismatch');
      target.className = 'audit-result bad';
      target.textContent =
        '\u2715 Chain broken at revision ' +
        m.revision +
        ' (' +
        (m.type || 'unknown event') +
        '): ' +
        m.reason +
        (m.detail ? ' \u2014 ' + m.detail : '') +
        '. ' +
        audit.checked_events +
        ' events verified before it.';
    }
  } catch (error) {
    if (statusOf(error) !== 401) target.textContent = 'Verification failed: ' + messageOf(error);
  }
}

export function showTenant(tenantId: string): void {
  showView('tenant-view');
  document.title = tenantId + ' \u00B7 Tenant console';
  $('tenant-title').textContent = tenantId;
  clear($('t-timeline'));
  clear($('t-dag'));
  $('t-failure').hidden = true;
  $('t-parked-section').hidden = true;
  $('t-other-section').hidden = true;
  $('t-timeline-count').textContent = '';
  setBadge($('t-state'), 'neutral', 'loading');
  setBadge($('t-health'), 'neutral', '\u2026');
  focusHeading('tenant-title');
  const seen = new Set<number>();
  let view: TenantView | null = null;
  let initial = true;
  let lastState: string | null = null;
  const live = $('t-live');
  const cancelButton = $('t-cancel');
  cancelButton.onclick = () => openCancel(tenantId, cancelButton);
  const purgeButton = $('t-purge');
  purgeButton.onclick = () => openPurge(tenantId, purgeButton);
  $('t-verify').onclick = () => void refreshAudit(tenantId);
  void refreshAudit(tenantId);
  const onResize = () => {
    if (view) renderDag(view.dag);
  };
  window.addEventListener('resize', onResize);

  const stop = openStream(tenantId, {
    onMissing: () => {
      live.className = 'live-indicator';
      live.textContent = '';
      $('tenant-title').textContent = 'Tenant ' + tenantId + ' not found';
    },
    onState: (up) => {
      live.className = up ? 'live-indicator on' : 'live-indicator';
      live.textContent = up ? 'Live' : 'Reconnecting\u2026';
    },
    onFrame: (type, data) => {
      if (type === 'event') {
        const event = data as TimelineEvent;
        if (seen.has(event.revision)) return;
        seen.add(event.revision);
        $('t-timeline').append(timelineItem(event));
        $('t-timeline-count').textContent =
          seen.size +
          ' events, oldest first. Expand an entry to see its payload (secrets are never stored in events).';
        if (!initial && event.type === 'RollbackStarted') {
          const failedStep = event.data && event.data.failedStep;
          announce('Rollback started for ' + tenantId + ': step ' + (failedStep || '') + ' failed.');
        }
      } else if (type === 'tenant') {
        const next = data as TenantView;
        view = next;
        renderTenant(tenantId, next);
        if (lastState !== null && lastState !== next.tenant.state) {
          announce('Tenant ' + tenantId + ' is now ' + humanize(next.tenant.state) + '.');
          void refreshAudit(tenantId);
        }
        lastState = next.tenant.state;
        initial = false;
      } else if (type === 'stream-error') {
        live.className = 'live-indicator';
        live.textContent = 'Event store unavailable, retrying\u2026';
      }
    },
  });
  currentView.stop = () => {
    stop();
    window.removeEventListener('resize', onResize);
  };
}

function renderTenant(tenantId: string, view: TenantView): void {
  const tenant = view.tenant;
  $('tenant-title').textContent = tenant.company_name + ' (' + tenant.tenant_id + ')';
  setBadge($('t-state'), TENANT_LEVEL[tenant.state] || 'neutral', 'State: ' + humanize(tenant.state));
  $('t-state').dataset.state = tenant.state;
  setBadge($('t-health'), view.health.level, 'Health: ' + view.health.label);
  renderFacts(tenant);
  $<HTMLAnchorElement>('t-grafana').href = view.links.grafana;
  $<HTMLAnchorElement>('t-store').href = view.links.store;
  $('t-store').textContent = 'Store: ' + view.links.store.replace(/^https:\/\//, '');
  const failure = $('t-failure');
  if (tenant.failure_reason) {
    failure.hidden = false;
    failure.textContent =
      'Provisioning failed at step ' +
      tenant.failure_reason.step +
      ': ' +
      tenant.failure_reason.code +
      ' \u2014 ' +
      tenant.failure_reason.message;
  } else {
    failure.hidden = true;
  }
  renderParked(tenantId, view.parked);
  renderDrift(tenantId, tenant.drift);
  renderDag(view.dag);
  renderOther(view.other_steps);
  // Which actions the lifecycle admits now is the server's answer (the same deciders as the use cases).
  const available = view.actions ? view.actions.available : [];
  const cancellable = available.includes('cancel');
  const grace = tenant.state === 'deprovisioning' ? tenant.deprovisioning : null;
  const purgeable = available.includes('purge');
  $('t-cancel').hidden = !cancellable;
  $('t-purge').hidden = !purgeable;
  $('t-actions-hint').textContent = cancellable
    ? 'Cancelling starts the grace period now; the tenant is backed up and deleted at its end.'
    : grace && purgeable
      ? 'In its grace period until ' +
        grace.deletion_date +
        '. Purging now still takes and verifies a final backup first, within the purge guardrails.'
      : grace && !grace.purge_started_at
        ? 'In its grace period until ' +
          grace.deletion_date +
          '; an early purge is already requested and waits for the purge guardrails.'
        : 'No action is available in this state.';
  renderReprovision(tenantId, view);
}
