/**
 * The console's browser module (vanilla JavaScript, served as `/console/app.js`). Rules it keeps: data is only
 * ever rendered through `textContent` and attributes (never `innerHTML`); the token lives in sessionStorage and
 * travels as a bearer header (the live stream is read with fetch, since EventSource cannot send headers).
 * Kept free of backticks and dollar-brace sequences so it can sit in this raw template literal unchanged.
 */
export const CONSOLE_SCRIPT = String.raw`
'use strict';

const TOKEN_KEY = 'console.token';
const STATE_GLYPH = { succeeded: '\u2713', running: '\u25CF', failed: '\u2715', timed_out: '\u231B', parked: '\u23F8', pending: '\u25CB' };
const STATE_LEVEL = { succeeded: 'ok', running: 'progress', failed: 'critical', timed_out: 'critical', parked: 'warning', pending: 'neutral' };
const TENANT_LEVEL = { requested: 'progress', provisioning: 'progress', rolling_back: 'critical', active: 'ok', failed: 'critical', deprovisioning: 'neutral', purged: 'neutral', suspended: 'neutral' };
const ROLLBACK_TYPES = new Set(['RollbackStarted', 'TenantProvisioningFailed', 'CompensationParked']);
const OPERATOR_TYPES = new Set(['OperatorRetryRequested', 'CancellationRequested', 'SuspensionRequested', 'ResumptionRequested', 'TierChangeRequested']);

const $ = (id) => document.getElementById(id);
const session = { token: sessionStorage.getItem(TOKEN_KEY), principal: null };
let stopCurrent = () => {};
let listTimer = 0;

// ---- small DOM helpers (text only) --------------------------------------------------------------------------

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'className') node.className = value;
    else if (key === 'text') node.textContent = String(value);
    else node.setAttribute(key, String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
  return node;
}

function humanize(value) {
  return String(value).replace(/_/g, ' ');
}

function badge(level, label, glyph) {
  const node = el('span', { className: 'badge level-' + level });
  if (glyph) node.append(el('span', { className: 'glyph', 'aria-hidden': 'true', text: glyph }));
  node.append(el('span', { text: label }));
  return node;
}

function setBadge(node, level, label) {
  node.className = 'badge level-' + level;
  node.textContent = label;
}

function stateBadge(state) {
  return badge(TENANT_LEVEL[state] || 'neutral', humanize(state));
}

function stepBadge(state) {
  return badge(STATE_LEVEL[state] || 'neutral', humanize(state), STATE_GLYPH[state]);
}

function formatDuration(ms) {
  if (ms === null || ms === undefined) return '';
  if (ms < 1000) return Math.round(ms) + ' ms';
  if (ms < 60000) return (ms / 1000).toFixed(1) + ' s';
  const minutes = Math.floor(ms / 60000);
  const seconds = Math.round((ms % 60000) / 1000);
  return minutes + ' min ' + String(seconds).padStart(2, '0') + ' s';
}

function formatAge(iso) {
  const ms = Date.now() - Date.parse(iso);
  if (!Number.isFinite(ms)) return '';
  const minutes = Math.floor(ms / 60000);
  if (minutes < 1) return 'under a minute';
  if (minutes < 60) return minutes + ' min';
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return hours + ' h';
  return Math.floor(hours / 24) + ' days';
}

function timeNode(iso, text) {
  return el('time', { datetime: iso, title: iso, text: text });
}

function formatTime(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? String(iso) : date.toLocaleString(undefined, { hour12: false }) + '.' + String(date.getMilliseconds()).padStart(3, '0');
}

function announce(message) {
  const live = $('live');
  live.textContent = '';
  // A fresh text node makes screen readers announce a repeated message too.
  window.setTimeout(() => { live.textContent = message; }, 50);
}

// ---- API ------------------------------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || ('HTTP ' + status));
    this.status = status;
    this.body = body;
  }
}

async function api(path, options) {
  const init = Object.assign({ cache: 'no-store' }, options || {});
  init.headers = Object.assign({ accept: 'application/json', authorization: 'Bearer ' + session.token }, init.headers || {});
  const response = await fetch(path, init);
  const text = await response.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch (e) { body = null; }
  if (response.status === 401) {
    signOut('Your token was not accepted. Sign in again.');
    throw new ApiError(401, body);
  }
  if (!response.ok) throw new ApiError(response.status, body);
  return body;
}

function tenantPath(id, suffix) {
  return '/api/v1/tenants/' + encodeURIComponent(id) + (suffix || '');
}

/** Server-sent events over fetch: frames are parsed by hand from the response body. */
function openStream(tenantId, handlers) {
  const controller = new AbortController();
  let lastRevision = -1;
  const run = async () => {
    while (!controller.signal.aborted) {
      try {
        const response = await fetch(tenantPath(tenantId, '/stream?from=' + (lastRevision + 1)), {
          headers: { accept: 'text/event-stream', authorization: 'Bearer ' + session.token },
          cache: 'no-store',
          signal: controller.signal,
        });
        if (response.status === 401) { signOut('Your token was not accepted. Sign in again.'); return; }
        if (response.status === 404) { handlers.onMissing(); return; }
        if (!response.ok || !response.body) throw new Error('HTTP ' + response.status);
        handlers.onState(true);
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          const chunk = await reader.read();
          if (chunk.done) break;
          buffer += chunk.value.replace(/\r\n?/g, '\n');
          let end = buffer.indexOf('\n\n');
          while (end >= 0) {
            const frame = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const parsed = parseFrame(frame);
            if (parsed) {
              if (parsed.event === 'event') lastRevision = Math.max(lastRevision, parsed.data.revision);
              handlers.onFrame(parsed.event, parsed.data);
            }
            end = buffer.indexOf('\n\n');
          }
        }
      } catch (error) {
        if (controller.signal.aborted) return;
      }
      handlers.onState(false);
      await new Promise((resolve) => window.setTimeout(resolve, 2000));
    }
  };
  run();
  return () => controller.abort();
}

function parseFrame(frame) {
  let event = 'message';
  const data = [];
  for (const line of frame.split('\n')) {
    if (line === '' || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  }
  if (data.length === 0) return null;
  try { return { event: event, data: JSON.parse(data.join('\n')) }; } catch (e) { return null; }
}

// ---- session --------------------------------------------------------------------------------------------------

function signOut(message) {
  sessionStorage.removeItem(TOKEN_KEY);
  session.token = null;
  session.principal = null;
  stopCurrent();
  $('login-error').textContent = message || '';
  route();
}

async function signIn(token) {
  session.token = token;
  try {
    session.principal = await api('/api/v1/console/session');
    sessionStorage.setItem(TOKEN_KEY, token);
    $('login-error').textContent = '';
    return true;
  } catch (error) {
    session.token = null;
    if (error.status !== 401) $('login-error').textContent = 'Sign-in failed: ' + error.message;
    return false;
  }
}

function renderSession() {
  const signedIn = Boolean(session.principal);
  $('session').hidden = !signedIn;
  $('main-nav').hidden = !signedIn;
  if (!signedIn) return;
  const role = session.principal.role;
  $('session-who').textContent = session.principal.name + ' \u00B7 ' + (role === 'auditor' ? 'auditor (read-only)' : role);
}

// ---- routing --------------------------------------------------------------------------------------------------

function parseHash() {
  const hash = location.hash.replace(/^#/, '') || '/tenants';
  const question = hash.indexOf('?');
  const path = question < 0 ? hash : hash.slice(0, question);
  const params = new URLSearchParams(question < 0 ? '' : hash.slice(question + 1));
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  return { parts: parts, params: params };
}

function showView(id) {
  for (const view of document.querySelectorAll('.view')) view.hidden = view.id !== id;
  for (const link of document.querySelectorAll('[data-nav]')) {
    const current = (id === 'tenants-view' && link.dataset.nav === 'tenants') || (id === 'attention-view' && link.dataset.nav === 'attention');
    if (current) link.setAttribute('aria-current', 'page'); else link.removeAttribute('aria-current');
  }
}

function focusHeading(id) {
  const heading = $(id);
  if (heading) heading.focus({ preventScroll: false });
}

async function route() {
  stopCurrent();
  stopCurrent = () => {};
  window.clearInterval(listTimer);
  if (!session.principal && session.token) {
    const ok = await signIn(session.token);
    if (!ok) session.token = null;
  }
  renderSession();
  if (!session.principal) {
    showView('login-view');
    document.title = 'Sign in \u00B7 Tenant console';
    focusHeading('login-title');
    return;
  }
  const where = parseHash();
  if (where.parts[0] === 'tenants' && where.parts[1]) return showTenant(where.parts[1]);
  if (where.parts[0] === 'attention') return showAttention();
  return showTenants(where.params);
}

// ---- tenants list ---------------------------------------------------------------------------------------------

async function showTenants(params) {
  showView('tenants-view');
  document.title = 'Tenants \u00B7 Tenant console';
  $('f-q').value = params.get('q') || '';
  $('f-state').value = params.get('state') || '';
  $('f-tier').value = params.get('tier') || '';
  const offset = Number(params.get('offset') || '0') || 0;
  await loadTenants(params, offset);
  focusHeading('tenants-title');
  listTimer = window.setInterval(() => loadTenants(params, offset), 5000);
}

async function loadTenants(params, offset) {
  const query = new URLSearchParams();
  for (const key of ['q', 'state', 'tier']) if (params.get(key)) query.set(key, params.get(key));
  query.set('limit', '25');
  query.set('offset', String(offset));
  let page;
  try {
    page = await api('/api/v1/console/tenants?' + query.toString());
  } catch (error) {
    if (error.status !== 401) $('tenants-summary').textContent = 'Could not load tenants: ' + error.message;
    return;
  }
  const focusedTenant = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.tenant : undefined;
  const body = clear($('tenants-table').tBodies[0]);
  for (const item of page.items) {
    const link = el('a', { href: '#/tenants/' + encodeURIComponent(item.tenant_id), 'data-tenant': item.tenant_id, className: 'mono', text: item.tenant_id });
    body.append(el('tr', {},
      el('td', {}, link),
      el('td', { text: item.company_name }),
      el('td', {}, stateBadge(item.state)),
      el('td', {}, badge(item.health.level, item.health.label)),
      el('td', { text: item.tier }),
      el('td', { className: 'mono', text: item.current_step || '\u2014' }),
      el('td', {}, timeNode(item.created_at, formatAge(item.created_at))),
    ));
    if (focusedTenant === item.tenant_id) link.focus();
  }
  if (page.items.length === 0) body.append(el('tr', {}, el('td', { colspan: '7', text: 'No tenant matches.' })));
  const first = page.total === 0 ? 0 : offset + 1;
  $('tenants-summary').textContent = 'Showing ' + first + '\u2013' + (offset + page.items.length) + ' of ' + page.total + ' tenants (refreshed every 5 s).';
  const prev = $('prev-page');
  const next = $('next-page');
  prev.disabled = offset === 0;
  next.disabled = offset + page.items.length >= page.total;
  prev.onclick = () => navigateList(params, Math.max(0, offset - page.limit));
  next.onclick = () => navigateList(params, offset + page.limit);
}

function navigateList(params, offset) {
  const query = new URLSearchParams(params);
  if (offset > 0) query.set('offset', String(offset)); else query.delete('offset');
  location.hash = '#/tenants' + (query.toString() ? '?' + query.toString() : '');
}

// ---- tenant detail --------------------------------------------------------------------------------------------

function eventKind(event) {
  if (ROLLBACK_TYPES.has(event.type)) return 'rollback';
  const step = event.data && typeof event.data.step === 'string' ? event.data.step : '';
  if (step.startsWith('compensate:')) return 'rollback';
  if (OPERATOR_TYPES.has(event.type) || (event.actor || '').startsWith('operator:')) return 'operator';
  if (/(Failed|TimedOut|Parked|Blocked)$/.test(event.type)) return 'failure';
  if (event.type === 'TenantActivated') return 'success';
  return 'event';
}

function timelineItem(event) {
  const kind = eventKind(event);
  const head = el('div', { className: 'event-head' },
    el('span', { className: 'rev', text: '#' + event.revision }),
    timeNode(event.occurred_at, formatTime(event.occurred_at)),
    el('strong', { className: 'type', text: event.type }),
    kind === 'rollback' || kind === 'failure' || kind === 'operator' ? el('span', { className: 'tag kind-' + kind, text: kind }) : null,
    event.data && typeof event.data.step === 'string' ? el('span', { className: 'mono', text: event.data.step }) : null,
    event.actor ? el('span', { className: 'muted', text: 'by ' + event.actor }) : null,
  );
  const details = el('details', {},
    el('summary', { text: 'Payload and metadata' }),
    el('pre', { text: JSON.stringify({ data: event.data, event_id: event.event_id, correlation_id: event.correlation_id, causation_id: event.causation_id, command_id: event.command_id }, null, 2) }),
  );
  return el('li', { className: 'kind-' + kind, 'data-revision': event.revision, 'data-type': event.type }, head, details);
}

function renderFacts(tenant) {
  const facts = clear($('t-facts'));
  const add = (label, value, mono) => {
    if (value === null || value === undefined || value === '') return;
    facts.append(el('div', {}, el('dt', { text: label }), el('dd', { className: mono ? 'mono' : null, text: value })));
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
  add('Revision', String(tenant.revision));
}

function renderDag(nodes) {
  const container = clear($('t-dag'));
  const columns = [];
  const byStep = new Map();
  for (const node of nodes) {
    if (!columns[node.column]) columns[node.column] = el('ol', { className: 'dag-column', 'aria-label': 'Stage ' + (node.column + 1) });
    const meta = [];
    if (node.duration_ms !== null) meta.push(formatDuration(node.duration_ms));
    if (node.attempt && node.attempt > 1) meta.push('attempt ' + node.attempt);
    const item = el('li', { className: 'dag-node state-' + node.state, 'data-step': node.step, 'data-state': node.state },
      el('span', { className: 'name mono', text: node.step }),
      stepBadge(node.state),
      meta.length ? el('span', { className: 'meta', text: meta.join(' \u00B7 ') }) : null,
      node.error ? el('span', { className: 'meta', text: node.error.code + ': ' + node.error.message }) : null,
      node.drawn_after.length ? el('span', { className: 'meta', text: 'after ' + node.drawn_after.join(', ') }) : null,
    );
    byStep.set(node.step, { item: item, node: node });
    columns[node.column].append(item);
  }
  for (const column of columns) if (column) container.append(column);
  drawEdges(container, byStep);
}

function drawEdges(container, byStep) {
  const NS = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(NS, 'svg');
  svg.setAttribute('class', 'edges');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('width', String(container.scrollWidth));
  svg.setAttribute('height', String(container.scrollHeight));
  const origin = container.getBoundingClientRect();
  for (const { item, node } of byStep.values()) {
    for (const dep of node.drawn_after) {
      const from = byStep.get(dep);
      if (!from) continue;
      const a = from.item.getBoundingClientRect();
      const b = item.getBoundingClientRect();
      const x1 = a.right - origin.left + container.scrollLeft;
      const y1 = a.top + a.height / 2 - origin.top;
      const x2 = b.left - origin.left + container.scrollLeft;
      const y2 = b.top + b.height / 2 - origin.top;
      const mid = (x1 + x2) / 2;
      const path = document.createElementNS(NS, 'path');
      path.setAttribute('d', 'M' + x1 + ',' + y1 + ' C' + mid + ',' + y1 + ' ' + mid + ',' + y2 + ' ' + x2 + ',' + y2);
      if (from.node.state === 'succeeded') path.setAttribute('class', 'done');
      svg.append(path);
    }
  }
  container.prepend(svg);
}

function renderOther(steps) {
  $('t-other-section').hidden = steps.length === 0;
  const body = clear($('t-other').tBodies[0]);
  for (const step of steps) {
    body.append(el('tr', { 'data-step': step.step },
      el('td', { className: 'mono', text: step.step }),
      el('td', { text: step.kind }),
      el('td', {}, stepBadge(step.state)),
      el('td', { text: String(step.attempt) }),
      el('td', { text: formatDuration(step.duration_ms) }),
      el('td', { text: step.error ? step.error.code + ': ' + step.error.message : '' }),
    ));
  }
}

function renderParked(tenantId, parked) {
  $('t-parked-section').hidden = parked.length === 0;
  const list = clear($('t-parked'));
  for (const work of parked) {
    const button = el('button', { type: 'button', className: 'primary', text: 'Retry ' + work.step + '\u2026' });
    button.addEventListener('click', () => openRetry(tenantId, work.step, button));
    list.append(el('li', { 'data-step': work.step },
      el('span', {},
        el('strong', { className: 'mono', text: work.step }),
        ' parked after attempt ' + work.attempt,
        work.error ? ' \u2014 ' + work.error.code + ': ' + work.error.message : ''),
      button));
  }
}

async function refreshAudit(tenantId) {
  const target = $('t-audit');
  target.className = 'audit-result';
  target.textContent = 'Verifying\u2026';
  try {
    const audit = await api(tenantPath(tenantId, '/audit'));
    if (audit.ok && audit.covered_up_to < 0) {
      target.className = 'audit-result';
      target.textContent = 'Not hashed yet: the audit projector has not covered this tenant’s ' + audit.uncovered_events + ' event(s) so far.';
    } else if (audit.ok) {
      target.className = 'audit-result ok';
      target.textContent = '\u2713 Chain intact: ' + audit.checked_events + ' events verified (revisions 0\u2013' + audit.covered_up_to + ')' +
        (audit.uncovered_events > 0 ? '; ' + audit.uncovered_events + ' newer events not yet hashed by the audit projector.' : '.');
    } else {
      const m = audit.first_mismatch;
      target.className = 'audit-result bad';
      target.textContent = '\u2715 Chain broken at revision ' + m.revision + ' (' + (m.type || 'unknown event') + '): ' + m.reason +
        (m.detail ? ' \u2014 ' + m.detail : '') + '. ' + audit.checked_events + ' events verified before it.';
    }
  } catch (error) {
    if (error.status !== 401) target.textContent = 'Verification failed: ' + error.message;
  }
}

function showTenant(tenantId) {
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
  const seen = new Set();
  let view = null;
  let initial = true;
  let lastState = null;
  const live = $('t-live');
  const cancelButton = $('t-cancel');
  cancelButton.onclick = () => openCancel(tenantId, cancelButton);
  const purgeButton = $('t-purge');
  purgeButton.onclick = () => openPurge(tenantId, purgeButton);
  $('t-verify').onclick = () => refreshAudit(tenantId);
  refreshAudit(tenantId);
  const onResize = () => { if (view) renderDag(view.dag); };
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
        if (seen.has(data.revision)) return;
        seen.add(data.revision);
        $('t-timeline').append(timelineItem(data));
        $('t-timeline-count').textContent = seen.size + ' events, oldest first. Expand an entry to see its payload (secrets are never stored in events).';
        if (!initial && data.type === 'RollbackStarted') {
          announce('Rollback started for ' + tenantId + ': step ' + (data.data.failedStep || '') + ' failed.');
        }
      } else if (type === 'tenant') {
        view = data;
        renderTenant(tenantId, data);
        if (lastState !== null && lastState !== data.tenant.state) {
          announce('Tenant ' + tenantId + ' is now ' + humanize(data.tenant.state) + '.');
          refreshAudit(tenantId);
        }
        lastState = data.tenant.state;
        initial = false;
      } else if (type === 'stream-error') {
        live.className = 'live-indicator';
        live.textContent = 'Event store unavailable, retrying\u2026';
      }
    },
  });
  stopCurrent = () => { stop(); window.removeEventListener('resize', onResize); };
}

function renderTenant(tenantId, view) {
  const tenant = view.tenant;
  $('tenant-title').textContent = tenant.company_name + ' (' + tenant.tenant_id + ')';
  setBadge($('t-state'), TENANT_LEVEL[tenant.state] || 'neutral', 'State: ' + humanize(tenant.state));
  $('t-state').dataset.state = tenant.state;
  setBadge($('t-health'), view.health.level, 'Health: ' + view.health.label);
  renderFacts(tenant);
  $('t-grafana').href = view.links.grafana;
  $('t-store').href = view.links.store;
  $('t-store').textContent = 'Store: ' + view.links.store.replace(/^https:\/\//, '');
  const failure = $('t-failure');
  if (tenant.failure_reason) {
    failure.hidden = false;
    failure.textContent = 'Provisioning failed at step ' + tenant.failure_reason.step + ': ' + tenant.failure_reason.code + ' \u2014 ' + tenant.failure_reason.message;
  } else {
    failure.hidden = true;
  }
  renderParked(tenantId, view.parked);
  renderDag(view.dag);
  renderOther(view.other_steps);
  const cancellable = tenant.state === 'active' || tenant.state === 'suspended';
  const inGrace = tenant.state === 'deprovisioning' && !!tenant.deprovisioning && !tenant.deprovisioning.purge_started_at;
  $('t-cancel').hidden = !cancellable;
  $('t-purge').hidden = !inGrace;
  $('t-actions-hint').textContent = cancellable
    ? 'Cancelling starts the grace period now; the tenant is backed up and deleted at its end.'
    : inGrace
      ? 'In its grace period until ' + tenant.deprovisioning.deletion_date + '. Purging now still takes and verifies a final backup first, within the purge guardrails.'
      : 'No action is available in this state.';
}

// ---- parked and failed work -----------------------------------------------------------------------------------

async function showAttention() {
  showView('attention-view');
  document.title = 'Parked & failed work \u00B7 Tenant console';
  await loadAttention();
  focusHeading('attention-title');
  listTimer = window.setInterval(loadAttention, 5000);
}

async function loadAttention() {
  let page;
  try {
    page = await api('/api/v1/console/attention');
  } catch (error) {
    if (error.status !== 401) $('attention-summary').textContent = 'Could not load: ' + error.message;
    return;
  }
  const body = clear($('attention-table').tBodies[0]);
  let rows = 0;
  for (const item of page.items) {
    const tenantCell = () => el('td', {}, el('a', { href: '#/tenants/' + encodeURIComponent(item.tenant_id), className: 'mono', text: item.tenant_id }), el('div', { className: 'muted', text: item.company_name }));
    if (item.failure_reason && (item.state === 'failed' || item.state === 'rolling_back')) {
      rows++;
      body.append(el('tr', { 'data-tenant': item.tenant_id },
        tenantCell(),
        el('td', {}, stateBadge(item.state)),
        el('td', { text: 'Step ' + item.failure_reason.step + ' failed: ' + item.failure_reason.code + ' \u2014 ' + item.failure_reason.message }),
        el('td', {}, timeNode(item.updated_at, formatAge(item.updated_at) + ' ago')),
        el('td', { className: 'muted', text: item.state === 'failed' ? 'Rolled back: see its timeline' : 'Rolling back' }),
      ));
    }
    for (const work of item.parked) {
      rows++;
      const button = el('button', { type: 'button', className: 'primary', text: 'Retry\u2026' });
      button.addEventListener('click', () => openRetry(item.tenant_id, work.step, button));
      body.append(el('tr', { 'data-tenant': item.tenant_id, 'data-step': work.step },
        tenantCell(),
        el('td', {}, stateBadge(item.state)),
        el('td', {}, el('span', { className: 'mono', text: work.step }), ' parked' + (work.error ? ': ' + work.error.code + ' \u2014 ' + work.error.message : '')),
        el('td', {}, work.parked_at ? timeNode(work.parked_at, formatAge(work.parked_at) + ' ago') : ''),
        el('td', {}, button),
      ));
    }
  }
  if (rows === 0) body.append(el('tr', {}, el('td', { colspan: '5', text: 'Nothing waits for an operator.' })));
  $('attention-summary').textContent = rows + ' item(s) need attention (' + page.scanned + ' of ' + page.total + ' tenants scanned, refreshed every 5 s).';
}

// ---- actions (reason dialog) ----------------------------------------------------------------------------------

function refusalMessage(error) {
  if (error.status === 403) return 'Refused: your role (' + (session.principal ? session.principal.role : 'unknown') + ') is read-only. Only operators may do this.';
  if (error.status === 409) return 'Not possible now: ' + error.message;
  if (error.status === 400 && error.body && error.body.violations) {
    return error.body.violations.map((v) => v.messages.join(' ')).join(' ');
  }
  return 'The request failed: ' + error.message;
}

function openReasonDialog(options) {
  const dialog = $('reason-dialog');
  const form = $('reason-form');
  const reason = $('reason');
  const errorNode = $('reason-error');
  const submit = $('reason-submit');
  $('reason-title').textContent = options.title;
  $('reason-context').textContent = options.context;
  submit.textContent = options.submitLabel;
  reason.value = '';
  errorNode.textContent = '';
  // One key per opened dialog: a double submit or a network retry appends the action once.
  const idempotencyKey = crypto.randomUUID();
  const close = () => {
    dialog.close();
    if (options.returnFocus && options.returnFocus.isConnected) options.returnFocus.focus();
  };
  $('reason-cancel').onclick = close;
  form.onsubmit = async (submitEvent) => {
    submitEvent.preventDefault();
    const text = reason.value.trim();
    if (!text) {
      errorNode.textContent = 'A reason is required.';
      reason.focus();
      return;
    }
    submit.disabled = true;
    try {
      await options.send(text, idempotencyKey);
      close();
      announce(options.done);
    } catch (error) {
      if (error.status !== 401) errorNode.textContent = refusalMessage(error);
    } finally {
      submit.disabled = false;
    }
  };
  dialog.showModal();
  reason.focus();
}

function postJson(path, body, idempotencyKey) {
  return api(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': idempotencyKey },
    body: JSON.stringify(body),
  });
}

function openRetry(tenantId, step, returnFocus) {
  openReasonDialog({
    title: 'Retry ' + step,
    context: 'Tenant ' + tenantId + ': the orchestrator re-issues the parked step. Your name and reason are recorded in the tenant stream.',
    submitLabel: 'Retry step',
    returnFocus: returnFocus,
    done: 'Retry of ' + step + ' requested for ' + tenantId + '.',
    send: (reason, key) => postJson(tenantPath(tenantId, '/retry'), { step: step, reason: reason }, key),
  });
}

function openCancel(tenantId, returnFocus) {
  openReasonDialog({
    title: 'Cancel ' + tenantId,
    context: 'The grace period starts now; a final backup is taken and every resource is deleted at its end.',
    submitLabel: 'Cancel tenant',
    returnFocus: returnFocus,
    done: 'Cancellation of ' + tenantId + ' requested.',
    send: (reason, key) => postJson(tenantPath(tenantId, '/cancel'), { reason: reason }, key),
  });
}

function openPurge(tenantId, returnFocus) {
  openReasonDialog({
    title: 'Purge ' + tenantId + ' now',
    context: 'Ends the grace period early: a final backup is taken and verified, then every resource is deleted. The purge guardrails still apply.',
    submitLabel: 'Purge now',
    returnFocus: returnFocus,
    done: 'Purge of ' + tenantId + ' requested.',
    send: (reason, key) => postJson(tenantPath(tenantId, '/purge'), { reason: reason }, key),
  });
}

// ---- start ----------------------------------------------------------------------------------------------------

$('login-form').addEventListener('submit', async (submitEvent) => {
  submitEvent.preventDefault();
  const input = $('token');
  const token = input.value.trim();
  if (!token) {
    $('login-error').textContent = 'Enter a token.';
    input.focus();
    return;
  }
  $('login-error').textContent = '';
  const ok = await signIn(token);
  input.value = '';
  if (!ok) {
    if (!$('login-error').textContent) $('login-error').textContent = 'This token was not accepted.';
    input.focus();
    return;
  }
  if (!location.hash || location.hash === '#/login') location.hash = '#/tenants';
  else route();
});

$('filters').addEventListener('submit', (submitEvent) => {
  submitEvent.preventDefault();
  const query = new URLSearchParams();
  for (const id of ['f-q', 'f-state', 'f-tier']) {
    const field = $(id);
    if (field.value.trim()) query.set(field.name, field.value.trim());
  }
  const target = '#/tenants' + (query.toString() ? '?' + query.toString() : '');
  if (location.hash === target) route(); else location.hash = target;
});

$('logout').addEventListener('click', () => signOut(''));
window.addEventListener('hashchange', route);
route();
`;
