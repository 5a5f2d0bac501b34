import { KubeClient, gitOpsConfigFrom, kubeConnectionFrom } from '@app/kube';
import type { ServiceRuntime } from '@app/platform';
import { createSecretStore, secretStoreKeys } from '@app/secrets';
import type { Logger } from 'pino';
import { DirectDriver } from './adapters/direct.driver';
import type { DeliveryDriver } from './adapters/delivery.port';
import { GitOpsDriver } from './adapters/gitops.driver';
import { FIELD_MANAGER } from './adapters/field-manager';
import { httpProbe } from './adapters/http-probe';
import type { K8sHandlerDeps } from './commands';
import type { K8sConfig } from './config';
import { renderOptionsFromEnv, type RenderOptions } from '@app/plans';

/** The service's render options: the same mapping of the same variables the API and tenantctl plan with. */
export function renderOptionsFrom(config: K8sConfig): RenderOptions {
  return renderOptionsFromEnv(config);
}

export async function createServiceRuntime(
  config: K8sConfig,
  logger: Logger,
): Promise<ServiceRuntime<K8sHandlerDeps>> {
  const options = renderOptionsFrom(config);
  // In a pod, the service account's in-cluster configuration (KubeConfig.loadFromDefault) reaches the cluster.
  const inCluster = Boolean(process.env.KUBERNETES_SERVICE_HOST);
  const clusterConfigured = Boolean(
    config.KUBE_API_SERVER || config.KUBECONFIG || inCluster || config.K8S_DELIVERY === 'direct',
  );
  const client = clusterConfigured ? new KubeClient(kubeConnectionFrom(config), FIELD_MANAGER) : undefined;
  const driver: DeliveryDriver =
    config.K8S_DELIVERY === 'gitops'
      ? new GitOpsDriver(gitOpsConfigFrom(config), options, logger)
      : new DirectDriver(
          client!,
          { namespaceDeleteTimeoutMs: config.NAMESPACE_DELETE_TIMEOUT_MS, pollIntervalMs: 1000 },
          logger,
        );
  const secrets =
    config.CREDENTIALS_MODE === 'secret'
      ? createSecretStore(config.SECRET_STORE_URL, secretStoreKeys(config))
      : undefined;
  const deps: K8sHandlerDeps = {
    driver,
    options,
    cluster: client,
    secrets,
    probe: httpProbe,
    verify: {
      timeoutMs: config.VERIFY_TIMEOUT_MS,
      intervalMs: config.VERIFY_INTERVAL_MS,
      healthBaseUrl: config.TENANT_HEALTH_BASE_URL,
      trustCommit: config.K8S_VERIFY_TRUST_COMMIT,
    },
    purge: { timeoutMs: config.NAMESPACE_DELETE_TIMEOUT_MS, intervalMs: 1000 },
  };
  return {
    deps,
    async ready() {
      const ok = await driver.health();
      if (!ok) logger.warn({ mode: driver.mode }, 'k8s-service not ready');
      return ok;
    },
    async close() {
      await driver.close?.();
      await secrets?.close?.();
    },
  };
}
