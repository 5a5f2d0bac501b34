import { TIERS } from '@app/contracts';

/* The SLO page of the console: its view in the page, and the chart styles added to the stylesheet. */

export const SLO_NAV_ITEM = '<li><a href="#/slo" data-nav="slo">SLO</a></li>';

export const SLO_SECTION = `
  <section id="slo-view" class="view" hidden aria-labelledby="slo-title">
    <h1 id="slo-title" tabindex="-1">Provisioning SLO</h1>
    <form id="slo-filters" class="filters" aria-label="SLO period">
      <div class="field">
        <label for="slo-since">Since</label>
        <input id="slo-since" name="since" maxlength="40" placeholder="30d" aria-describedby="slo-hint">
      </div>
      <div class="field">
        <label for="slo-until">Until</label>
        <input id="slo-until" name="until" maxlength="40" placeholder="now" aria-describedby="slo-hint">
      </div>
      <div class="field">
        <label for="slo-tier">Tier</label>
        <select id="slo-tier" name="tier"><option value="">All tiers</option>${TIERS.map(
          (tier) => `<option value="${tier}">${tier}</option>`,
        ).join('')}</select>
      </div>
      <button type="submit" class="primary">Show</button>
    </form>
    <p class="hint" id="slo-hint">A date (2025-01-15), a date-time with a zone (2025-01-15T10:00:00Z) or a
      duration back from now (90m, 24h, 7d, 2w). Computed from the tenant event streams alone.</p>
    <p id="slo-error" class="error" role="alert"></p>
    <p id="slo-summary" class="muted" aria-live="polite"></p>
    <div id="slo-charts" class="slo-charts"></div>
    <section class="panel" aria-labelledby="slo-tiers-title">
      <h2 id="slo-tiers-title">Time to active and success, per tier</h2>
      <div class="table-wrap">
        <table id="slo-tiers">
          <thead><tr>
            <th scope="col">Tier</th><th scope="col">Activated</th><th scope="col">Failed</th>
            <th scope="col">Cancelled</th><th scope="col">Running</th><th scope="col">Success</th>
            <th scope="col">p50</th><th scope="col">p95</th><th scope="col">p99</th><th scope="col">Target</th>
          </tr></thead>
          <tbody></tbody>
        </table>
      </div>
    </section>
    <section class="panel" aria-labelledby="slo-steps-title">
      <h2 id="slo-steps-title">Steps against their phase budget</h2>
      <div class="table-wrap">
        <table id="slo-steps">
          <thead><tr>
            <th scope="col">Step</th><th scope="col">Phase</th><th scope="col">Runs</th>
            <th scope="col">Failed attempts</th><th scope="col">p50</th><th scope="col">p95</th>
            <th scope="col">p99</th><th scope="col">Budget</th>
          </tr></thead>
          <tbody></tbody>
        </table>
      </div>
    </section>
    <section class="panel" aria-labelledby="slo-failed-title">
      <h2 id="slo-failed-title">Failed provisionings</h2>
      <div class="table-wrap">
        <table id="slo-failed">
          <thead><tr>
            <th scope="col">Tenant</th><th scope="col">Tier</th><th scope="col">Ended</th>
            <th scope="col">Step</th><th scope="col">Code</th>
          </tr></thead>
          <tbody></tbody>
        </table>
      </div>
    </section>
  </section>
`;

/** Bars carry a text value beside them, so no colour is the only sign of a missed target. */
export const SLO_CSS = String.raw`
.slo-charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(30rem, 1fr)); gap: 1rem; }
.slo-chart { margin: 0; background: var(--panel); border: 1px solid var(--border); border-radius: 8px;
  padding: 0.8rem 1rem; }
.slo-chart figcaption { font-weight: 700; margin-bottom: 0.4rem; }
.slo-chart svg { width: 100%; height: auto; display: block; }
.slo-chart text { font-size: 11px; fill: var(--text); }
.slo-chart .slo-marker-label { fill: var(--muted); }
.slo-band { fill: var(--ok-bg); }
.slo-bar { fill: #1749b5; }
.slo-bar.slo-p50 { fill: #7ea3e6; }
.slo-bar.slo-p95 { fill: #1749b5; }
.slo-bar.slo-p99 { fill: #14213d; }
.slo-bar.slo-met { fill: #1b7f3b; }
.slo-bar.slo-missed { fill: #b3261e; }
.slo-marker { stroke: #8b1010; stroke-width: 1.5; stroke-dasharray: 4 3; }
.slo-bar[class*="slo-state-"] { fill: #4a5468; }
.slo-bar.slo-state-active { fill: #1b7f3b; }
.slo-bar.slo-state-suspended { fill: #a86b00; }
.slo-bar.slo-state-failed, .slo-bar.slo-state-rolling_back { fill: #b3261e; }
.slo-missed-text { color: var(--critical-fg); font-weight: 600; }
`;
