import { type TenantProfile, grafanaFolderUid, namespaceName } from '@app/contracts';
import type { KubeObject } from '@app/kube';
import { toYaml } from '../k8s/tenant-tree';

/** Spec phase 8: ServiceMonitor (8.1), Grafana dashboard (8.2), PrometheusRule (8.3). Pure. */

function labels(tenant: TenantProfile, managedBy: string): Record<string, string> {
  return { tenant: tenant.tenantId, tier: tenant.tier, 'managed-by': managedBy };
}

export function serviceMonitor(tenant: TenantProfile, managedBy: string): KubeObject {
  return {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'ServiceMonitor',
    metadata: {
      name: 'tenant-monitoring',
      namespace: namespaceName(tenant.tenantId),
      labels: labels(tenant, managedBy),
    },
    spec: {
      selector: { matchLabels: { tenant: tenant.tenantId } },
      endpoints: [{ port: 'metrics', interval: '30s', path: '/metrics' }],
    },
  };
}

export interface DashboardPanel {
  id: number;
  title: string;
  type: 'timeseries';
  gridPos: { x: number; y: number; w: number; h: number };
  targets: { expr: string; refId: string }[];
}
export interface Dashboard {
  uid: string;
  title: string;
  tags: string[];
  templating: { list: { name: string; type: 'constant'; query: string }[] };
  panels: DashboardPanel[];
  schemaVersion: number;
}

/**
 * Dashboard uids (Grafana allows 40 characters; a tenant id has at most 27). The sidecar-provisioned copy and
 * the one filed in the tenant's folder through the API need distinct uids: Grafana refuses to overwrite a
 * provisioned dashboard through its API.
 */
export function dashboardUid(tenantId: string, copy: 'sidecar' | 'folder'): string {
  return `${grafanaFolderUid(tenantId)}-${copy === 'sidecar' ? 'sc' : 'ov'}`;
}

/** Spec 8.2: title, tags, constant `namespace` variable and the five panels, each query scoped to the namespace. */
export function dashboard(tenant: TenantProfile, copy: 'sidecar' | 'folder' = 'folder'): Dashboard {
  const ns = namespaceName(tenant.tenantId);
  const panels: [string, string][] = [
    ['Taux de Requetes', `sum(rate(http_requests_total{namespace='${ns}'}[5m]))`],
    ["Taux d'Erreur", `sum(rate(http_requests_total{namespace='${ns}',status=~'5..'}[5m]))`],
    [
      'Temps de Reponse (p95)',
      `histogram_quantile(0.95, sum(rate(http_request_duration_seconds_bucket{namespace='${ns}'}[5m])) by (le))`,
    ],
    ['Utilisation CPU', `sum(rate(container_cpu_usage_seconds_total{namespace='${ns}'}[5m]))`],
    ['Utilisation Memoire', `sum(container_memory_usage_bytes{namespace='${ns}'})`],
  ];
  return {
    uid: dashboardUid(tenant.tenantId, copy),
    title: `Tenant: ${tenant.companyName}`,
    tags: ['tenant', tenant.tenantId, tenant.tier],
    templating: { list: [{ name: 'namespace', type: 'constant', query: ns }] },
    panels: panels.map(([title, expr], index) => ({
      id: index + 1,
      title,
      type: 'timeseries',
      gridPos: { x: (index % 2) * 12, y: Math.floor(index / 2) * 8, w: 12, h: 8 },
      targets: [{ expr, refId: 'A' }],
    })),
    schemaVersion: 39,
  };
}

/** The dashboard for Grafana's sidecar (label `grafana_dashboard: "1"`), filed in the tenant's folder. */
export function dashboardConfigMap(tenant: TenantProfile, managedBy: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: 'tenant-dashboard',
      namespace: namespaceName(tenant.tenantId),
      labels: { ...labels(tenant, managedBy), grafana_dashboard: '1' },
      annotations: { grafana_folder: grafanaFolderUid(tenant.tenantId) },
    },
    data: { 'tenant-dashboard.json': JSON.stringify(dashboard(tenant, 'sidecar'), null, 2) },
  };
}

/** Spec 8.3, the three alerts word for word. */
export function prometheusRule(tenant: TenantProfile, managedBy: string): KubeObject {
  const id = tenant.tenantId;
  const ns = namespaceName(id);
  return {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: { name: 'tenant-alerts', namespace: ns, labels: labels(tenant, managedBy) },
    spec: {
      groups: [
        {
          name: `tenant-${id}`,
          interval: '30s',
          rules: [
            {
              alert: 'TauxErreurEleve',
              expr:
                `sum(rate(http_requests_total{namespace="${ns}",status=~"5.."}[5m])) /\n` +
                `sum(rate(http_requests_total{namespace="${ns}"}[5m])) > 0.05\n`,
              for: '5m',
              labels: { severity: 'warning', tenant: id },
              annotations: {
                summary: `Taux d'erreur eleve pour tenant ${id}`,
                description: "Taux d'erreur est {{ $value | humanizePercentage }}",
              },
            },
            {
              alert: 'UtilisationMemoireElevee',
              expr:
                `sum(container_memory_usage_bytes{namespace="${ns}"}) /\n` +
                `sum(kube_resourcequota{namespace="${ns}",resource="limits.memory"}) > 0.90\n`,
              for: '10m',
              labels: { severity: 'warning', tenant: id },
              annotations: {
                summary: `Utilisation memoire elevee pour tenant ${id}`,
                description: 'Utilisation memoire a {{ $value | humanizePercentage }} du quota',
              },
            },
            {
              alert: 'PodEnBoucleRedemarrage',
              expr: `rate(kube_pod_container_status_restarts_total{namespace="${ns}"}[15m]) > 0\n`,
              for: '5m',
              labels: { severity: 'critical', tenant: id },
              annotations: {
                summary: `Pod en boucle de redemarrage pour tenant ${id}`,
                description: 'Pod {{ $labels.pod }} est en boucle de redemarrage',
              },
            },
          ],
        },
      ],
    },
  };
}

export interface MonitoringFile {
  /** Path inside `tenants/<tenantId>/monitoring/`. */
  path: string;
  objects: KubeObject[];
}

export function monitoringFiles(tenant: TenantProfile, managedBy: string): MonitoringFile[] {
  return [
    { path: 'service-monitor.yaml', objects: [serviceMonitor(tenant, managedBy)] },
    { path: 'prometheus-rule.yaml', objects: [prometheusRule(tenant, managedBy)] },
    { path: 'grafana-dashboard.yaml', objects: [dashboardConfigMap(tenant, managedBy)] },
  ];
}

/** `monitoring/kustomization.yaml`: the k8s-service lists `monitoring/` in the tenant's root once it exists. */
export function monitoringKustomization(): string {
  return toYaml([
    {
      apiVersion: 'kustomize.config.k8s.io/v1beta1',
      kind: 'Kustomization',
      resources: ['service-monitor.yaml', 'prometheus-rule.yaml', 'grafana-dashboard.yaml'],
    },
  ]);
}
