/* The rollout pages of the console: the list and one rollout's detail in the page, and their styles. */

export const ROLLOUTS_NAV_ITEM = '<li><a href="#/rollouts" data-nav="rollouts">Rollouts</a></li>';

export const ROLLOUTS_SECTION = `
  <section id="rollouts-view" class="view" hidden aria-labelledby="rollouts-title">
    <h1 id="rollouts-title" tabindex="-1">Fleet rollouts</h1>
    <p class="muted">Image tag changes rolled out in waves: a canary, then batches. Each tenant counts once its
      workloads run the tag and it verified healthy; a failure halts the rollout.</p>
    <p id="rollouts-summary" class="muted" aria-live="polite"></p>
    <div class="table-wrap">
      <table id="rollouts-table">
        <caption class="visually-hidden">Rollouts, newest first, with state, image tag, waves and progress</caption>
        <thead><tr>
          <th scope="col">Rollout</th><th scope="col">State</th><th scope="col">Image tag</th>
          <th scope="col">Waves</th><th scope="col">Progress</th><th scope="col">Started</th>
        </tr></thead>
        <tbody></tbody>
      </table>
    </div>
  </section>

  <section id="rollout-view" class="view" hidden aria-labelledby="rollout-title">
    <p class="back"><a href="#/rollouts">&larr; All rollouts</a></p>
    <h1 id="rollout-title" tabindex="-1"></h1>
    <p class="subtitle"><span id="r-state" class="badge"></span><span class="muted">Refreshed every 3 s.</span></p>
    <p id="r-error" class="error" role="alert"></p>
    <dl class="facts" id="r-facts"></dl>
    <div id="r-halt" class="callout critical" hidden></div>
    <section class="panel" aria-labelledby="r-progress-title">
      <h2 id="r-progress-title">Progress</h2>
      <progress id="r-progress" max="100" value="0" aria-describedby="r-progress-text"></progress>
      <p id="r-progress-text"></p>
    </section>
    <section id="r-actions" class="panel" aria-labelledby="r-actions-title">
      <h2 id="r-actions-title" tabindex="-1">Actions</h2>
      <p class="muted" id="r-actions-hint"></p>
      <button type="button" id="r-pause" class="secondary" hidden>Pause&hellip;</button>
      <button type="button" id="r-resume" class="primary" hidden>Resume&hellip;</button>
      <button type="button" id="r-abort" class="danger" hidden>Abort&hellip;</button>
    </section>
    <div id="r-waves"></div>
    <section id="r-decisions-section" class="panel" hidden aria-labelledby="r-decisions-title">
      <h2 id="r-decisions-title">Operator decisions</h2>
      <ol id="r-decisions" class="timeline"></ol>
    </section>
  </section>
`;

export const ROLLOUTS_CSS = String.raw`
.rollout-progress { display: flex; align-items: center; gap: 0.5rem; white-space: nowrap; }
progress { width: 100%; max-width: 28rem; height: 0.9rem; accent-color: #1b7f3b; }
.rollout-progress progress { width: 7rem; }
.rollout-wave h2 { display: flex; gap: 0.6rem; align-items: center; flex-wrap: wrap; }
.rollout-wave td.detail { overflow-wrap: anywhere; }
#r-actions button { margin-right: 0.5rem; }
`;
