import type { KubeObject } from '@app/kube';
import {
  ARGOCD_IN_CLUSTER,
  ARGOCD_RESOURCES_FINALIZER,
  TENANT_REGISTRATION_FILE,
  applicationSet,
  type RenderOptions,
  KUSTOMIZATION,
  type ManifestFile,
  tenantTreeRoot,
  toYaml,
} from '@app/plans';
import { secretStoreBootstrapObjects } from './secret-store';

/**
 * What Argo CD needs from the manifests repository besides the tenant trees: the AppProject the tenant
 * Applications belong to, and a root Application (app of apps) that syncs the AppProject, itself and the
 * tenants' registration (the ApplicationSet, or one Application per tenant). An operator applies the root
 * Application once; everything else then comes from Git. Pure: paths and objects, no I/O.
 *
 * The root Application's source is `bootstrap/`, a kustomization that lists its own files and the registration
 * directory as another kustomization (`../applicationsets` or `../applications`): kustomize refuses a file
 * outside its root but accepts another kustomization directory, and one plain kustomize source renders on every
 * Argo CD version, where several `sources` would need multi-source support and a plain directory source cannot
 * reach a sibling directory.
 */

export const BOOTSTRAP_DIR = 'bootstrap';
export const APPLICATION_SET_DIR = 'applicationsets';
export const APPLICATIONS_DIR = 'applications';
export const APPLICATION_SET_FILE = `${APPLICATION_SET_DIR}/tenant-applications.yaml`;
export const ROOT_APPLICATION_NAME = 'tenant-bootstrap';
/**
 * Every Argo CD installation has the `default` project, and the root Application must exist before the
 * AppProject it syncs; it also writes into Argo CD's namespace, which the tenant project must not allow.
 */
export const ROOT_APPLICATION_PROJECT = 'default';

export function applicationFile(tenantId: string): string {
  tenantTreeRoot(tenantId); // validates the id before it becomes a path
  return `${APPLICATIONS_DIR}/tenant-${tenantId}.yaml`;
}

/** ApplicationSet mode: the tenant's `config.json`, the git files generator's input (manifests.ts). */
export function tenantRegistrationFile(tenantId: string): string {
  return `${tenantTreeRoot(tenantId)}/${TENANT_REGISTRATION_FILE}`;
}

/** The directory the root Application syncs besides `bootstrap/`: where tenants are registered. */
export function registrationDir(options: RenderOptions): string {
  return options.argoMode === 'application' ? APPLICATIONS_DIR : APPLICATION_SET_DIR;
}

/** An API group and kind, as an AppProject's resource lists name them (`''` is the core group). */
export interface GroupKind {
  group: string;
  kind: string;
}

/** The only cluster-scoped kind of a tenant tree (`namespace.yaml`). */
export const TENANT_CLUSTER_KINDS: readonly GroupKind[] = [{ group: '', kind: 'Namespace' }];

/**
 * Every namespaced kind a tenant tree holds: tenant-tree.ts's files (ConfigMap being kustomize's generated
 * `tenant-config`) and the monitoring-service's `monitoring/` (ServiceMonitor, PrometheusRule, the Grafana
 * dashboard ConfigMap). A kind missing here makes Argo CD refuse the whole sync, so the specs check both trees.
 */
export const TENANT_NAMESPACED_KINDS: readonly GroupKind[] = [
  { group: '', kind: 'ResourceQuota' },
  { group: '', kind: 'LimitRange' },
  { group: '', kind: 'ConfigMap' },
  { group: '', kind: 'Service' },
  { group: 'apps', kind: 'Deployment' },
  { group: 'batch', kind: 'Job' },
  { group: 'networking.k8s.io', kind: 'NetworkPolicy' },
  { group: 'networking.k8s.io', kind: 'Ingress' },
  { group: 'external-secrets.io', kind: 'ExternalSecret' },
  { group: 'cert-manager.io', kind: 'Certificate' },
  { group: 'monitoring.coreos.com', kind: 'ServiceMonitor' },
  { group: 'monitoring.coreos.com', kind: 'PrometheusRule' },
];

/** The API group of an object's `apiVersion` (`apps/v1` → `apps`, `v1` → the core group `''`). */
export function apiGroup(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}

/** Tenant namespaces are `e-commerce-<tenantId>` (contracts' namespaceName). */
export const TENANT_NAMESPACE_GLOB = 'e-commerce-*';

/**
 * The tenants' AppProject: only the manifests repository as a source, only tenant namespaces of this cluster as
 * destinations, only the kinds a tenant tree holds. The shared namespace matches the tenant glob when it keeps
 * the spec's `e-commerce-shared` name, so it is denied (a `!` destination, Argo CD 2.5 and later). The finalizer
 * keeps the project while an Application still refers to it.
 */
export function appProject(options: RenderOptions): KubeObject {
  const shared = options.network.sharedNamespace;
  const sharedMatchesGlob = shared.startsWith(TENANT_NAMESPACE_GLOB.slice(0, -1));
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'AppProject',
    metadata: {
      name: options.argoProject,
      namespace: options.argoNamespace,
      finalizers: [ARGOCD_RESOURCES_FINALIZER],
    },
    spec: {
      description: 'Tenant shops: tenants/<id> of the manifests repository into namespace e-commerce-<id>',
      sourceRepos: [options.gitRepoUrl],
      destinations: [
        { server: ARGOCD_IN_CLUSTER, namespace: TENANT_NAMESPACE_GLOB },
        ...(sharedMatchesGlob ? [{ server: ARGOCD_IN_CLUSTER, namespace: `!${shared}` }] : []),
      ],
      clusterResourceWhitelist: TENANT_CLUSTER_KINDS.map((entry) => ({ ...entry })),
      namespaceResourceWhitelist: TENANT_NAMESPACED_KINDS.map((entry) => ({ ...entry })),
    },
  };
}

/**
 * The app of apps. It carries no resources finalizer on purpose: deleting it must leave the AppProject and the
 * tenants' Applications (and so every tenant) in place. It prunes, so a tenant whose Application file leaves
 * Git (Application mode) loses its Application, whose own finalizer then prunes the tenant.
 */
export function rootApplication(options: RenderOptions): KubeObject {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: { name: ROOT_APPLICATION_NAME, namespace: options.argoNamespace },
    spec: {
      project: ROOT_APPLICATION_PROJECT,
      source: { repoURL: options.gitRepoUrl, targetRevision: options.gitRevision, path: BOOTSTRAP_DIR },
      destination: { server: ARGOCD_IN_CLUSTER, namespace: options.argoNamespace },
      syncPolicy: { automated: { prune: true, selfHeal: true } },
    },
  };
}

/**
 * The objects of `bootstrap/`, repository-relative: the AppProject, the root Application, and the
 * ClusterSecretStore every tenant ExternalSecret reads from, with its reader's RBAC.
 */
export function bootstrapFiles(options: RenderOptions): ManifestFile[] {
  return [
    { path: `${BOOTSTRAP_DIR}/app-project.yaml`, objects: [appProject(options)] },
    { path: `${BOOTSTRAP_DIR}/root-application.yaml`, objects: [rootApplication(options)] },
    { path: `${BOOTSTRAP_DIR}/secret-store.yaml`, objects: secretStoreBootstrapObjects(options) },
  ];
}

function kustomization(resources: string[]): string {
  return toYaml([{ apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resources }]);
}

/** `bootstrap/kustomization.yaml`: the bootstrap files, then the registration directory's kustomization. */
export function renderBootstrapKustomization(options: RenderOptions, files: readonly ManifestFile[]): string {
  const prefix = `${BOOTSTRAP_DIR}/`;
  return kustomization([
    ...files.map((file) => file.path.slice(prefix.length)),
    `../${registrationDir(options)}`,
  ]);
}

/**
 * The registration directory's `kustomization.yaml`, listing the registration files present (repository-relative
 * paths), sorted so the file is the same whatever the order of writes. It exists even with no tenant left: the
 * bootstrap kustomization refers to the directory.
 */
export function renderRegistrationKustomization(options: RenderOptions, present: readonly string[]): string {
  const prefix = `${registrationDir(options)}/`;
  const listed = present
    .filter((path) => path.startsWith(prefix) && path !== `${prefix}${KUSTOMIZATION}`)
    .map((path) => path.slice(prefix.length))
    .sort();
  return kustomization(listed);
}

/** A file to write at a repository-relative path. */
export interface RepositoryFile {
  path: string;
  content: string;
}

/** `bootstrap/` as files: its objects (from `files`, bootstrapFiles by default) and its kustomization. */
export function renderBootstrap(
  options: RenderOptions,
  files: readonly ManifestFile[] = bootstrapFiles(options),
): RepositoryFile[] {
  return [
    ...files.map((file) => ({ path: file.path, content: toYaml(file.objects) })),
    { path: `${BOOTSTRAP_DIR}/${KUSTOMIZATION}`, content: renderBootstrapKustomization(options, files) },
  ];
}

/**
 * ApplicationSet mode's registration directory, the same for every fleet: the ApplicationSet and its
 * kustomization. Application mode has none (its directory holds one file per tenant).
 */
export function renderApplicationSetRegistration(options: RenderOptions): RepositoryFile[] {
  if (options.argoMode === 'application') return [];
  return [
    { path: APPLICATION_SET_FILE, content: toYaml([applicationSet(options)]) },
    {
      path: `${APPLICATION_SET_DIR}/${KUSTOMIZATION}`,
      content: renderRegistrationKustomization(options, [APPLICATION_SET_FILE]),
    },
  ];
}

// Validators of the Argo CD settings, shared with the API and tenantctl through the render variables.
export { isGitRevision, repoUrlProblem } from '@app/plans';
