import { loadRenderOptions, MONITORING_SERVICE_FIELD_MANAGER, type RenderOptions } from '@app/plans';
import { OVERLAYS, deploymentOf, loadRendered, resolveEnv } from './rendered-manifests';

const OVERLAY_OPTIONS: Record<(typeof OVERLAYS)[number], Partial<RenderOptions>> = {
  production: {
    imageRepository: 'registry.example.com/ecommerce',
    managedBy: 'argocd',
    monitoringManagedBy: 'argocd',
  },
  local: {
    credentialsMode: 'secret',
    managedBy: 'provisioning-k8s-service',
    monitoringManagedBy: 'provisioning-monitoring-service',
  },
};

// What-if plans show what the k8s-service would apply only if the API renders with the service's options.
describe.each(OVERLAYS)('deploy/rendered/%s.yaml: the render variables', (overlay) => {
  const objects = loadRendered(overlay);
  const options = (app: 'k8s-service' | 'provisioning-api') =>
    loadRenderOptions(resolveEnv(objects, deploymentOf(objects, app)));

  // The monitoring objects are the monitoring-service's: the k8s-service never renders them.
  const withoutMonitoring = ({ monitoringManagedBy: _monitoring, ...rest }: RenderOptions) => rest;

  it("give the API the k8s-service's render options", () => {
    expect(withoutMonitoring(options('provisioning-api'))).toEqual(withoutMonitoring(options('k8s-service')));
  });

  it("label the plan's monitoring objects as the monitoring-service labels what it delivers", () => {
    const delivery = resolveEnv(objects, deploymentOf(objects, 'monitoring-service')).MONITORING_DELIVERY;
    expect(delivery).toMatch(/^(gitops|direct)$/);
    expect(options('provisioning-api').monitoringManagedBy).toBe(
      delivery === 'gitops' ? 'argocd' : MONITORING_SERVICE_FIELD_MANAGER,
    );
  });

  it("are the overlay's, not the builders' defaults", () => {
    expect({
      ...options('k8s-service'),
      monitoringManagedBy: options('provisioning-api').monitoringManagedBy,
    }).toMatchObject(OVERLAY_OPTIONS[overlay]);
  });
});
