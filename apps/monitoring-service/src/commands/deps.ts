import type { SecretStore } from '@app/secrets';
import type { MonitoringDelivery } from '../adapters/delivery';
import type { GrafanaApi } from '../adapters/grafana.client';
import type { TenantDataSourceSettings } from '@app/plans';

/** What the monitoring-service's command handlers are constructed with (the `HANDLER_DEPS` provider). */
export interface MonitoringHandlerDeps {
  delivery: MonitoringDelivery;
  grafana: GrafanaApi;
  secrets: SecretStore;
  managedBy: string;
  /** How each tenant organisation's data source reaches Prometheus. */
  tenantDataSource: TenantDataSourceSettings;
  /** Grafana's main organisation (`GRAFANA_ORG_ID`), 1 by default. */
  mainOrgId?: number;
  /** 24 random bytes as base64url by default; injectable for tests. */
  generatePassword?: () => string;
}
