import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MemoryEventStore } from '@app/event-store';
import { objectViolations, type KubeObject } from '@app/kube';
import { ResourceServiceMetrics } from '@app/platform';
import { MemoryTenantReadModel } from '@app/tenancy';
import { parser } from '@prometheus-io/lezer-promql';
import type { Registry } from 'prom-client';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { OrchestratorMetrics } from '../../apps/orchestrator/src';
import { ProvisioningMetrics } from '../../apps/provisioning-api/src';
import { APPS } from '../support/local-stack';

/**
 * The control plane's own monitoring (deploy/base/monitoring): every object valid, every alert complete, and
 * every PromQL expression (alerts and dashboard panels) parsed with Prometheus's own grammar, its metric names
 * checked against the registries the apps build. An alert on a metric nobody registers would never fire.
 */
const MONITORING = join(__dirname, '../../deploy/base/monitoring');
const NAMESPACE = 'provisioning-system';
/** Series Prometheus writes itself for every target. */
const PROMETHEUS_OWN = new Set(['up', 'scrape_duration_seconds', 'scrape_samples_scraped']);

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** The objects kustomize builds from the directory: its resources, and the dashboard ConfigMap it generates. */
function monitoringObjects(): KubeObject[] {
  const kustomization = parseYaml(readFileSync(join(MONITORING, 'kustomization.yaml'), 'utf8')) as {
    resources?: string[];
    configMapGenerator?: {
      name: string;
      namespace?: string;
      files?: string[];
      options?: { labels?: Record<string, string>; disableNameSuffixHash?: boolean };
    }[];
  };
  const objects: KubeObject[] = [];
  for (const resource of kustomization.resources ?? []) {
    for (const doc of parseAllDocuments(readFileSync(join(MONITORING, resource), 'utf8'))) {
      if (doc.errors.length > 0)
        throw new Error(`${resource}: ${doc.errors.map((e) => e.message).join('; ')}`);
      objects.push(doc.toJS() as KubeObject);
    }
  }
  for (const generator of kustomization.configMapGenerator ?? []) {
    expect(generator.options?.disableNameSuffixHash).toBe(true); // the sidecar keys dashboards by name
    objects.push({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: generator.name, namespace: generator.namespace, labels: generator.options?.labels },
      data: Object.fromEntries(
        (generator.files ?? []).map((file) => [
          file.split('/').pop()!,
          readFileSync(join(MONITORING, file), 'utf8'),
        ]),
      ),
    });
  }
  return objects;
}

function rulesOf(objects: KubeObject[]): Rule[] {
  return objects
    .filter((object) => object.kind === 'PrometheusRule')
    .flatMap((object) =>
      (object.spec as { groups: { rules: Rule[] }[] }).groups.flatMap((group) => group.rules),
    );
}

interface ServiceMonitorSpec {
  jobLabel?: string;
  namespaceSelector?: unknown;
  selector: { matchLabels?: Record<string, string>; matchExpressions?: unknown[] };
  endpoints: unknown[];
}

interface Panel {
  title?: string;
  targets?: { expr?: string }[];
  panels?: Panel[];
}

function dashboardExpressions(objects: KubeObject[]): { where: string; expr: string }[] {
  const out: { where: string; expr: string }[] = [];
  for (const object of objects.filter((o) => o.metadata.labels?.['grafana_dashboard'] === '1')) {
    for (const [file, text] of Object.entries(object.data as Record<string, string>)) {
      const walk = (panels: Panel[]) => {
        for (const panel of panels) {
          for (const target of panel.targets ?? []) {
            if (target.expr) out.push({ where: `${file}: ${panel.title}`, expr: target.expr });
          }
          walk(panel.panels ?? []);
        }
      };
      walk((JSON.parse(text) as { panels: Panel[] }).panels);
    }
  }
  return out;
}

/**
 * The metric names a PromQL expression reads: selector names and `__name__="..."` matchers. Throws on a syntax
 * error (the grammar recovers from errors, so they are looked for) and on a name it cannot know (a regex).
 */
export function promqlMetricNames(expr: string): string[] {
  // Grafana's interval variables are not PromQL; each stands for a duration.
  const source = expr.replace(/\$__(rate_interval|interval|range)\b/g, '5m');
  const tree = parser.parse(source);
  const names = new Set<string>();
  const cursor = tree.cursor();
  do {
    const text = source.slice(cursor.from, cursor.to);
    if (cursor.type.isError) throw new Error(`PromQL syntax error at ${cursor.from} in: ${expr}`);
    if (cursor.name === 'VectorSelector') {
      const node = cursor.node;
      const identifier = node.getChild('Identifier');
      if (identifier) names.add(source.slice(identifier.from, identifier.to));
    }
    if (cursor.name === 'UnquotedLabelMatcher' || cursor.name === 'QuotedLabelMatcher') {
      const node = cursor.node;
      const label = node.getChild('LabelName') ?? node.getChild('QuotedLabelName');
      const labelText = label ? source.slice(label.from, label.to).replace(/^"|"$/g, '') : '';
      if (labelText === '__name__') {
        const op = node.getChild('MatchOp');
        const value = node.getChild('StringLiteral');
        if (!op || !value || source.slice(op.from, op.to) !== '=') {
          throw new Error(`cannot check a metric name matched by pattern: ${text}`);
        }
        names.add(source.slice(value.from + 1, value.to - 1));
      }
    }
  } while (cursor.next());
  return [...names];
}

interface LabelMatcher {
  label: string;
  op: '=' | '!=' | '=~' | '!~';
  value: string;
}

/** The label matchers of each selector of `metric` in `expr`, in the order they appear. */
function selectorsOf(expr: string, metric: string): LabelMatcher[][] {
  const tree = parser.parse(expr);
  const selectors: LabelMatcher[][] = [];
  const cursor = tree.cursor();
  do {
    if (cursor.name !== 'VectorSelector') continue;
    const node = cursor.node;
    const identifier = node.getChild('Identifier');
    if (!identifier || expr.slice(identifier.from, identifier.to) !== metric) continue;
    const matchers = node.getChild('LabelMatchers');
    const found = [
      ...(matchers?.getChildren('UnquotedLabelMatcher') ?? []),
      ...(matchers?.getChildren('QuotedLabelMatcher') ?? []),
    ];
    selectors.push(
      found.map((matcher) => {
        const label = matcher.getChild('LabelName') ?? matcher.getChild('QuotedLabelName');
        const op = matcher.getChild('MatchOp');
        const value = matcher.getChild('StringLiteral');
        if (!label || !op || !value) throw new Error(`incomplete label matcher in: ${expr}`);
        return {
          label: expr.slice(label.from, label.to).replace(/^"|"$/g, ''),
          op: expr.slice(op.from, op.to) as LabelMatcher['op'],
          value: expr.slice(value.from + 1, value.to - 1),
        };
      }),
    );
  } while (cursor.next());
  return selectors;
}

/** Whether a series with these labels is selected by every matcher (regexes anchored, as Prometheus does). */
function selects(matchers: LabelMatcher[], labels: Record<string, string>): boolean {
  return matchers.every(({ label, op, value }) => {
    const actual = labels[label] ?? '';
    switch (op) {
      case '=':
        return actual === value;
      case '!=':
        return actual !== value;
      case '=~':
        return new RegExp(`^(?:${value})$`).test(actual);
      case '!~':
        return !new RegExp(`^(?:${value})$`).test(actual);
    }
  });
}

/** Every series name a registry exposes (histograms and summaries with their suffixes). */
async function exposedNames(registry: Registry): Promise<Set<string>> {
  const names = new Set<string>();
  for (const metric of await registry.getMetricsAsJSON()) {
    names.add(metric.name);
    const type = String(metric.type);
    if (type === 'histogram')
      for (const suffix of ['_bucket', '_sum', '_count']) names.add(metric.name + suffix);
    if (type === 'summary') for (const suffix of ['_sum', '_count']) names.add(metric.name + suffix);
  }
  return names;
}

/** The metric names of `expr` that no app registers. */
function unknownMetrics(expr: string, registered: Set<string>): string[] {
  return promqlMetricNames(expr).filter((name) => !registered.has(name) && !PROMETHEUS_OWN.has(name));
}

describe('deploy/base/monitoring', () => {
  const objects = monitoringObjects();
  const rules = rulesOf(objects);
  let store: MemoryEventStore;
  let registered: Set<string>;
  let api: ProvisioningMetrics;

  beforeAll(async () => {
    store = new MemoryEventStore();
    // The registries the apps build: the API's, a resource service's (all six share one), the orchestrator's.
    api = new ProvisioningMetrics(store, new MemoryTenantReadModel());
    const registries = [
      api.registry,
      new ResourceServiceMetrics('database-service', store).registry,
      new OrchestratorMetrics(store).registry,
    ];
    registered = new Set<string>();
    for (const registry of registries) for (const name of await exposedNames(registry)) registered.add(name);
  });
  afterAll(() => store.close());

  it('holds only objects that the Kubernetes and Prometheus Operator schemas accept', () => {
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      'ConfigMap/provisioning-control-plane-dashboard',
      'PrometheusRule/provisioning-slo',
      'ServiceMonitor/provisioning-api',
      'ServiceMonitor/provisioning-control-plane',
    ]);
    for (const object of objects) {
      expect({ object: object.metadata.name, violations: objectViolations(object) }).toEqual({
        object: object.metadata.name,
        violations: [],
      });
      expect(object.metadata.namespace).toBe(NAMESPACE);
      expect(object.metadata.labels?.['app.kubernetes.io/part-of']).toBe('provisioning-control-plane');
    }
  });

  it('renders with kustomize to the same objects', () => {
    if (!existsSync('/usr/bin/kubectl')) {
      console.warn('skipped: /usr/bin/kubectl (with its kustomize) is not installed here');
      return;
    }
    const rendered = parseAllDocuments(
      execFileSync('/usr/bin/kubectl', ['kustomize', MONITORING], { encoding: 'utf8' }),
    )
      .map((doc) => doc.toJS() as KubeObject)
      .sort((a, b) => `${a.kind}/${a.metadata.name}`.localeCompare(`${b.kind}/${b.metadata.name}`));
    const ours = [...objects].sort((a, b) =>
      `${a.kind}/${a.metadata.name}`.localeCompare(`${b.kind}/${b.metadata.name}`),
    );
    expect(rendered).toEqual(ours);
  });

  it('scrapes the API on http with its metrics token and every other app on its health port', () => {
    const monitors = Object.fromEntries(
      objects
        .filter((o) => o.kind === 'ServiceMonitor')
        .map((o) => [o.metadata.name, o.spec as ServiceMonitorSpec]),
    );
    const apiMonitor = monitors['provisioning-api'];
    expect(apiMonitor.selector.matchLabels).toEqual({
      'app.kubernetes.io/part-of': 'provisioning-control-plane',
      'app.kubernetes.io/name': 'provisioning-api',
    });
    expect(apiMonitor.endpoints).toEqual([
      expect.objectContaining({
        port: 'http',
        path: '/metrics',
        authorization: {
          type: 'Bearer',
          credentials: { name: 'provisioning-api-credentials', key: 'METRICS_TOKEN' },
        },
      }),
    ]);
    const others = monitors['provisioning-control-plane'];
    expect(others.selector).toEqual({
      matchLabels: { 'app.kubernetes.io/part-of': 'provisioning-control-plane' },
      matchExpressions: [
        { key: 'app.kubernetes.io/component', operator: 'In', values: ['orchestrator', 'resource-service'] },
      ],
    });
    expect(others.endpoints).toEqual([expect.objectContaining({ port: 'health', path: '/metrics' })]);
    for (const monitor of Object.values(monitors)) {
      expect(monitor.jobLabel).toBe('app.kubernetes.io/name');
      expect(monitor.namespaceSelector).toEqual({ matchNames: [NAMESPACE] });
    }
  });

  it('alerts on each promise of the spec, each alert with a severity, a summary, a description and a runbook', () => {
    const alerts = rules.map((rule) => rule.alert);
    expect(new Set(alerts).size).toBe(alerts.length);
    expect(alerts).toEqual(
      expect.arrayContaining([
        'ProvisioningSuccessRatioBelowSLO',
        'ProvisioningLatencyP95AboveSLO',
        'ProvisioningMessagesParked',
        'EventStoreSubscriptionLagging',
        'PurgeBreakerOpen',
        'OrchestratorNotFollowingStreams',
        'ControlPlaneAppAbsent',
      ]),
    );
    for (const rule of rules) {
      expect({ alert: rule.alert, severity: rule.labels?.severity }).toEqual({
        alert: rule.alert,
        severity: expect.stringMatching(/^(critical|warning|info)$/),
      });
      for (const key of ['summary', 'description', 'runbook']) {
        expect({ alert: rule.alert, key, text: rule.annotations?.[key]?.trim() ?? '' }).toEqual({
          alert: rule.alert,
          key,
          text: expect.stringMatching(/\S{3}/),
        });
      }
    }
    const expr = (name: string) => rules.find((rule) => rule.alert === name)!.expr;
    expect(expr('ProvisioningSuccessRatioBelowSLO')).toMatch(/\[1d\]/);
    expect(expr('ProvisioningSuccessRatioBelowSLO')).toMatch(/<\s*0\.995/);
    expect(expr('ProvisioningLatencyP95AboveSLO')).toMatch(/histogram_quantile\(0\.95,[\s\S]*>\s*660/);
    // A vanished app is noticed for each of the eight.
    for (const app of APPS) {
      expect(expr('ControlPlaneAppAbsent')).toContain(`absent(up{namespace="${NAMESPACE}", job="${app}"})`);
    }
  });

  it('queries only metrics the apps register, in expressions Prometheus can parse', () => {
    const expressions = [
      ...rules.map((rule) => ({ where: `alert ${rule.alert ?? rule.record}`, expr: rule.expr })),
      ...dashboardExpressions(objects),
    ];
    expect(expressions.length).toBeGreaterThan(rules.length + 10);
    const problems = expressions.flatMap(({ where, expr }) => {
      try {
        const unknown = unknownMetrics(expr, registered);
        return unknown.length > 0 ? [`${where}: no app registers ${unknown.join(', ')}`] : [];
      } catch (error) {
        return [`${where}: ${(error as Error).message}`];
      }
    });
    expect(problems).toEqual([]);
    // Every alert reads at least one metric: one whose selector were lost would check nothing.
    for (const rule of rules) expect(promqlMetricNames(rule.expr).length).toBeGreaterThan(0);
  });

  it('refuses an alert on a metric nobody registers, and an expression that does not parse', () => {
    const fake: Rule = {
      alert: 'FakeAlert',
      expr: 'sum(rate(provisioning_webhooks_lost_total[5m])) > 0 or {__name__="tenants_forgotten"} > 0',
    };
    expect(unknownMetrics(fake.expr, registered)).toEqual([
      'provisioning_webhooks_lost_total',
      'tenants_forgotten',
    ]);
    // A real name inside a function and a Prometheus series pass.
    expect(
      unknownMetrics('absent(up{job="x"}) or rate(provisioning_outcomes_total[5m])', registered),
    ).toEqual([]);
    expect(() => promqlMetricNames('sum(rate(provisioning_outcomes_total[5m])')).toThrow(/syntax error/);
    expect(() => promqlMetricNames('{__name__=~"provisioning_.*"}')).toThrow(/pattern/);
  });

  it('judges the success ratio on activations and failures only, never on provisionings cancelled by billing', async () => {
    const outcomes = (await api.registry.getMetricsAsJSON())
      .find((metric) => metric.name === 'provisioning_outcomes_total')!
      .values.map((sample) => String(sample.labels.outcome))
      .sort();
    expect(outcomes).toEqual(['activated', 'cancelled', 'failed']);
    const expr = rules.find((rule) => rule.alert === 'ProvisioningSuccessRatioBelowSLO')!.expr;
    const [numerator, denominator, ...others] = selectorsOf(expr, 'provisioning_outcomes_total');
    expect(others).toEqual([]);
    const selected = (matchers: LabelMatcher[]) =>
      outcomes.filter((outcome) => selects(matchers, { outcome }));
    expect(selected(numerator)).toEqual(['activated']);
    expect(selected(denominator)).toEqual(['activated', 'failed']);
  });

  it('gives the provisioning duration histogram a bucket at the 660 s the p95 alert compares with', async () => {
    const histogram = (await api.registry.getMetricsAsJSON()).find(
      (metric) => metric.name === 'provisioning_duration_seconds',
    )!;
    const edges = histogram.values
      .filter(
        (sample) => (sample as { metricName?: string }).metricName === 'provisioning_duration_seconds_bucket',
      )
      .map((sample) => sample.labels.le);
    expect(edges).toEqual(expect.arrayContaining([600, 660, 900]));
  });
});
