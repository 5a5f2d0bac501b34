/**
 * The SLO page: the period form, the charts the server laid out (`../slo-views.ts`), drawn by creating the SVG
 * elements and attributes it lists, and the report's tables. Text only, never markup.
 */
import { api, messageOf, statusOf } from './api.js';
import { $, clear, el, focusHeading, formatDuration, showView } from './dom.js';

interface SvgNode {
  tag: string;
  attrs: Record<string, string | number>;
  text?: string;
  children?: SvgNode[];
}

interface Chart {
  id: string;
  title: string;
  summary: string;
  width: number;
  height: number;
  nodes: SvgNode[];
}

interface Percentiles {
  count: number;
  p50_ms: number | null;
  p95_ms: number | null;
  p99_ms: number | null;
}

interface TierSlo {
  tier: string;
  runs: { activated: number; failed: number; cancelled: number; in_progress: number };
  success_ratio: number | null;
  success_target_met: boolean | null;
  time_to_active: Percentiles & { target_met: boolean | null };
}

interface SloView {
  report: {
    period: { since: string; until: string };
    tier: string | null;
    events_read: number;
    overall: TierSlo;
    by_tier: TierSlo[];
    steps: (Percentiles & {
      step: string;
      phase: string;
      failures: number;
      budget_ms: number;
      within_budget: boolean | null;
    })[];
    failed_runs: {
      tenant_id: string;
      tier: string;
      ended_at: string;
      failed_step: string | null;
      code: string | null;
    }[];
  };
  charts: Chart[];
}

const SVG_NS = 'http://www.w3.org/2000/svg';
const SVG_TAGS: ReadonlySet<string> = new Set(['g', 'rect', 'line', 'text', 'title']);
/** Presentation attributes only: an event handler attribute (`on...`) is never set, whatever the data says. */
const SVG_ATTRIBUTE = /^(?!on)[a-z][a-z0-9-]*$/;

function svgNode(node: SvgNode): SVGElement {
  if (!SVG_TAGS.has(node.tag)) throw new Error('unexpected chart element ' + node.tag);
  const element = document.createElementNS(SVG_NS, node.tag);
  for (const [name, value] of Object.entries(node.attrs)) {
    if (SVG_ATTRIBUTE.test(name)) element.setAttribute(name, String(value));
  }
  if (node.text !== undefined) element.textContent = node.text;
  for (const child of node.children || []) element.append(svgNode(child));
  return element;
}

function chartFigure(chart: Chart): HTMLElement {
  const svg = document.createElementNS(SVG_NS, 'svg');
  svg.setAttribute('viewBox', '0 0 ' + chart.width + ' ' + chart.height);
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-labelledby', chart.id + '-title ' + chart.id + '-desc');
  const title = document.createElementNS(SVG_NS, 'title');
  title.id = chart.id + '-title';
  title.textContent = chart.title;
  const desc = document.createElementNS(SVG_NS, 'desc');
  desc.id = chart.id + '-desc';
  desc.textContent = chart.summary;
  svg.append(title, desc);
  for (const node of chart.nodes) svg.append(svgNode(node));
  return el(
    'figure',
    { className: 'slo-chart', id: chart.id },
    el('figcaption', { text: chart.title }),
    svg,
    el('p', { className: 'muted', text: chart.summary }),
  );
}

const percent = (ratio: number | null) => (ratio === null ? '\u2014' : (ratio * 100).toFixed(2) + ' %');
const duration = (ms: number | null) => (ms === null ? '\u2014' : formatDuration(ms));

function verdict(met: boolean | null): HTMLElement {
  if (met === null) return el('span', { className: 'muted', text: 'no data' });
  return el('span', { className: met ? '' : 'slo-missed-text', text: met ? 'met' : 'missed' });
}

function renderTables(report: SloView['report']): void {
  const tiers = clear($<HTMLTableElement>('slo-tiers').tBodies[0]);
  for (const slo of [report.overall].concat(report.by_tier)) {
    const t = slo.time_to_active;
    tiers.append(
      el(
        'tr',
        {},
        el('th', { scope: 'row', text: slo.tier }),
        el('td', { text: slo.runs.activated }),
        el('td', { text: slo.runs.failed }),
        el('td', { text: slo.runs.cancelled }),
        el('td', { text: slo.runs.in_progress }),
        el('td', {}, percent(slo.success_ratio) + ' ', verdict(slo.success_target_met)),
        el('td', { text: duration(t.p50_ms) }),
        el('td', { text: duration(t.p95_ms) }),
        el('td', { text: duration(t.p99_ms) }),
        el('td', {}, verdict(t.target_met)),
      ),
    );
  }
  const steps = clear($<HTMLTableElement>('slo-steps').tBodies[0]);
  for (const step of report.steps) {
    steps.append(
      el(
        'tr',
        {},
        el('th', { scope: 'row', className: 'mono', text: step.step }),
        el('td', { text: step.phase }),
        el('td', { text: step.count }),
        el('td', { text: step.failures }),
        el('td', { text: duration(step.p50_ms) }),
        el('td', { text: duration(step.p95_ms) }),
        el('td', { text: duration(step.p99_ms) }),
        el('td', {}, duration(step.budget_ms) + ' ', verdict(step.within_budget)),
      ),
    );
  }
  const failed = clear($<HTMLTableElement>('slo-failed').tBodies[0]);
  for (const run of report.failed_runs) {
    failed.append(
      el(
        'tr',
        {},
        el(
          'td',
          {},
          el('a', {
            href: '#/tenants/' + encodeURIComponent(run.tenant_id),
            className: 'mono',
            text: run.tenant_id,
          }),
        ),
        el('td', { text: run.tier }),
        el('td', { text: run.ended_at }),
        el('td', { className: 'mono', text: run.failed_step || '\u2014' }),
        el('td', { className: 'mono', text: run.code || '\u2014' }),
      ),
    );
  }
  if (report.failed_runs.length === 0)
    failed.append(el('tr', {}, el('td', { colspan: '5', text: 'None in the period.' })));
}

export async function showSlo(params: URLSearchParams): Promise<void> {
  showView('slo-view');
  document.title = 'Provisioning SLO \u00B7 Tenant console';
  const query = new URLSearchParams();
  for (const name of ['since', 'until', 'tier']) {
    const value = params.get(name) || '';
    $<HTMLInputElement | HTMLSelectElement>('slo-' + name).value = value;
    if (value) query.set(name, value);
  }
  $('slo-error').textContent = '';
  $('slo-summary').textContent = 'Computing the report\u2026';
  focusHeading('slo-title');
  let view: SloView;
  try {
    view = await api<SloView>('/api/v1/console/slo?' + query.toString());
  } catch (error) {
    $('slo-summary').textContent = '';
    if (statusOf(error) !== 401)
      $('slo-error').textContent = 'Could not compute the report: ' + messageOf(error);
    return;
  }
  const report = view.report;
  $('slo-summary').textContent =
    report.period.since +
    ' to ' +
    report.period.until +
    ', ' +
    (report.tier || 'all tiers') +
    ': ' +
    report.events_read +
    ' events read.';
  const charts = clear($('slo-charts'));
  for (const chart of view.charts) charts.append(chartFigure(chart));
  renderTables(report);
}

$('slo-filters').addEventListener('submit', (submitEvent) => {
  submitEvent.preventDefault();
  const query = new URLSearchParams();
  for (const name of ['since', 'until', 'tier']) {
    const value = $<HTMLInputElement | HTMLSelectElement>('slo-' + name).value.trim();
    if (value) query.set(name, value);
  }
  const target = '#/slo' + (query.toString() ? '?' + query.toString() : '');
  if (location.hash === target) void showSlo(query);
  else location.hash = target;
});
