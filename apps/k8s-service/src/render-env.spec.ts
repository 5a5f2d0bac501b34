import { CUSTOM_RENDER_ENV, DEFAULT_RENDER_OPTIONS, loadRenderOptions } from '@app/plans';
import { loadConfig } from '@app/platform';
import { FIELD_MANAGER } from './adapters/field-manager';
import { configSchema } from './config';
import { renderOptionsFrom } from './wiring';

// The API and tenantctl render what-if plans with `loadRenderOptions`: the service must render with the same.
describe('the k8s-service render options', () => {
  it("are the planners' from the same variables, set", () => {
    const options = renderOptionsFrom(loadConfig(configSchema, CUSTOM_RENDER_ENV));
    expect(options).toEqual(loadRenderOptions(CUSTOM_RENDER_ENV));
    expect(options).toMatchObject({
      imageRepository: CUSTOM_RENDER_ENV.IMAGE_REPOSITORY,
      imageTag: CUSTOM_RENDER_ENV.IMAGE_TAG,
      clusterSecretStore: CUSTOM_RENDER_ENV.CLUSTER_SECRET_STORE,
      managedBy: FIELD_MANAGER,
    });
    expect(options.network.ingressControllerNamespace).toBe(
      CUSTOM_RENDER_ENV.NETWORK_POLICY_INGRESS_NAMESPACE,
    );
  });

  it("are the planners' from the same variables, unset: the builders' defaults", () => {
    const options = renderOptionsFrom(loadConfig(configSchema, {}));
    expect(options).toEqual(loadRenderOptions({}));
    expect(options).toEqual(DEFAULT_RENDER_OPTIONS);
  });
});
