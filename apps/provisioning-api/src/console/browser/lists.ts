/** The two list pages: tenants (filtered, paged) and the parked and failed work that waits for an operator. */
import { api, messageOf, statusOf } from './api.js';
import { currentView } from './current-view.js';
import { openRetry } from './dialogs.js';
import { $, badge, clear, el, focusHeading, formatAge, showView, stateBadge, timeNode } from './dom.js';
import type { AttentionPage, TenantPage } from './types.js';

export async function showTenants(params: URLSearchParams): Promise<void> {
  showView('tenants-view');
  document.title = 'Tenants \u00B7 Tenant console';
  $<HTMLInputElement>('f-q').value = params.get('q') || '';
  $<HTMLSelectElement>('f-state').value = params.get('state') || '';
  $<HTMLSelectElement>('f-tier').value = params.get('tier') || '';
  $<HTMLSelectElement>('f-drift').value = params.get('drift') || '';
  const offset = Number(params.get('offset') || '0') || 0;
  await loadTenants(params, offset);
  focusHeading('tenants-title');
  currentView.listTimer = window.setInterval(() => void loadTenants(params, offset), 5000);
}

async function loadTenants(params: URLSearchParams, offset: number): Promise<void> {
  const query = new URLSearchParams();
  for (const key of ['q', 'state', 'tier', 'drift']) {
    const value = params.get(key);
    if (value) query.set(key, value);
  }
  query.set('limit', '25');
  query.set('offset', String(offset));
  let page: TenantPage;
  try {
    page = await api<TenantPage>('/api/v1/console/tenants?' + query.toString());
  } catch (error) {
    if (statusOf(error) !== 401)
      $('tenants-summary').textContent = 'Could not load tenants: ' + messageOf(error);
    return;
  }
  const active = document.activeElement;
  const focusedTenant = active instanceof HTMLElement ? active.dataset.tenant : undefined;
  const body = clear($<HTMLTableElement>('tenants-table').tBodies[0]);
  for (const item of page.items) {
    const link = el('a', {
      href: '#/tenants/' + encodeURIComponent(item.tenant_id),
      'data-tenant': item.tenant_id,
      className: 'mono',
      text: item.tenant_id,
    });
    body.append(
      el(
        'tr',
        {},
        el('td', {}, link),
        el('td', { text: item.company_name }),
        el('td', {}, stateBadge(item.state)),
        el('td', {}, badge(item.health.level, item.health.label)),
        el('td', { text: item.tier }),
        el('td', { className: 'mono', text: item.current_step || '\u2014' }),
        el('td', {}, timeNode(item.created_at, formatAge(item.created_at))),
      ),
    );
    if (focusedTenant === item.tenant_id) link.focus();
  }
  if (page.items.length === 0)
    body.append(el('tr', {}, el('td', { colspan: '7', text: 'No tenant matches.' })));
  const first = page.total === 0 ? 0 : offset + 1;
  $('tenants-summary').textContent =
    'Showing ' +
    first +
    '\u2013' +
    (offset + page.items.length) +
    ' of ' +
    page.total +
    ' tenants (refreshed every 5 s).';
  const prev = $<HTMLButtonElement>('prev-page');
  const next = $<HTMLButtonElement>('next-page');
  prev.disabled = offset === 0;
  next.disabled = offset + page.items.length >= page.total;
  prev.onclick = () => navigateList(params, Math.max(0, offset - page.limit));
  next.onclick = () => navigateList(params, offset + page.limit);
}

function navigateList(params: URLSearchParams, offset: number): void {
  const query = new URLSearchParams(params);
  if (offset > 0) query.set('offset', String(offset));
  else query.delete('offset');
  location.hash = '#/tenants' + (query.toString() ? '?' + query.toString() : '');
}

export async function showAttention(): Promise<void> {
  showView('attention-view');
  document.title = 'Parked & failed work \u00B7 Tenant console';
  await loadAttention();
  focusHeading('attention-title');
  currentView.listTimer = window.setInterval(() => void loadAttention(), 5000);
}

async function loadAttention(): Promise<void> {
  let page: AttentionPage;
  try {
    page = await api<AttentionPage>('/api/v1/console/attention');
  } catch (error) {
    if (statusOf(error) !== 401) $('attention-summary').textContent = 'Could not load: ' + messageOf(error);
    return;
  }
  const body = clear($<HTMLTableElement>('attention-table').tBodies[0]);
  let rows = 0;
  for (const item of page.items) {
    const tenantCell = () =>
      el(
        'td',
        {},
        el('a', {
          href: '#/tenants/' + encodeURIComponent(item.tenant_id),
          className: 'mono',
          text: item.tenant_id,
        }),
        el('div', { className: 'muted', text: item.company_name }),
      );
    const failure = item.failure_reason;
    if (failure && (item.state === 'failed' || item.state === 'rolling_back')) {
      rows++;
      body.append(
        el(
          'tr',
          { 'data-tenant': item.tenant_id },
          tenantCell(),
          el('td', {}, stateBadge(item.state)),
          el('td', {
            text: 'Step ' + failure.step + ' failed: ' + failure.code + ' \u2014 ' + failure.message,
          }),
          el('td', {}, timeNode(item.updated_at, formatAge(item.updated_at) + ' ago')),
          el('td', {
            className: 'muted',
            text: item.state === 'failed' ? 'Rolled back: see its timeline' : 'Rolling back',
          }),
        ),
      );
    }
    for (const work of item.parked) {
      rows++;
      const button = el('button', { type: 'button', className: 'primary', text: 'Retry\u2026' });
      button.addEventListener('click', () => openRetry(item.tenant_id, work.step, button));
      body.append(
        el(
          'tr',
          { 'data-tenant': item.tenant_id, 'data-step': work.step },
          tenantCell(),
          el('td', {}, stateBadge(item.state)),
          el(
            'td',
            {},
            el('span', { className: 'mono', text: work.step }),
            ' parked' + (work.error ? ': ' + work.error.code + ' \u2014 ' + work.error.message : ''),
          ),
          el('td', {}, work.parked_at ? timeNode(work.parked_at, formatAge(work.parked_at) + ' ago') : ''),
          el('td', {}, button),
        ),
      );
    }
  }
  if (rows === 0)
    body.append(el('tr', {}, el('td', { colspan: '5', text: 'Nothing waits for an operator.' })));
  $('attention-summary').textContent =
    rows +
    ' item(s) need attention (' +
    page.scanned +
    ' of ' +
    page.total +
    ' tenants scanned, refreshed every 5 s).';
}
