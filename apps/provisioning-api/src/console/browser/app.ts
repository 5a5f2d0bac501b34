/**
 * The console's entry module (served as `/console/app.js`, the other modules beside it): session, routing
 * between the views, and the page's own controls. Every module renders data only through `textContent` and
 * attributes, never as markup.
 */
import { api, messageOf, session, statusOf, TOKEN_KEY, whenUnauthorized } from './api.js';
import { currentView } from './current-view.js';
import { $, focusHeading, showView } from './dom.js';
import { showAttention, showTenants } from './lists.js';
import { showReconciliation } from './reconciliation-page.js';
import { showRollout, showRollouts } from './rollouts-page.js';
import { showSlo } from './slo-page.js';
import { showTenant } from './tenant-page.js';
import type { Principal } from './types.js';

function signOut(message: string): void {
  sessionStorage.removeItem(TOKEN_KEY);
  session.token = null;
  session.principal = null;
  currentView.stop();
  $('login-error').textContent = message || '';
  void route();
}

async function signIn(token: string): Promise<boolean> {
  session.token = token;
  try {
    session.principal = await api<Principal>('/api/v1/console/session');
    sessionStorage.setItem(TOKEN_KEY, token);
    $('login-error').textContent = '';
    return true;
  } catch (error) {
    session.token = null;
    if (statusOf(error) !== 401) $('login-error').textContent = 'Sign-in failed: ' + messageOf(error);
    return false;
  }
}

function renderSession(): void {
  const principal = session.principal;
  $('session').hidden = !principal;
  $('main-nav').hidden = !principal;
  if (!principal) return;
  const role = principal.role;
  $('session-who').textContent =
    principal.name + ' \u00B7 ' + (role === 'auditor' ? 'auditor (read-only)' : role);
}

function parseHash(): { parts: string[]; params: URLSearchParams } {
  const hash = location.hash.replace(/^#/, '') || '/tenants';
  const question = hash.indexOf('?');
  const path = question < 0 ? hash : hash.slice(0, question);
  const params = new URLSearchParams(question < 0 ? '' : hash.slice(question + 1));
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  return { parts: parts, params: params };
}

async function route(): Promise<void> {
  currentView.stop();
  currentView.stop = () => {};
  window.clearInterval(currentView.listTimer);
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
  if (where.parts[0] === 'slo') return showSlo(where.params);
  if (where.parts[0] === 'rollouts' && where.parts[1]) return showRollout(where.parts[1]);
  if (where.parts[0] === 'rollouts') return showRollouts();
  if (where.parts[0] === 'reconciliation') return showReconciliation();
  return showTenants(where.params);
}

whenUnauthorized(signOut);

/** Signs in with the token typed; a failure that is not a refusal (network, server) is shown, never thrown. */
async function onLogin(submitEvent: SubmitEvent): Promise<void> {
  submitEvent.preventDefault();
  const input = $<HTMLInputElement>('token');
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
  else void route();
}

$('login-form').addEventListener('submit', (submitEvent) => {
  onLogin(submitEvent).catch((error: unknown) => {
    $('login-error').textContent =
      `Sign-in failed: ${error instanceof Error ? error.message : String(error)}`;
  });
});

$('filters').addEventListener('submit', (submitEvent) => {
  submitEvent.preventDefault();
  const query = new URLSearchParams();
  for (const id of ['f-q', 'f-state', 'f-tier']) {
    const field = $<HTMLInputElement | HTMLSelectElement>(id);
    if (field.value.trim()) query.set(field.name, field.value.trim());
  }
  const target = '#/tenants' + (query.toString() ? '?' + query.toString() : '');
  if (location.hash === target) void route();
  else location.hash = target;
});

$('logout').addEventListener('click', () => signOut(''));
window.addEventListener('hashchange', () => void route());
void route();
