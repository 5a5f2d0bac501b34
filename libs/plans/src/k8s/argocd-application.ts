import { type TenantProfile, argoApplicationName } from '@app/contracts';
import type { KubeObject } from '@app/kube';
import type { RenderOptions } from './render-options';

/** The tenant's Argo CD registration (spec 2.1): the ApplicationSet and its per-tenant element, or an Application. */

/** The cluster Argo CD runs in, as Argo CD names it. */
export const ARGOCD_IN_CLUSTER = 'https://kubernetes.default.svc';
/**
 * While an Application carries this finalizer, deleting it makes Argo CD delete the resources it synced first;
 * without it the tenant's namespace and workloads outlive the Application.
 */
export const ARGOCD_RESOURCES_FINALIZER = 'resources-finalizer.argocd.argoproj.io';

/**
 * A tenant's parameters for the ApplicationSet (spec 2.1's list element), committed as the tenant's own
 * `tenants/<id>/config.json`, which the git files generator reads: Argo CD flattens its keys into `{{tenant}}`,
 * `{{tier}}`, `{{domain}}`, `{{region}}`, exactly the parameters the list generator gave.
 */
export interface ApplicationSetElement {
  tenant: string;
  tier: string;
  domain: string;
  region: string;
}
export function applicationSetElement(tenant: TenantProfile): ApplicationSetElement {
  return { tenant: tenant.tenantId, tier: tenant.tier, domain: tenant.domain, region: tenant.region };
}

/** The file's name inside the tenant's tree; kustomize ignores it (the tree's kustomization never lists it). */
export const TENANT_REGISTRATION_FILE = 'config.json';
/** What the git files generator matches: one file per tenant, so a tenant's commit touches only its tree. */
export const TENANT_REGISTRATION_GLOB = `tenants/*/${TENANT_REGISTRATION_FILE}`;

/** `config.json`: the element's keys in a fixed order, so a re-registration writes the same bytes. */
export function renderTenantRegistration(element: ApplicationSetElement): string {
  const { tenant, tier, domain, region } = element;
  return `${JSON.stringify({ tenant, tier, domain, region }, null, 2)}\n`;
}

/**
 * The tenant's Application spec. The source has no tool block: Argo CD detects kustomize from the tree's
 * `kustomization.yaml`, while the spec's `helm` block would force Helm, which fails on a directory without
 * `Chart.yaml`. An empty `kustomize: {}` would change nothing (Argo CD normalises it away) and a filled one
 * would repeat the kustomization. The spec's helm parameters are what the kustomization already does:
 * TENANT_ID, TENANT_TIER and TENANT_DOMAIN in the generated `tenant-config` ConfigMap, the tenant and tier
 * labels, the images' tag.
 */
function applicationSpec(options: RenderOptions, tenant: string) {
  return {
    project: options.argoProject,
    source: { repoURL: options.gitRepoUrl, targetRevision: options.gitRevision, path: `tenants/${tenant}` },
    destination: { server: ARGOCD_IN_CLUSTER, namespace: `e-commerce-${tenant}` },
    // ApplyOutOfSyncOnly: a sync applies only what changed, so the migration Job (Force/Replace) is recreated
    // only when it changed itself, and a large tree is not re-applied whole on every commit.
    syncPolicy: {
      automated: { prune: true, selfHeal: true },
      syncOptions: ['CreateNamespace=true', 'ApplyOutOfSyncOnly=true'],
    },
  };
}

/**
 * Spec 2.1's ApplicationSet with a git files generator instead of the list: one Application per
 * `tenants/<id>/config.json`, so the object is the same whatever the fleet and a tenant is added or removed by its
 * own directory alone. The template is the list generator's, unchanged: fasttemplate (no `goTemplate`), where
 * `{{tenant}}` and `{{tier}}` are the config file's keys (the generator's own `{{path}}`, `{{path.basename}}`
 * parameters are not used). The name stays `tenant-applications`: renaming it would delete the old object and
 * with it every Application it owns.
 * The ApplicationSet controller adds the resources finalizer itself only while the template has no finalizers and
 * `preserveResourcesOnDeletion` is off; the template states it, so removing a tenant's config file prunes its
 * resources whatever that setting says.
 */
export function applicationSet(options: RenderOptions): KubeObject {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'ApplicationSet',
    metadata: { name: 'tenant-applications', namespace: options.argoNamespace },
    spec: {
      generators: [
        {
          git: {
            repoURL: options.gitRepoUrl,
            revision: options.gitRevision,
            files: [{ path: TENANT_REGISTRATION_GLOB }],
          },
        },
      ],
      template: {
        metadata: {
          name: 'tenant-{{tenant}}',
          labels: { tenant: '{{tenant}}', tier: '{{tier}}' },
          finalizers: [ARGOCD_RESOURCES_FINALIZER],
        },
        spec: applicationSpec(options, '{{tenant}}'),
      },
    },
  };
}

/** The alternative to the ApplicationSet: one Application per tenant, named as the spec's rollback deletes it. */
export function application(tenant: TenantProfile, options: RenderOptions): KubeObject {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: {
      name: argoApplicationName(tenant.tenantId),
      namespace: options.argoNamespace,
      labels: { tenant: tenant.tenantId, tier: tenant.tier },
      finalizers: [ARGOCD_RESOURCES_FINALIZER],
    },
    spec: applicationSpec(options, tenant.tenantId),
  };
}
