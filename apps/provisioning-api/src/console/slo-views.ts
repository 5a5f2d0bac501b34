import type { SloReport, TierSlo } from '@app/tenancy';

/**
 * The SLO page's charts, laid out on the server as plain SVG data (element, attributes, text): the browser only
 * creates those elements and sets those attributes, so every rule of the drawing is unit-tested here, no chart
 * library is needed and nothing is ever parsed as markup.
 */

export type SvgTag = 'g' | 'rect' | 'line' | 'text' | 'title';

export interface SvgNode {
  tag: SvgTag;
  attrs: Record<string, string | number>;
  text?: string;
  children?: SvgNode[];
}

export interface Chart {
  id: string;
  title: string;
  /** One sentence for screen readers: what the chart shows and whether the target is met. */
  summary: string;
  width: number;
  height: number;
  nodes: SvgNode[];
}

interface Bar {
  value: number | null;
  /** CSS class of the bar (its colour). */
  kind: string;
  label: string;
}

interface Row {
  label: string;
  bars: Bar[];
}

interface Marker {
  value: number;
  label: string;
  kind: string;
}

const WIDTH = 640;
const LABEL_WIDTH = 150;
const VALUE_WIDTH = 90;
const BAR_HEIGHT = 14;
const ROW_GAP = 10;
const TOP = 22;
const PLOT = WIDTH - LABEL_WIDTH - VALUE_WIDTH;

const round = (n: number) => Math.round(n * 10) / 10;

export function minutes(ms: number | null): string {
  if (ms === null) return 'no data';
  if (ms < 60_000) return `${round(ms / 1000)} s`;
  return `${round(ms / 60_000)} min`;
}

const percentText = (ratio: number | null) => (ratio === null ? 'no data' : `${round(ratio * 100)} %`);

/** Horizontal bars, rows top to bottom; markers are vertical lines across the plot (targets, budgets). */
function barChart(options: {
  id: string;
  title: string;
  summary: string;
  rows: Row[];
  max: number;
  markers: Marker[];
  band?: { from: number; to: number; label: string };
}): Chart {
  const { rows, max } = options;
  const x = (value: number) => LABEL_WIDTH + round((Math.min(Math.max(value, 0), max) / max) * PLOT);
  const nodes: SvgNode[] = [];
  let y = TOP;
  const bottom = TOP + rows.reduce((sum, row) => sum + row.bars.length * BAR_HEIGHT + ROW_GAP, 0);
  if (options.band) {
    const { from, to, label } = options.band;
    nodes.push({
      tag: 'rect',
      attrs: {
        class: 'slo-band',
        x: x(from),
        y: TOP - 4,
        width: round(x(to) - x(from)),
        height: bottom - TOP,
      },
      children: [{ tag: 'title', attrs: {}, text: label }],
    });
  }
  for (const row of rows) {
    const height = row.bars.length * BAR_HEIGHT;
    nodes.push({
      tag: 'text',
      attrs: { class: 'slo-label', x: LABEL_WIDTH - 8, y: y + height / 2 + 4, 'text-anchor': 'end' },
      text: row.label,
    });
    for (const bar of row.bars) {
      const width = bar.value === null ? 0 : round(x(bar.value) - LABEL_WIDTH);
      nodes.push({
        tag: 'rect',
        attrs: { class: `slo-bar ${bar.kind}`, x: LABEL_WIDTH, y, width, height: BAR_HEIGHT - 2 },
        children: [{ tag: 'title', attrs: {}, text: `${row.label} ${bar.label}` }],
      });
      nodes.push({
        tag: 'text',
        attrs: { class: 'slo-value', x: LABEL_WIDTH + width + 4, y: y + BAR_HEIGHT - 3 },
        text: bar.label,
      });
      y += BAR_HEIGHT;
    }
    y += ROW_GAP;
  }
  for (const marker of options.markers) {
    nodes.push({
      tag: 'line',
      attrs: {
        class: `slo-marker ${marker.kind}`,
        x1: x(marker.value),
        x2: x(marker.value),
        y1: TOP - 6,
        y2: bottom,
      },
    });
    nodes.push({
      tag: 'text',
      attrs: { class: 'slo-marker-label', x: x(marker.value), y: TOP - 9, 'text-anchor': 'middle' },
      text: marker.label,
    });
  }
  return {
    id: options.id,
    title: options.title,
    summary: options.summary,
    width: WIDTH,
    height: bottom + 4,
    nodes,
  };
}

function tiers(report: SloReport): TierSlo[] {
  return [report.overall, ...report.by_tier];
}

function timeToActiveChart(report: SloReport): Chart {
  const { time_to_active_min_ms: low, time_to_active_max_ms: high } = report.targets;
  const rows = tiers(report).map((slo) => ({
    label: slo.tier,
    bars: (['p50', 'p95', 'p99'] as const).map((p) => {
      const value = slo.time_to_active[`${p}_ms`];
      return { value, kind: `slo-${p}`, label: `${p} ${minutes(value)}` };
    }),
  }));
  const longest = Math.max(0, ...tiers(report).map((slo) => slo.time_to_active.p99_ms ?? 0));
  const overall = report.overall.time_to_active;
  const verdict =
    overall.target_met === null
      ? 'no tenant became active in the period'
      : overall.target_met
        ? 'met'
        : 'missed';
  return barChart({
    id: 'slo-chart-tta',
    title: 'Time to active by tier',
    summary: `p95 ${minutes(overall.p95_ms)} against ${minutes(high)}: ${verdict}.`,
    rows,
    max: Math.max(longest, high) * 1.1,
    markers: [{ value: high, label: `target ${minutes(high)}`, kind: 'slo-target' }],
    band: { from: low, to: high, label: `specified ${minutes(low)} to ${minutes(high)}` },
  });
}

function successChart(report: SloReport): Chart {
  const target = report.targets.success_ratio;
  const rows = tiers(report).map((slo) => ({
    label: slo.tier,
    bars: [
      {
        value: slo.success_ratio,
        kind: slo.success_target_met === false ? 'slo-missed' : 'slo-met',
        label: `${percentText(slo.success_ratio)} (${slo.runs.activated} of ${slo.runs.activated + slo.runs.failed})`,
      },
    ],
  }));
  const met = report.overall.success_target_met;
  return barChart({
    id: 'slo-chart-success',
    title: 'Success ratio by tier',
    summary: `${percentText(report.overall.success_ratio)} against ${percentText(target)}: ${
      met === null ? 'no provisioning ended in the period' : met ? 'met' : 'missed'
    }.`,
    rows,
    max: 1,
    markers: [{ value: target, label: `target ${percentText(target)}`, kind: 'slo-target' }],
  });
}

function stepsChart(report: SloReport): Chart {
  const rows = report.steps.map((step) => ({
    label: step.step,
    bars: [
      {
        value: step.p95_ms,
        kind: step.within_budget === false ? 'slo-missed' : 'slo-p95',
        label: `p95 ${minutes(step.p95_ms)} / ${minutes(step.budget_ms)}`,
      },
    ],
  }));
  const over = report.steps.filter((step) => step.within_budget === false).map((step) => step.step);
  const longest = Math.max(0, ...report.steps.map((step) => Math.max(step.p95_ms ?? 0, step.budget_ms)));
  return barChart({
    id: 'slo-chart-steps',
    title: 'Step durations (p95) against their phase budget',
    summary: over.length === 0 ? 'Every step within its budget.' : `Over budget: ${over.join(', ')}.`,
    rows,
    max: longest * 1.05,
    markers: [],
  });
}

function statesChart(report: SloReport): Chart {
  const total = report.states.reduce((sum, state) => sum + state.total_ms, 0);
  const rows = report.states.map((state) => ({
    label: state.state.replace(/_/g, ' '),
    bars: [
      {
        value: total === 0 ? 0 : state.total_ms / total,
        kind: `slo-state-${state.state}`,
        label: `${percentText(total === 0 ? null : state.total_ms / total)} (${minutes(state.total_ms)})`,
      },
    ],
  }));
  return barChart({
    id: 'slo-chart-states',
    title: 'Time in each lifecycle state (all tenants together)',
    summary:
      rows.length === 0
        ? 'No tenant in the period.'
        : `${rows.length} states over ${minutes(total)} of tenant time.`,
    rows,
    max: 1,
    markers: [],
  });
}

/** The report and the four charts of the console's SLO page. */
export function sloConsoleView(report: SloReport) {
  return {
    report,
    charts: [timeToActiveChart(report), successChart(report), stepsChart(report), statesChart(report)],
  };
}
