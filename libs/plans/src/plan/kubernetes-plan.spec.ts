import { MONITORING_DIR } from '../k8s/tenant-tree';
import {
  K8S_SERVICE_FIELD_MANAGER,
  loadRenderOptions,
  MONITORING_SERVICE_FIELD_MANAGER,
} from '../k8s/render-env';
import { abcCorporation } from '../testing/fixtures';
import { currentTreeFiles } from './kubernetes-plan';

/** `managed-by` of every object of the tree, by whether its file is the monitoring-service's. */
function managedBy(env: Record<string, string>): { monitoring: string[]; rest: string[] } {
  const files = currentTreeFiles({
    tenant: abcCorporation(),
    options: loadRenderOptions(env),
    suspended: false,
  });
  const labels = (monitoring: boolean) => [
    ...new Set(
      files
        .filter((file) => file.path.startsWith(MONITORING_DIR) === monitoring)
        .flatMap((file) => file.objects.map((object) => object.metadata?.labels?.['managed-by'] ?? 'none')),
    ),
  ];
  return { monitoring: labels(true), rest: labels(false) };
}

describe("the tenant's tree a plan starts from", () => {
  it("labels the monitoring objects by the monitoring-service's delivery, the others by the k8s-service's", () => {
    expect(managedBy({})).toEqual({ monitoring: ['argocd'], rest: ['argocd'] });
    expect(managedBy({ K8S_DELIVERY: 'direct' })).toEqual({
      monitoring: ['argocd'],
      rest: [K8S_SERVICE_FIELD_MANAGER],
    });
    expect(managedBy({ MONITORING_DELIVERY: 'direct' })).toEqual({
      monitoring: [MONITORING_SERVICE_FIELD_MANAGER],
      rest: ['argocd'],
    });
  });
});
