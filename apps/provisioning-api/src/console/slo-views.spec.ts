import { tenantStream } from '@app/contracts';
import { provisionedTenant, sloReport, TenantStreamBuilder, type SloReport } from '@app/tenancy';
import { consolePage } from './assets/page';
import { CONSOLE_CSS } from './assets/styles';
import { minutes, sloConsoleView, type Chart, type SvgNode } from './slo-views';

const QUOTA = { code: 'K8S.QUOTA_REFUSED', message: 'quota refused', retryable: false };

function report(): SloReport {
  const builders = [
    provisionedTenant('fast-aaaaaa', 'premium', '2025-03-01T10:00:00Z', 20_000), // 8 min 20 s
    provisionedTenant('slow-bbbbbb', 'standard', '2025-03-01T10:00:00Z', 30_000), // 12 min 30 s
    new TenantStreamBuilder('broken-cccccc', '2025-03-01T10:00:00Z', 20_000)
      .requested({ tier: 'standard' })
      .started('namespace', 'ProvisionNamespace')
      .failed('namespace', QUOTA)
      .lifecycle('RollbackStarted', { failedStep: 'namespace', reason: QUOTA })
      .lifecycle('TenantProvisioningFailed', {
        failedStep: 'namespace',
        reason: QUOTA,
        compensatedSteps: [],
      }),
  ];
  const events = builders.flatMap((builder) =>
    builder.events.map((event) => ({
      streamName: tenantStream(builder.tenantId),
      type: event.type,
      data: event.data,
      metadata: event.metadata as unknown as Record<string, unknown>,
      recordedAt: new Date(0),
    })),
  );
  return sloReport(events, {
    since: Date.parse('2025-03-01T00:00:00Z'),
    until: Date.parse('2025-03-01T12:00:00Z'),
    tier: null,
  });
}

const flat = (nodes: SvgNode[]): SvgNode[] => nodes.flatMap((node) => [node, ...flat(node.children ?? [])]);
const chart = (id: string): Chart => {
  const found = sloConsoleView(report()).charts.find((c) => c.id === id);
  if (!found) throw new Error(`no chart ${id}`);
  return found;
};
const bars = (c: Chart) =>
  c.nodes.filter((n) => n.tag === 'rect' && String(n.attrs['class']).startsWith('slo-bar'));
const texts = (c: Chart) => c.nodes.filter((n) => n.tag === 'text').map((n) => n.text);

describe('SLO console charts', () => {
  it('draws time to active as p50/p95/p99 bars per tier, over the specified 8-11 minute band', () => {
    const tta = chart('slo-chart-tta');
    expect(tta.title).toBe('Time to active by tier');
    expect(tta.summary).toBe('p95 12.5 min against 11 min: missed.');
    // all, standard, premium, business: three bars each, business empty.
    expect(bars(tta)).toHaveLength(12);
    expect(texts(tta)).toEqual(
      expect.arrayContaining([
        'all',
        'premium',
        'p50 8.3 min',
        'p99 12.5 min',
        'p95 no data',
        'target 11 min',
      ]),
    );
    // The axis runs to 1.1 × the longest p99 (12.5 min): 11 min sits at 11 / 13.75 of the 400-pixel plot.
    const marker = tta.nodes.find((n) => n.tag === 'line');
    expect(marker?.attrs).toMatchObject({ class: 'slo-marker slo-target', x1: 150 + 320, x2: 470 });
    const band = tta.nodes.find((n) => n.attrs['class'] === 'slo-band');
    expect(band?.attrs).toMatchObject({ x: 150 + round((8 / 13.75) * 400), width: round((3 / 13.75) * 400) });
    expect(band?.children?.[0].text).toBe('specified 8 min to 11 min');
    const premiumP50 = bars(tta).find((n) => n.children?.[0].text === 'premium p50 8.3 min');
    expect(premiumP50?.attrs['width']).toBe(round((500 / 825) * 400));
    const businessP50 = bars(tta).find((n) => n.children?.[0].text === 'business p50 no data');
    expect(businessP50?.attrs['width']).toBe(0);
  });

  it('marks a tier below 99.5 % success as missed, in colour and in words', () => {
    const success = chart('slo-chart-success');
    expect(success.summary).toBe('66.7 % against 99.5 %: missed.');
    const kinds = bars(success).map((n) => [n.children?.[0].text, n.attrs['class']]);
    expect(kinds).toEqual([
      ['all 66.7 % (2 of 3)', 'slo-bar slo-missed'],
      ['standard 50 % (1 of 2)', 'slo-bar slo-missed'],
      ['premium 100 % (1 of 1)', 'slo-bar slo-met'],
      ['business no data (0 of 0)', 'slo-bar slo-met'],
    ]);
    expect(texts(success)).toContain('target 99.5 %');
  });

  it('lists the steps over their phase budget, and the share of time in each state', () => {
    const steps = chart('slo-chart-steps');
    // The slow tenant's steps take 30 s each: the 30 s budgets of namespace and broker are reached, not passed.
    expect(steps.summary).toBe('Every step within its budget.');
    expect(bars(steps)).toHaveLength(12);
    const slow = provisionedTenant('slower-dddddd', 'business', '2025-03-01T10:00:00Z', 45_000);
    const slowReport = sloReport(
      slow.events.map((event) => ({
        streamName: tenantStream(slow.tenantId),
        type: event.type,
        data: event.data,
        metadata: event.metadata as unknown as Record<string, unknown>,
        recordedAt: new Date(0),
      })),
      { since: 0, until: Date.parse('2025-03-02T00:00:00Z'), tier: null },
    );
    const over = sloConsoleView(slowReport).charts.find((c) => c.id === 'slo-chart-steps');
    expect(over?.summary).toBe('Over budget: namespace, broker.');
    expect(over && bars(over).find((n) => n.children?.[0].text?.startsWith('broker'))?.attrs['class']).toBe(
      'slo-bar slo-missed',
    );
    const states = chart('slo-chart-states');
    expect(texts(states)).toEqual(expect.arrayContaining(['active', 'provisioning', 'rolling back']));
    expect(states.summary).toMatch(/^\d+ states over [\d.]+ min of tenant time\.$/);
  });

  it('uses only the SVG elements and attributes the page knows how to draw', () => {
    for (const c of sloConsoleView(report()).charts) {
      for (const node of flat(c.nodes)) {
        expect(['g', 'rect', 'line', 'text', 'title']).toContain(node.tag);
        for (const name of Object.keys(node.attrs)) expect(name).toMatch(/^(?!on)[a-z][a-z0-9-]*$/);
      }
      expect(c.height).toBeGreaterThan(0);
    }
  });

  it('prints durations in minutes, seconds below one', () => {
    expect([minutes(null), minutes(45_000), minutes(660_000), minutes(500_000)]).toEqual([
      'no data',
      '45 s',
      '11 min',
      '8.3 min',
    ]);
  });

  it('has its view, navigation link and styles in the page', () => {
    const page = consolePage('v1');
    expect(page).toContain('<a href="#/slo" data-nav="slo">SLO</a>');
    expect(page).toContain('<section id="slo-view" class="view" hidden aria-labelledby="slo-title">');
    expect(page).toContain('<option value="business">business</option>');
    for (const id of ['slo-filters', 'slo-charts', 'slo-tiers', 'slo-steps', 'slo-failed']) {
      expect(page).toContain(`id="${id}"`);
    }
    expect(CONSOLE_CSS).toContain('.slo-bar.slo-missed { fill: #b3261e; }');
  });
});

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
