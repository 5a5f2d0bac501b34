import { COMMAND_CATALOG } from '@app/contracts';
import type { CommandHandlers } from '@app/platform';
import { InMemorySecretStore, SecretStoreError } from '@app/secrets';
import { runner } from '@app/testing';
import type { MonitoringDelivery } from '../adapters/delivery';
import type { GrafanaApi } from '../adapters/grafana.client';
import { testTenant } from '../testing/fixtures';
import { createHandlers, MONITORING_COMMAND_HANDLERS } from '.';

function handlersWith(secrets: InMemorySecretStore): CommandHandlers {
  // Only reached once the secret store answered: every Grafana call finds nothing and succeeds.
  const grafana = {
    findUser: async () => undefined,
    findOrg: async () => undefined,
    deleteDashboard: async () => undefined,
    deleteFolder: async () => undefined,
  } as unknown as GrafanaApi;
  return createHandlers({
    delivery: {} as MonitoringDelivery,
    grafana,
    secrets,
    managedBy: 'argocd',
    tenantDataSource: { urlTemplate: 'http://prom-label-proxy:8080', header: 'X-Namespace' },
  });
}

describe('monitoring-service command handlers', () => {
  it('has one @MessagePattern handler class for each command the catalog gives the service', () => {
    const owned = Object.entries(COMMAND_CATALOG)
      .filter(([, entry]) => entry.service === 'monitoring')
      .map(([type]) => type)
      .sort();
    expect(MONITORING_COMMAND_HANDLERS).toHaveLength(owned.length);
    expect(Object.keys(handlersWith(new InMemorySecretStore())).sort()).toEqual(owned);
  });

  it('classifies secret-store failures as @app/secrets does for every service', async () => {
    const secrets = new InMemorySecretStore();
    const run = runner(handlersWith(secrets));
    const tenant = testTenant('0a1b2c');
    jest.spyOn(secrets, 'putIfAbsent').mockRejectedValueOnce(new Error('connect ECONNREFUSED'));
    await expect(run('CreateGrafanaViewer', tenant, {})).rejects.toMatchObject({
      code: 'MONITORING.SECRET_STORE_UNAVAILABLE',
      retryable: true,
    });
    jest
      .spyOn(secrets, 'delete')
      .mockRejectedValueOnce(new SecretStoreError('SECRETS.DECRYPTION_FAILED', 'no key decrypts it'));
    await expect(run('RemoveGrafanaViewer', tenant, {})).rejects.toMatchObject({
      code: 'SECRETS.DECRYPTION_FAILED',
      retryable: false,
    });
  });
});
