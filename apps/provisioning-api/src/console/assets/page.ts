import { TIERS } from '@app/contracts';
import { TENANT_STATUSES } from '@app/tenancy';
import { RECONCILIATION_NAV_ITEM, RECONCILIATION_SECTION } from './reconciliation-section';
import { ROLLOUTS_NAV_ITEM, ROLLOUTS_SECTION } from './rollouts-section';
import { SLO_NAV_ITEM, SLO_SECTION } from './slo-section';

/**
 * The console's single HTML page. The page and its stylesheet are TypeScript string constants, so `dist/` serves
 * them with no copy step (the scripts are compiled from `../browser/`); nothing here interpolates request data
 * (the page is the same for every visitor, data arrives through the authenticated API and is rendered with
 * `textContent`).
 */

const option = (value: string, label: string) => `<option value="${value}">${label}</option>`;
const humanize = (value: string) => value.replace(/_/g, ' ');

export function consolePage(assetVersion: string): string {
  const states = TENANT_STATUSES.map((s) => option(s, humanize(s))).join('');
  const tiers = TIERS.map((t) => option(t, t)).join('');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="data:,">
<title>Tenant console · Collect &amp; Verything</title>
<link rel="stylesheet" href="/console/app.css?v=${assetVersion}">
<script type="module" src="/console/app.js?v=${assetVersion}"></script>
</head>
<body>
<a class="skip-link" href="#main">Skip to content</a>
<header class="topbar">
  <span class="brand">Collect &amp; Verything <span class="brand-sub">tenant console</span></span>
  <nav aria-label="Main" id="main-nav" hidden>
    <ul>
      <li><a href="#/tenants" data-nav="tenants">Tenants</a></li>
      <li><a href="#/attention" data-nav="attention">Parked &amp; failed work</a></li>
      ${ROLLOUTS_NAV_ITEM}
      ${SLO_NAV_ITEM}
      ${RECONCILIATION_NAV_ITEM}
    </ul>
  </nav>
  <div class="session" id="session" hidden>
    <span id="session-who"></span>
    <button type="button" id="logout" class="secondary">Sign out</button>
  </div>
</header>
<div id="live" class="visually-hidden" role="status" aria-live="polite" aria-atomic="true"></div>
<main id="main" tabindex="-1">
  <section id="login-view" class="view narrow" hidden aria-labelledby="login-title">
    <h1 id="login-title" tabindex="-1">Sign in</h1>
    <form id="login-form" novalidate>
      <label for="token">Access token</label>
      <input id="token" name="token" type="password" autocomplete="off" spellcheck="false" required
        aria-describedby="token-hint login-error">
      <p class="hint" id="token-hint">An operator or auditor token configured on this API.
        It is kept for this browser tab only and sent as a bearer header, never in a URL.</p>
      <p id="login-error" class="error" role="alert"></p>
      <button type="submit" class="primary">Sign in</button>
    </form>
  </section>

  <section id="tenants-view" class="view" hidden aria-labelledby="tenants-title">
    <h1 id="tenants-title" tabindex="-1">Tenants</h1>
    <form id="filters" class="filters" role="search" aria-label="Filter tenants">
      <div class="field">
        <label for="f-q">Search</label>
        <input id="f-q" name="q" type="search" maxlength="100" placeholder="id, company or domain">
      </div>
      <div class="field">
        <label for="f-state">State</label>
        <select id="f-state" name="state"><option value="">Any state</option>${states}</select>
      </div>
      <div class="field">
        <label for="f-tier">Tier</label>
        <select id="f-tier" name="tier"><option value="">Any tier</option>${tiers}</select>
      </div>
      <div class="field">
        <label for="f-drift">Drift</label>
        <select id="f-drift" name="drift"><option value="">Any</option><option value="open">Open drift</option></select>
      </div>
      <button type="submit" class="primary">Apply</button>
    </form>
    <p id="tenants-summary" class="muted" aria-live="polite"></p>
    <div class="table-wrap">
      <table id="tenants-table">
        <caption class="visually-hidden">Tenants, with state, health, tier, current step and age</caption>
        <thead><tr>
          <th scope="col">Tenant</th><th scope="col">Company</th><th scope="col">State</th>
          <th scope="col">Health</th><th scope="col">Tier</th><th scope="col">Current step</th><th scope="col">Age</th>
        </tr></thead>
        <tbody></tbody>
      </table>
    </div>
    <div class="pager">
      <button type="button" id="prev-page" class="secondary">Previous page</button>
      <button type="button" id="next-page" class="secondary">Next page</button>
    </div>
  </section>

  <section id="tenant-view" class="view" hidden aria-labelledby="tenant-title">
    <p class="back"><a href="#/tenants">&larr; All tenants</a></p>
    <h1 id="tenant-title" tabindex="-1"></h1>
    <p class="subtitle">
      <span id="t-state" class="badge"></span>
      <span id="t-health" class="badge"></span>
      <span id="t-live" class="live-indicator"></span>
    </p>
    <dl class="facts" id="t-facts"></dl>
    <p class="links">
      <a id="t-grafana" rel="noreferrer" target="_blank">Grafana dashboard</a>
      <a id="t-store" rel="noreferrer" target="_blank">Store</a>
    </p>
    <div id="t-failure" class="callout critical" hidden></div>

    <section id="t-parked-section" class="panel" hidden aria-labelledby="t-parked-title">
      <h2 id="t-parked-title">Parked work</h2>
      <p class="muted">These steps failed for good and wait for an operator. A retry asks for a reason, recorded
        in the tenant's audit trail with your name.</p>
      <ul id="t-parked" class="parked-list"></ul>
    </section>

    <section id="t-drift-section" class="panel" hidden aria-labelledby="t-drift-title">
      <h2 id="t-drift-title">Drift</h2>
      <p id="t-drift-last" class="muted"></p>
      <p class="muted">Resources that no longer match what was provisioned. Safe kinds are repaired at once; the
        others wait for an operator's approval, recorded in the tenant's audit trail with your name.</p>
      <ul id="t-drift" class="parked-list"></ul>
    </section>

    <section class="panel" aria-labelledby="t-dag-title">
      <h2 id="t-dag-title">Provisioning steps</h2>
      <div id="t-dag" class="dag"></div>
    </section>

    <section id="t-other-section" class="panel" hidden aria-labelledby="t-other-title">
      <h2 id="t-other-title">Rollback and other work</h2>
      <div class="table-wrap">
        <table id="t-other">
          <thead><tr>
            <th scope="col">Step</th><th scope="col">Kind</th><th scope="col">State</th>
            <th scope="col">Attempt</th><th scope="col">Duration</th><th scope="col">Error</th>
          </tr></thead>
          <tbody></tbody>
        </table>
      </div>
    </section>

    <section class="panel" aria-labelledby="t-audit-title">
      <h2 id="t-audit-title">Hash-chain verification</h2>
      <p id="t-audit" class="audit-result">Not checked yet.</p>
      <button type="button" id="t-verify" class="secondary">Verify again</button>
    </section>

    <section id="t-actions" class="panel" aria-labelledby="t-actions-title">
      <h2 id="t-actions-title" tabindex="-1">Actions</h2>
      <p class="muted" id="t-actions-hint"></p>
      <button type="button" id="t-cancel" class="danger">Cancel tenant&hellip;</button>
      <button type="button" id="t-purge" class="danger" hidden>Purge now&hellip;</button>
      <button type="button" id="t-reprovision" class="primary" hidden>Re-provision&hellip;</button>
    </section>

    <section id="t-runs-section" class="panel" hidden aria-labelledby="t-runs-title">
      <h2 id="t-runs-title">Earlier provisioning runs</h2>
      <p class="muted">Runs that failed and were rolled back before the tenant was provisioned again; their events
        stay in the audit timeline below.</p>
      <ol id="t-runs" class="timeline"></ol>
    </section>

    <section class="panel" aria-labelledby="t-timeline-title">
      <h2 id="t-timeline-title">Audit timeline</h2>
      <p class="muted" id="t-timeline-count"></p>
      <ol id="t-timeline" class="timeline"></ol>
    </section>
  </section>

  <section id="attention-view" class="view" hidden aria-labelledby="attention-title">
    <h1 id="attention-title" tabindex="-1">Parked &amp; failed work</h1>
    <p id="attention-summary" class="muted" aria-live="polite"></p>
    <div class="table-wrap">
      <table id="attention-table">
        <caption class="visually-hidden">Tenants that need an operator</caption>
        <thead><tr>
          <th scope="col">Tenant</th><th scope="col">State</th><th scope="col">Problem</th>
          <th scope="col">Since</th><th scope="col">Action</th>
        </tr></thead>
        <tbody></tbody>
      </table>
    </div>
  </section>
${ROLLOUTS_SECTION}${SLO_SECTION}${RECONCILIATION_SECTION}</main>

<dialog id="reason-dialog" aria-labelledby="reason-title" aria-describedby="reason-context">
  <form id="reason-form" novalidate>
    <h2 id="reason-title"></h2>
    <p id="reason-context"></p>
    <div id="reason-plan" class="plan-preview" aria-live="polite" hidden></div>
    <label for="reason">Reason <span class="muted">(required, recorded in the audit trail)</span></label>
    <textarea id="reason" name="reason" rows="3" maxlength="500" required aria-describedby="reason-error"></textarea>
    <p id="reason-error" class="error" role="alert"></p>
    <div class="dialog-actions">
      <button type="button" id="reason-cancel" class="secondary">Close</button>
      <button type="submit" id="reason-submit" class="primary"></button>
    </div>
  </form>
</dialog>
</body>
</html>
`;
}
