/* The billing reconciliation page of the console: the run form, the recorded runs with their proposals, styles. */

export const RECONCILIATION_NAV_ITEM =
  '<li><a href="#/reconciliation" data-nav="reconciliation">Reconciliation</a></li>';

export const RECONCILIATION_SECTION = `
  <section id="reconciliation-view" class="view" hidden aria-labelledby="reconciliation-title">
    <h1 id="reconciliation-title" tabindex="-1">Billing reconciliation</h1>
    <p class="muted">Billing's active subscriptions compared with the tenants: tenants holding a subscription
      billing does not list (orphans), listed subscriptions no live tenant holds (missing), and tier or tenant
      mismatches. Each finding is recorded as a proposal that an operator accepts (carried out on the tenant) or
      dismisses, with a reason recorded beside their name.</p>
    <section id="rc-run-section" class="panel" aria-labelledby="rc-run-title">
      <h2 id="rc-run-title">Start a run</h2>
      <p id="rc-run-hint" class="muted"></p>
      <form id="rc-form" novalidate>
        <div class="field">
          <label for="rc-source">URL of billing's export</label>
          <input id="rc-source" name="source" type="url" inputmode="url" spellcheck="false" maxlength="2000"
            placeholder="https://billing.internal/exports/active.json" aria-describedby="rc-source-hint">
          <p class="hint" id="rc-source-hint">JSON or CSV over http or https, fetched by the API (10 s, 10 MiB).</p>
        </div>
        <div class="field">
          <label for="rc-list">&hellip;or the list itself, pasted as JSON</label>
          <textarea id="rc-list" name="subscriptions" rows="5" spellcheck="false" aria-describedby="rc-list-hint"></textarea>
          <p class="hint" id="rc-list-hint">An array of <code>{"subscription_id": "sub_…", "tier": "premium"}</code>
            (<code>tenant_id</code> optional), or <code>{"subscriptions": [ … ]}</code>.</p>
        </div>
        <p id="rc-error" class="error" role="alert"></p>
        <button type="submit" id="rc-submit" class="primary">Compare with billing</button>
      </form>
      <p id="rc-result" aria-live="polite"></p>
    </section>
    <p id="rc-summary" class="muted" aria-live="polite"></p>
    <div id="rc-runs"></div>
  </section>
`;

export const RECONCILIATION_CSS = String.raw`
#rc-form .field { margin-bottom: 0.75rem; }
#rc-form input, #rc-form textarea { width: 100%; max-width: 48rem; }
#rc-form textarea { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 0.9em; }
.rc-run h2 { display: flex; gap: 0.6rem; align-items: center; flex-wrap: wrap; }
.rc-run td.finding { overflow-wrap: anywhere; min-width: 16rem; }
.rc-run td.finding .muted { margin-top: 0.3rem; }
.rc-run td.decide { min-width: 9rem; }
.rc-run td.decide button { display: block; margin: 0 0 0.4rem; white-space: nowrap; }
`;
