/** Rendering choices that are deployment configuration, not tenant data (from the app's config). */
export interface RenderOptions {
  /** Image tag of every tenant workload (spec 6.1 `newTag`). */
  imageTag: string;
  /** Image repository prefix (spec: `ecommerce/<name>`). */
  imageRepository: string;
  /** GitOps repository Argo CD reads (spec 2.1 `repoURL`). */
  gitRepoUrl: string;
  gitRevision: string;
  argoProject: string;
  argoNamespace: string;
  /**
   * `helm`: the spec's template with helm parameters, word for word. `kustomize`: the same without the helm
   * block. Argo CD treats a source with a `helm` block as a Helm chart, and `tenants/<id>` is a kustomize tree,
   * so `kustomize` is what syncs on a real Argo CD; `helm` stays the default because the spec says so.
   */
  argoSourceType: 'helm' | 'kustomize';
  /** ApplicationSet with one list element per tenant (spec 2.1), or one Application per tenant. */
  argoMode: 'applicationset' | 'application';
  /** 4.3 / 5.3 credentials: ExternalSecret (values stay in the secret store) or plain Secret (direct mode only). */
  credentialsMode: 'external-secret' | 'secret';
  clusterSecretStore: string;
  /** `managed-by` label value: `argocd` in GitOps mode (spec 2.1), the service's name when applied directly. */
  managedBy: string;
}

export const DEFAULT_RENDER_OPTIONS: RenderOptions = {
  imageTag: 'v1.2.3',
  imageRepository: 'ecommerce',
  gitRepoUrl: 'https://github.com/company/e-commerce-manifests',
  gitRevision: 'HEAD',
  argoProject: 'tenants',
  argoNamespace: 'argocd',
  argoSourceType: 'helm',
  argoMode: 'applicationset',
  credentialsMode: 'external-secret',
  clusterSecretStore: 'aws-secrets-manager',
  managedBy: 'argocd',
};

/** Properties of each `<service>-db` secret (spec 3.3). */
export const DATABASE_SECRET_PROPERTIES = [
  ['DB_HOST', 'host'],
  ['DB_PORT', 'port'],
  ['DB_DATABASE', 'database'],
  ['DB_USERNAME', 'username'],
  ['DB_PASSWORD', 'password'],
] as const;
