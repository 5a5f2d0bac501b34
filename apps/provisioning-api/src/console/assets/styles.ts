import { RECONCILIATION_CSS } from './reconciliation-section';
import { ROLLOUTS_CSS } from './rollouts-section';
import { SLO_CSS } from './slo-section';

/**
 * The console's stylesheet. Colours meet WCAG AA contrast (4.5:1 for text) on their backgrounds, every status
 * carries a text label as well as a colour, and focus is always visible.
 */
export const CONSOLE_CSS = String.raw`
:root {
  --bg: #f6f7f9; --panel: #ffffff; --text: #1b2130; --muted: #4a5468; --border: #c9cfdb;
  --accent: #1749b5; --accent-text: #ffffff; --focus: #1749b5;
  --ok-bg: #e2f4e8; --ok-fg: #0c5428; --progress-bg: #e3ecfb; --progress-fg: #133f8f;
  --warning-bg: #fff2cc; --warning-fg: #674200; --critical-bg: #fde4e4; --critical-fg: #8b1010;
  --neutral-bg: #eceff4; --neutral-fg: #343d4d;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: var(--text); background: var(--bg); line-height: 1.45;
}
* { box-sizing: border-box; }
body { margin: 0; }
a { color: var(--accent); }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; border-radius: 2px; }
.visually-hidden { position: absolute !important; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0);
  white-space: nowrap; border: 0; padding: 0; margin: -1px; }
.skip-link { position: absolute; left: 0.5rem; top: -3rem; background: var(--panel); padding: 0.5rem 1rem;
  border: 2px solid var(--focus); z-index: 10; }
.skip-link:focus { top: 0.5rem; }
.topbar { display: flex; align-items: center; gap: 1.5rem; padding: 0.75rem 1.5rem; background: #14213d; color: #fff;
  flex-wrap: wrap; }
.topbar a { color: #fff; text-decoration: none; padding: 0.35rem 0.6rem; border-radius: 4px; }
.topbar a[aria-current="page"] { background: rgba(255, 255, 255, 0.18); text-decoration: underline;
  text-underline-offset: 4px; }
.topbar a:hover { background: rgba(255, 255, 255, 0.12); }
.topbar :focus-visible { outline-color: #ffd166; }
.brand { font-weight: 700; letter-spacing: 0.01em; }
.brand-sub { font-weight: 400; opacity: 0.85; margin-left: 0.35rem; }
nav ul { list-style: none; display: flex; gap: 0.5rem; margin: 0; padding: 0; }
.session { margin-left: auto; display: flex; align-items: center; gap: 0.75rem; }
main { padding: 1.5rem; max-width: 1280px; margin: 0 auto; }
main:focus { outline: none; }
.view.narrow { max-width: 28rem; }
h1 { font-size: 1.6rem; margin: 0.25rem 0 1rem; }
h2 { font-size: 1.15rem; margin: 0 0 0.75rem; }
h1:focus { outline: none; }
.muted, .hint { color: var(--muted); }
.hint { font-size: 0.9rem; }
.error { color: var(--critical-fg); font-weight: 600; min-height: 1.2em; margin: 0.5rem 0; }
button { font: inherit; border-radius: 6px; padding: 0.45rem 0.95rem; cursor: pointer; border: 1px solid var(--border);
  background: var(--panel); color: var(--text); }
button.primary { background: var(--accent); border-color: var(--accent); color: var(--accent-text); }
button.danger { background: var(--panel); border-color: var(--critical-fg); color: var(--critical-fg); }
button.secondary { background: var(--panel); }
.topbar button.secondary { background: transparent; color: #fff; border-color: rgba(255, 255, 255, 0.6); }
button:disabled { opacity: 0.6; cursor: not-allowed; }
input, select, textarea { font: inherit; padding: 0.45rem 0.6rem; border: 1px solid #8a94a8; border-radius: 6px;
  background: #fff; color: var(--text); }
label { display: block; font-weight: 600; margin-bottom: 0.3rem; }
#login-form input { width: 100%; }
#login-form button { margin-top: 0.5rem; }
.filters { display: flex; gap: 1rem; align-items: flex-end; flex-wrap: wrap; margin-bottom: 0.75rem; }
.table-wrap { overflow-x: auto; background: var(--panel); border: 1px solid var(--border); border-radius: 8px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 0.55rem 0.75rem; border-bottom: 1px solid #e3e7ee; vertical-align: top; }
th { font-size: 0.85rem; text-transform: uppercase; letter-spacing: 0.03em; color: var(--muted); background: #fafbfc; }
tbody tr:last-child td { border-bottom: none; }
tbody tr:hover { background: #f7f9fc; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 0.9em; }
.pager { display: flex; gap: 0.5rem; margin-top: 0.75rem; }
.badge { display: inline-flex; align-items: center; gap: 0.3rem; padding: 0.1rem 0.55rem; border-radius: 999px;
  font-size: 0.85rem; font-weight: 600; border: 1px solid currentColor; white-space: nowrap; }
.badge .glyph { font-size: 0.8em; }
.level-ok { background: var(--ok-bg); color: var(--ok-fg); }
.level-progress { background: var(--progress-bg); color: var(--progress-fg); }
.level-warning { background: var(--warning-bg); color: var(--warning-fg); }
.level-critical { background: var(--critical-bg); color: var(--critical-fg); }
.level-neutral { background: var(--neutral-bg); color: var(--neutral-fg); }
.subtitle { display: flex; gap: 0.5rem; align-items: center; flex-wrap: wrap; margin-top: -0.5rem; }
.live-indicator { font-size: 0.85rem; color: var(--muted); }
.live-indicator.on::before { content: ""; display: inline-block; width: 0.6rem; height: 0.6rem; border-radius: 50%;
  background: #1b7f3b; margin-right: 0.35rem; animation: pulse 1.6s ease-in-out infinite; }
@keyframes pulse { 50% { opacity: 0.35; } }
@media (prefers-reduced-motion: reduce) { .live-indicator.on::before { animation: none; } }
.facts { display: grid; grid-template-columns: repeat(auto-fill, minmax(13rem, 1fr)); gap: 0.5rem 1.5rem;
  background: var(--panel); border: 1px solid var(--border); border-radius: 8px; padding: 0.9rem 1.1rem; }
.facts div { min-width: 0; }
.facts dt { font-size: 0.8rem; color: var(--muted); text-transform: uppercase; letter-spacing: 0.03em; }
.facts dd { margin: 0; overflow-wrap: anywhere; }
.links { display: flex; gap: 1.25rem; }
.panel { background: var(--panel); border: 1px solid var(--border); border-radius: 8px; padding: 1rem 1.1rem;
  margin: 1rem 0; }
.callout { border-radius: 8px; padding: 0.8rem 1rem; margin: 1rem 0; border: 1px solid currentColor; }
.callout.critical { background: var(--critical-bg); color: var(--critical-fg); }
.parked-list { list-style: none; padding: 0; margin: 0; display: grid; gap: 0.6rem; }
.parked-list li { display: flex; gap: 1rem; align-items: center; justify-content: space-between; flex-wrap: wrap;
  border: 1px solid var(--warning-fg); background: var(--warning-bg); color: var(--warning-fg); border-radius: 6px;
  padding: 0.6rem 0.8rem; }
.dag { position: relative; display: grid; grid-auto-flow: column; grid-auto-columns: minmax(10.5rem, 1fr);
  gap: 2.25rem; overflow-x: auto; padding: 0.25rem 0.25rem 0.75rem; }
.dag svg.edges { position: absolute; left: 0; top: 0; pointer-events: none; overflow: visible; }
.dag svg.edges path { fill: none; stroke: #8a94a8; stroke-width: 1.5; }
.dag svg.edges path.done { stroke: #1b7f3b; }
.dag-column { list-style: none; margin: 0; padding: 0; display: flex; flex-direction: column; gap: 0.75rem;
  justify-content: center; position: relative; z-index: 1; }
.dag-node { border: 1px solid var(--border); border-left-width: 5px; border-radius: 6px; padding: 0.5rem 0.6rem;
  background: #fff; font-size: 0.9rem; }
.dag-node .name { font-weight: 700; display: block; }
.dag-node .meta { color: var(--muted); font-size: 0.8rem; display: block; }
.dag-node.state-succeeded { border-left-color: #1b7f3b; }
.dag-node.state-running { border-left-color: #1749b5; }
.dag-node.state-failed, .dag-node.state-timed_out { border-left-color: #b3261e; }
.dag-node.state-parked { border-left-color: #a86b00; }
.dag-node.state-pending { border-left-color: #c9cfdb; border-style: dashed; border-left-style: solid; }
.timeline { list-style: none; padding: 0; margin: 0; }
.timeline li { border-left: 3px solid var(--border); padding: 0.35rem 0 0.35rem 0.9rem; margin-left: 0.3rem; }
.timeline li.kind-rollback { border-left-color: #b3261e; }
.timeline li.kind-failure { border-left-color: #a86b00; }
.timeline li.kind-operator { border-left-color: #6a3fb5; }
.timeline li.kind-success { border-left-color: #1b7f3b; }
.event-head { display: flex; gap: 0.6rem; align-items: baseline; flex-wrap: wrap; }
.event-head .rev { color: var(--muted); font-size: 0.8rem; min-width: 2.5rem; }
.event-head time { color: var(--muted); font-size: 0.85rem; }
.tag { font-size: 0.75rem; font-weight: 700; text-transform: uppercase; padding: 0 0.4rem; border-radius: 4px;
  border: 1px solid currentColor; }
.tag.kind-rollback { color: var(--critical-fg); background: var(--critical-bg); }
.tag.kind-failure { color: var(--warning-fg); background: var(--warning-bg); }
.tag.kind-operator { color: #4b2887; background: #efe8fb; }
details { margin-top: 0.2rem; }
summary { cursor: pointer; color: var(--accent); font-size: 0.9rem; width: fit-content; }
details pre { background: #0f1729; color: #e6edf7; padding: 0.75rem; border-radius: 6px; overflow-x: auto;
  font-size: 0.82rem; max-height: 24rem; }
.audit-result.ok { color: var(--ok-fg); font-weight: 600; }
.audit-result.bad { color: var(--critical-fg); font-weight: 600; }
dialog { border: 1px solid var(--border); border-radius: 10px; padding: 1.25rem 1.4rem; max-width: 32rem; width: 92vw;
  color: var(--text); }
dialog::backdrop { background: rgba(15, 23, 41, 0.55); }
dialog textarea { width: 100%; resize: vertical; }
.dialog-actions { display: flex; justify-content: flex-end; gap: 0.6rem; margin-top: 0.5rem; }
.plan-preview { border-left: 3px solid var(--border); padding-left: 0.75rem; margin: 0.5rem 0; max-height: 16rem;
  overflow: auto; font-size: 0.9rem; }
.plan-preview h3 { margin: 0 0 0.25rem; font-size: 1rem; }
${SLO_CSS}${ROLLOUTS_CSS}${RECONCILIATION_CSS}`;
