/** The resource types the API double serves, with what the real API server does differently per type. */

export interface ResourceType {
  group: string; // '' for core
  version: string;
  kind: string;
  plural: string;
  namespaced: boolean;
  /** Writes to the object never change `status` (only the `/status` subresource does). */
  statusSubresource: boolean;
}

export const RESOURCES: ResourceType[] = [
  {
    group: '',
    version: 'v1',
    kind: 'Namespace',
    plural: 'namespaces',
    namespaced: false,
    statusSubresource: true,
  },
  {
    group: '',
    version: 'v1',
    kind: 'ResourceQuota',
    plural: 'resourcequotas',
    namespaced: true,
    statusSubresource: true,
  },
  {
    group: '',
    version: 'v1',
    kind: 'LimitRange',
    plural: 'limitranges',
    namespaced: true,
    statusSubresource: false,
  },
  {
    group: '',
    version: 'v1',
    kind: 'Service',
    plural: 'services',
    namespaced: true,
    statusSubresource: true,
  },
  {
    group: '',
    version: 'v1',
    kind: 'ConfigMap',
    plural: 'configmaps',
    namespaced: true,
    statusSubresource: false,
  },
  { group: '', version: 'v1', kind: 'Secret', plural: 'secrets', namespaced: true, statusSubresource: false },
  { group: '', version: 'v1', kind: 'Pod', plural: 'pods', namespaced: true, statusSubresource: true },
  {
    group: 'apps',
    version: 'v1',
    kind: 'Deployment',
    plural: 'deployments',
    namespaced: true,
    statusSubresource: true,
  },
  {
    group: 'apps',
    version: 'v1',
    kind: 'ReplicaSet',
    plural: 'replicasets',
    namespaced: true,
    statusSubresource: true,
  },
  { group: 'batch', version: 'v1', kind: 'Job', plural: 'jobs', namespaced: true, statusSubresource: true },
  {
    group: 'networking.k8s.io',
    version: 'v1',
    kind: 'NetworkPolicy',
    plural: 'networkpolicies',
    namespaced: true,
    statusSubresource: false,
  },
  {
    group: 'networking.k8s.io',
    version: 'v1',
    kind: 'Ingress',
    plural: 'ingresses',
    namespaced: true,
    statusSubresource: true,
  },
  // Argo CD's CRDs declare no status subresource: its controller writes status with the object.
  {
    group: 'argoproj.io',
    version: 'v1alpha1',
    kind: 'Application',
    plural: 'applications',
    namespaced: true,
    statusSubresource: false,
  },
  {
    group: 'argoproj.io',
    version: 'v1alpha1',
    kind: 'ApplicationSet',
    plural: 'applicationsets',
    namespaced: true,
    statusSubresource: false,
  },
  {
    group: 'cert-manager.io',
    version: 'v1',
    kind: 'Certificate',
    plural: 'certificates',
    namespaced: true,
    statusSubresource: true,
  },
  {
    group: 'external-secrets.io',
    version: 'v1',
    kind: 'ExternalSecret',
    plural: 'externalsecrets',
    namespaced: true,
    statusSubresource: true,
  },
  {
    group: 'external-secrets.io',
    version: 'v1',
    kind: 'ClusterSecretStore',
    plural: 'clustersecretstores',
    namespaced: false,
    statusSubresource: true,
  },
  {
    group: 'cert-manager.io',
    version: 'v1',
    kind: 'ClusterIssuer',
    plural: 'clusterissuers',
    namespaced: false,
    statusSubresource: true,
  },
  {
    group: 'argoproj.io',
    version: 'v1alpha1',
    kind: 'AppProject',
    plural: 'appprojects',
    namespaced: true,
    statusSubresource: false,
  },
  {
    group: '',
    version: 'v1',
    kind: 'ServiceAccount',
    plural: 'serviceaccounts',
    namespaced: true,
    statusSubresource: false,
  },
  {
    group: 'rbac.authorization.k8s.io',
    version: 'v1',
    kind: 'Role',
    plural: 'roles',
    namespaced: true,
    statusSubresource: false,
  },
  {
    group: 'rbac.authorization.k8s.io',
    version: 'v1',
    kind: 'RoleBinding',
    plural: 'rolebindings',
    namespaced: true,
    statusSubresource: false,
  },
  {
    group: 'monitoring.coreos.com',
    version: 'v1',
    kind: 'ServiceMonitor',
    plural: 'servicemonitors',
    namespaced: true,
    statusSubresource: false,
  },
  {
    group: 'monitoring.coreos.com',
    version: 'v1',
    kind: 'PrometheusRule',
    plural: 'prometheusrules',
    namespaced: true,
    statusSubresource: false,
  },
];
export const NAMESPACE_TYPE = RESOURCES[0];

export function apiVersionOf(type: ResourceType): string {
  return type.group ? `${type.group}/${type.version}` : type.version;
}
