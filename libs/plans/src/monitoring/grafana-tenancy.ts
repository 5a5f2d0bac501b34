import { grafanaFolderUid, namespaceName } from '@app/contracts';

/**
 * Grafana isolation. In Grafana OSS any member of an organisation can query every data source of that
 * organisation, whatever the folder permissions say, so each tenant gets its own organisation whose only data
 * source reaches Prometheus through a label-enforcing proxy (prom-label-proxy) pinned to the tenant's namespace.
 */

/** Where the tenant's queries go and how the proxy learns the namespace to enforce. */
export interface TenantDataSourceSettings {
  /** The proxy's URL; `{namespace}` in it, if any, becomes the tenant's namespace. */
  urlTemplate: string;
  /**
   * The header prom-label-proxy reads the label value from (`-header-name`), or '' for none. Grafana sets a
   * data source's custom headers itself, replacing any a viewer sends through its data source proxy, whereas a
   * query parameter can be repeated by the viewer, and prom-label-proxy takes every value it is given.
   */
  header: string;
}

export const NAMESPACE_PLACEHOLDER = '{namespace}';
/** One data source per tenant organisation, so a fixed uid. */
export const TENANT_DATASOURCE_UID = 'tenant-prometheus';

/** The tenant's organisation, named after the tenant id (Grafana organisation names are unique). */
export function grafanaOrgName(tenantId: string): string {
  return grafanaFolderUid(tenantId);
}

export interface GrafanaDataSource {
  uid: string;
  name: string;
  type: 'prometheus';
  access: 'proxy';
  url: string;
  isDefault: true;
  jsonData: Record<string, string>;
  secureJsonData: Record<string, string>;
}

/**
 * The tenant organisation's default data source (the dashboard's panels name none, so they use it).
 * Grafana keeps custom header values in `secureJsonData` (`httpHeaderName1` / `httpHeaderValue1`).
 */
export function tenantDataSource(tenantId: string, settings: TenantDataSourceSettings): GrafanaDataSource {
  const namespace = namespaceName(tenantId);
  return {
    uid: TENANT_DATASOURCE_UID,
    name: 'Prometheus',
    type: 'prometheus',
    access: 'proxy',
    url: settings.urlTemplate.split(NAMESPACE_PLACEHOLDER).join(encodeURIComponent(namespace)),
    isDefault: true,
    jsonData: { httpMethod: 'POST', ...(settings.header ? { httpHeaderName1: settings.header } : {}) },
    secureJsonData: settings.header ? { httpHeaderValue1: namespace } : {},
  };
}
