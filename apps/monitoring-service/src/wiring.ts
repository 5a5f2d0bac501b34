import { KubeClient, gitOpsConfigFrom, kubeConnectionFrom } from '@app/kube';
import type { ServiceRuntime } from '@app/platform';
import { createSecretStore, secretStoreKeys } from '@app/secrets';
import type { Logger } from 'pino';
import {
  DirectMonitoringDelivery,
  GitOpsMonitoringDelivery,
  type MonitoringDelivery,
} from './adapters/delivery';
import { GrafanaClient } from './adapters/grafana.client';
import { FIELD_MANAGER } from './adapters/field-manager';
import { grafanaCredentialsFrom, tenantDataSourceSettingsFrom, type MonitoringConfig } from './config';
import type { MonitoringHandlerDeps } from './commands';

export async function createServiceRuntime(
  config: MonitoringConfig,
  logger: Logger,
): Promise<ServiceRuntime<MonitoringHandlerDeps>> {
  const delivery: MonitoringDelivery =
    config.MONITORING_DELIVERY === 'gitops'
      ? new GitOpsMonitoringDelivery(gitOpsConfigFrom(config), logger)
      : new DirectMonitoringDelivery(new KubeClient(kubeConnectionFrom(config), FIELD_MANAGER));
  const grafana = new GrafanaClient(config.GRAFANA_URL, grafanaCredentialsFrom(config));
  const secrets = createSecretStore(config.SECRET_STORE_URL, secretStoreKeys(config));
  const deps: MonitoringHandlerDeps = {
    delivery,
    grafana,
    secrets,
    managedBy: config.MONITORING_DELIVERY === 'gitops' ? 'argocd' : FIELD_MANAGER,
    tenantDataSource: tenantDataSourceSettingsFrom(config),
    mainOrgId: config.GRAFANA_ORG_ID,
  };
  return {
    deps,
    async ready() {
      const [deliveryOk, grafanaOk] = await Promise.all([delivery.health(), grafana.health()]);
      if (!deliveryOk || !grafanaOk) logger.warn({ deliveryOk, grafanaOk }, 'monitoring-service not ready');
      return deliveryOk && grafanaOk;
    },
    async close() {
      await secrets.close?.();
    },
  };
}
