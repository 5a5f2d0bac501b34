import { loadRenderOptions, type RenderOptions } from '@app/plans';
import { OVERLAYS, deploymentOf, loadRendered, resolveEnv } from './rendered-manifests';

const OVERLAY_OPTIONS: Record<(typeof OVERLAYS)[number], Partial<RenderOptions>> = {
  production: { imageRepository: 'registry.example.com/ecommerce', managedBy: 'argocd' },
  local: { credentialsMode: 'secret', managedBy: 'provisioning-k8s-service' },
};

// What-if plans show what the k8s-service would apply only if the API renders with the service's options.
describe.each(OVERLAYS)('deploy/rendered/%s.yaml: the render variables', (overlay) => {
  const objects = loadRendered(overlay);
  const options = (app: 'k8s-service' | 'provisioning-api') =>
    loadRenderOptions(resolveEnv(objects, deploymentOf(objects, app)));

  it("give the API the k8s-service's render options", () => {
    expect(options('provisioning-api')).toEqual(options('k8s-service'));
  });

  it("are the overlay's, not the builders' defaults", () => {
    expect(options('k8s-service')).toMatchObject(OVERLAY_OPTIONS[overlay]);
  });
});
