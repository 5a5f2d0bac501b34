import { TIERS } from '@app/contracts';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { objectViolations } from '@app/kube';
import { abcCorporation } from '../testing/fixtures';
import { dashboard, dashboardConfigMap, monitoringFiles, prometheusRule, serviceMonitor } from './monitoring';
import { toYaml } from '../k8s/tenant-tree';

const tenant = abcCorporation('premium');
const ns = 'e-commerce-abc-corporation-7f3a9c';

describe('spec 8.1 ServiceMonitor', () => {
  it('is the spec', () => {
    const sm = serviceMonitor(tenant, 'argocd');
    expect(sm.metadata).toMatchObject({ name: 'tenant-monitoring', namespace: ns });
    expect(sm.spec).toEqual({
      selector: { matchLabels: { tenant: 'abc-corporation-7f3a9c' } },
      endpoints: [{ port: 'metrics', interval: '30s', path: '/metrics' }],
    });
  });
});

describe('spec 8.2 dashboard', () => {
  it('title, tags, constant namespace variable, the five panels scoped to the namespace', () => {
    const d = dashboard(tenant);
    expect(d.title).toBe('Tenant: ABC Corporation');
    expect(d.tags).toEqual(['tenant', 'abc-corporation-7f3a9c', 'premium']);
    expect(d.templating.list).toEqual([{ name: 'namespace', type: 'constant', query: ns }]);
    expect(d.panels.map((p) => [p.title, p.targets[0].expr])).toEqual([
      ['Taux de Requetes', `sum(rate(http_requests_total{namespace='${ns}'}[5m]))`],
      ["Taux d'Erreur", `sum(rate(http_requests_total{namespace='${ns}',status=~'5..'}[5m]))`],
      [
        'Temps de Reponse (p95)',
        `histogram_quantile(0.95, sum(rate(http_request_duration_seconds_bucket{namespace='${ns}'}[5m])) by (le))`,
      ],
      ['Utilisation CPU', `sum(rate(container_cpu_usage_seconds_total{namespace='${ns}'}[5m]))`],
      ['Utilisation Memoire', `sum(container_memory_usage_bytes{namespace='${ns}'})`],
    ]);
    expect(d.uid.length).toBeLessThanOrEqual(40);
  });

  it('ships as a ConfigMap for the Grafana sidecar, with a uid distinct from the API copy', () => {
    const cm = dashboardConfigMap(tenant, 'argocd');
    expect(cm.metadata.labels).toMatchObject({ grafana_dashboard: '1' });
    const json = JSON.parse((cm.data as Record<string, string>)['tenant-dashboard.json']);
    expect(json.title).toBe('Tenant: ABC Corporation');
    expect(json.uid).not.toBe(dashboard(tenant, 'folder').uid);
  });
});

describe('spec 8.3 PrometheusRule', () => {
  it('has the three alerts exactly', () => {
    const rule = prometheusRule(tenant, 'argocd');
    expect(rule.metadata).toMatchObject({ name: 'tenant-alerts', namespace: ns });
    const [group] = (
      rule.spec as { groups: { name: string; interval: string; rules: Record<string, unknown>[] }[] }
    ).groups;
    expect(group.name).toBe('tenant-abc-corporation-7f3a9c');
    expect(group.interval).toBe('30s');
    expect(group.rules).toEqual([
      {
        alert: 'TauxErreurEleve',
        expr: `sum(rate(http_requests_total{namespace="${ns}",status=~"5.."}[5m])) /\nsum(rate(http_requests_total{namespace="${ns}"}[5m])) > 0.05\n`,
        for: '5m',
        labels: { severity: 'warning', tenant: 'abc-corporation-7f3a9c' },
        annotations: {
          summary: "Taux d'erreur eleve pour tenant abc-corporation-7f3a9c",
          description: "Taux d'erreur est {{ $value | humanizePercentage }}",
        },
      },
      {
        alert: 'UtilisationMemoireElevee',
        expr: `sum(container_memory_usage_bytes{namespace="${ns}"}) /\nsum(kube_resourcequota{namespace="${ns}",resource="limits.memory"}) > 0.90\n`,
        for: '10m',
        labels: { severity: 'warning', tenant: 'abc-corporation-7f3a9c' },
        annotations: {
          summary: 'Utilisation memoire elevee pour tenant abc-corporation-7f3a9c',
          description: 'Utilisation memoire a {{ $value | humanizePercentage }} du quota',
        },
      },
      {
        alert: 'PodEnBoucleRedemarrage',
        expr: `rate(kube_pod_container_status_restarts_total{namespace="${ns}"}[15m]) > 0\n`,
        for: '5m',
        labels: { severity: 'critical', tenant: 'abc-corporation-7f3a9c' },
        annotations: {
          summary: 'Pod en boucle de redemarrage pour tenant abc-corporation-7f3a9c',
          description: 'Pod {{ $labels.pod }} est en boucle de redemarrage',
        },
      },
    ]);
  });
});

describe('validation and golden files', () => {
  it.each(TIERS)('%s: every object passes its schema and the name rules; golden file matches', (tier) => {
    const files = monitoringFiles(abcCorporation(tier), 'argocd');
    for (const object of files.flatMap((f) => f.objects)) expect(objectViolations(object)).toEqual([]);
    const rendered = files
      .map((f) => `# tenants/abc-corporation-7f3a9c/monitoring/${f.path}\n${toYaml(f.objects)}`)
      .join('---\n');
    const path = join(__dirname, '__golden__', `${tier}.yaml`);
    if (process.env.UPDATE_GOLDEN === '1') writeFileSync(path, rendered);
    // A missing golden file fails (it is never silently recreated): UPDATE_GOLDEN=1 writes it on purpose.
    expect(existsSync(path)).toBe(true);
    expect(rendered).toBe(readFileSync(path, 'utf8'));
  });

  it('a label value over 63 characters is refused', () => {
    const sm = serviceMonitor(tenant, 'x'.repeat(64));
    expect(objectViolations(sm).join()).toMatch(/not a valid label value/);
  });
});
