import { type TenantProfile, namespaceName } from '@app/contracts';
import { stringify } from 'yaml';
import type { KubeObject } from '@app/kube';
import {
  TENANT_CONFIG,
  TENANT_REGISTRATION_FILE,
  certificate,
  commonLabels,
  deployments,
  externalSecrets,
  imageName,
  ingress,
  limitRange,
  markedNamespace,
  migrationJob,
  resourceQuota,
  services,
  tenantConfigLiterals,
  withReplicas,
  workloadNames,
} from './manifests';
import { networkPolicies } from './network-policy';
import type { RenderOptions } from './render-options';

/**
 * The kustomize tree `tenants/<tenantId>/` of spec 6.1, as files. Each provisioning step owns some files;
 * the two `kustomization.yaml` indexes are recomputed from the files present, so the steps can land in any
 * order and a re-run renders byte-identical content.
 */

/** A file of the tree: its path inside `tenants/<tenantId>/` and the objects it holds. */
export interface ManifestFile {
  path: string;
  objects: KubeObject[];
}

export const KUSTOMIZATION = 'kustomization.yaml';
export const SERVICES_DIR = 'services/';
export const MONITORING_DIR = 'monitoring/';

export function tenantTreeRoot(tenantId: string): string {
  namespaceName(tenantId); // validates the id before it becomes a path
  return `tenants/${tenantId}`;
}

export function deploymentPath(name: string): string {
  return `deployments/${name}.yaml`;
}
export function servicePath(name: string): string {
  return `${SERVICES_DIR}${name}.yaml`;
}

/** Spec 2.1-2.3: what ProvisionNamespace owns. */
export function namespaceFiles(
  tenant: TenantProfile,
  options: RenderOptions,
  marks?: { deprovisioningDate: string; deletionDate: string },
): ManifestFile[] {
  return [
    { path: 'namespace.yaml', objects: [markedNamespace(tenant, options, marks)] },
    { path: 'resource-quota.yaml', objects: [resourceQuota(tenant, options)] },
    { path: 'limit-range.yaml', objects: [limitRange(tenant, options)] },
    { path: 'network-policy.yaml', objects: networkPolicies(tenant, options) },
  ];
}

/** Spec 3.2, 3.3, 4.3, 5.3, 6.2: what DeployWorkloads owns. `suspended` renders every Deployment at 0 replicas. */
export function workloadFiles(
  tenant: TenantProfile,
  options: RenderOptions,
  suspended = false,
): ManifestFile[] {
  const rendered = suspended ? withReplicas(deployments(tenant, options), 0) : deployments(tenant, options);
  return [
    { path: 'external-secrets.yaml', objects: externalSecrets(tenant, options) },
    ...rendered.map((object) => ({ path: deploymentPath(object.metadata.name), objects: [object] })),
    ...services(tenant, options).map((object) => ({
      path: servicePath(object.metadata.name),
      objects: [object],
    })),
    { path: 'migration-job.yaml', objects: [migrationJob(tenant, options)] },
  ];
}

/** Spec 7.1, 7.2: what ConfigureIngress owns. */
export function ingressFiles(tenant: TenantProfile, options: RenderOptions): ManifestFile[] {
  return [
    { path: 'certificate.yaml', objects: [certificate(tenant, options)] },
    { path: 'ingress.yaml', objects: [ingress(tenant, options)] },
  ];
}

/** The spec's resources order, then the files it does not list (certificate, migration job, monitoring). */
function resourceOrder(): string[] {
  return [
    'namespace.yaml',
    'resource-quota.yaml',
    'limit-range.yaml',
    'network-policy.yaml',
    'external-secrets.yaml',
    ...workloadNames().map(deploymentPath),
    SERVICES_DIR,
    'ingress.yaml',
    'certificate.yaml',
    'migration-job.yaml',
    MONITORING_DIR,
  ];
}

/**
 * `kustomization.yaml` (spec 6.1) for the files present. A directory entry is listed when its own
 * kustomization exists (`services/kustomization.yaml`, `monitoring/kustomization.yaml`).
 */
export function renderKustomization(
  tenant: TenantProfile,
  options: RenderOptions,
  present: ReadonlySet<string>,
): string {
  const listed = resourceOrder().filter((entry) =>
    entry.endsWith('/') ? present.has(`${entry}${KUSTOMIZATION}`) : present.has(entry),
  );
  const labels = commonLabels(tenant, options);
  const document = {
    apiVersion: 'kustomize.config.k8s.io/v1beta1',
    kind: 'Kustomization',
    namespace: namespaceName(tenant.tenantId),
    commonLabels: { tenant: labels.tenant, 'managed-by': labels['managed-by'] },
    // `tier` changes with UpdateQuota; commonLabels would copy it into Deployment and Service selectors, and a
    // Deployment's selector is immutable, so Argo CD's sync would fail. `labels` puts it on every object and
    // pod template without touching selectors.
    labels: [{ pairs: { tier: labels.tier }, includeSelectors: false, includeTemplates: true }],
    resources: listed,
    images: workloadNames().map((name) => ({ name: imageName(options, name), newTag: options.imageTag })),
    configMapGenerator: [
      {
        name: TENANT_CONFIG,
        literals: tenantConfigLiterals(tenant).map(([key, value]) => `${key}=${value}`),
      },
    ],
  };
  return toYaml([document]);
}

/** `services/kustomization.yaml`: the Service files present, in workload order. */
export function renderServicesKustomization(present: ReadonlySet<string>): string | undefined {
  const files = workloadNames()
    .map(servicePath)
    .filter((path) => present.has(path))
    .map((path) => path.slice(SERVICES_DIR.length));
  if (files.length === 0) return undefined;
  return toYaml([{ apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resources: files }]);
}

/**
 * The two indexes for a set of present paths (tree-relative). Returns the content of each index, or
 * `null` when the index must not exist (nothing left to list). The Argo CD registration file is no resource.
 */
export function renderIndexes(
  tenant: TenantProfile,
  options: RenderOptions,
  present: ReadonlySet<string>,
): Record<string, string | null> {
  const withoutIndexes = new Set(
    [...present].filter(
      (path) =>
        path !== KUSTOMIZATION &&
        path !== `${SERVICES_DIR}${KUSTOMIZATION}` &&
        path !== TENANT_REGISTRATION_FILE,
    ),
  );
  const servicesIndex = renderServicesKustomization(withoutIndexes);
  if (servicesIndex) withoutIndexes.add(`${SERVICES_DIR}${KUSTOMIZATION}`);
  const hasResources = withoutIndexes.size > 0;
  return {
    [`${SERVICES_DIR}${KUSTOMIZATION}`]: servicesIndex ?? null,
    [KUSTOMIZATION]: hasResources ? renderKustomization(tenant, options, withoutIndexes) : null,
  };
}

/** Deterministic multi-document YAML (no line folding, so long PromQL and commands stay on one line). */
export function toYaml(documents: unknown[]): string {
  return documents.map((document) => stringify(document, { lineWidth: 0 })).join('---\n');
}

export function fileContent(file: ManifestFile): string {
  return toYaml(file.objects);
}
