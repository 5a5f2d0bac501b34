/** Rendering choices that are deployment configuration, not tenant data (from the app's config). */
export interface RenderOptions {
  /** Image tag of every tenant workload (spec 6.1 `newTag`). */
  imageTag: string;
  /** Image repository prefix (spec: `ecommerce/<name>`). */
  imageRepository: string;
  /**
   * The manifests repository as Argo CD reaches it (spec 2.1 `repoURL`; ARGOCD_REPO_URL): the source of every
   * tenant Application and the one repository the AppProject allows.
   */
  gitRepoUrl: string;
  /** Branch, tag or commit Argo CD syncs (`targetRevision`). */
  gitRevision: string;
  /** The AppProject of the tenant Applications, written to `bootstrap/` with the root Application. */
  argoProject: string;
  /** Namespace of Argo CD: the ApplicationSet, the Applications, the AppProject and the root Application. */
  argoNamespace: string;
  /** ApplicationSet with one list element per tenant (spec 2.1), or one Application per tenant. */
  argoMode: 'applicationset' | 'application';
  /** 4.3 / 5.3 credentials: ExternalSecret (values stay in the secret store) or plain Secret (direct mode only). */
  credentialsMode: 'external-secret' | 'secret';
  /** The ClusterSecretStore every ExternalSecret names (secret-store.ts renders it). */
  clusterSecretStore: string;
  /**
   * Where the services' KubernetesSecretStore writes (`SECRET_STORE_URL=kubernetes://<namespace>`): the
   * store's `remoteNamespace`, and the namespace of its reader ServiceAccount.
   */
  secretStoreNamespace: string;
  /** `managed-by` label value: `argocd` in GitOps mode (spec 2.1), the service's name when applied directly. */
  managedBy: string;
  /**
   * The same label on the monitoring objects (ServiceMonitor, PrometheusRule, dashboard), which the
   * monitoring-service delivers on its own (`MONITORING_DELIVERY`): `argocd`, or its field manager.
   */
  monitoringManagedBy: string;
  /** Where the tenant's NetworkPolicies let traffic go (network-policy.ts). */
  network: NetworkRenderOptions;
}

/** The cluster facts the tenant NetworkPolicies depend on. CIDRs are canonical IPv4 (`a.b.c.d/n`). */
export interface NetworkRenderOptions {
  /** Namespace of the shared MySQL, RabbitMQ and MinIO pods (`app: mysql|rabbitmq|minio`, spec 2.3). */
  sharedNamespace: string;
  /**
   * Per shared endpoint, CIDRs that replace the pod selector: for a database, broker or object store outside the
   * cluster (a managed service), which no pod or namespace selector can match. Empty: select the pods.
   */
  sharedCidrs: { mysql: string[]; rabbitmq: string[]; minio: string[] };
  ingressControllerNamespace: string;
  /** Labels of the ingress controller's pods, the only pods allowed to reach the api-gateway from outside. */
  ingressControllerPodLabels: Record<string, string>;
  /** Namespace whose pods (Prometheus) may scrape the metrics port of every tenant pod. */
  monitoringNamespace: string;
  /** The cluster's pod and Service CIDRs: never reached through the internet HTTPS rule. */
  podCidrs: string[];
  serviceCidrs: string[];
  /** Private, shared and link-local ranges the internet HTTPS rule excludes as well. */
  privateCidrs: string[];
}

export const DEFAULT_RENDER_OPTIONS: RenderOptions = {
  imageTag: 'v1.2.3',
  imageRepository: 'ecommerce',
  // The spec's example repository: local runs only (config.ts requires ARGOCD_REPO_URL in production).
  gitRepoUrl: 'https://github.com/company/e-commerce-manifests',
  gitRevision: 'HEAD',
  argoProject: 'tenants',
  argoNamespace: 'argocd',
  argoMode: 'applicationset',
  credentialsMode: 'external-secret',
  clusterSecretStore: 'tenant-secrets',
  secretStoreNamespace: 'e-commerce-shared',
  managedBy: 'argocd',
  monitoringManagedBy: 'argocd',
  network: {
    sharedNamespace: 'e-commerce-shared',
    sharedCidrs: { mysql: [], rabbitmq: [], minio: [] },
    ingressControllerNamespace: 'ingress-nginx',
    ingressControllerPodLabels: { 'app.kubernetes.io/name': 'ingress-nginx' },
    monitoringNamespace: 'monitoring',
    // kind's and flannel's pod CIDR, kubeadm's Service CIDR; real clusters set theirs.
    podCidrs: ['10.244.0.0/16'],
    serviceCidrs: ['10.96.0.0/12'],
    // RFC 1918, RFC 6598 (carrier-grade NAT, used by some pod networks) and link-local (cloud metadata).
    privateCidrs: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', '169.254.0.0/16'],
  },
};

/** Properties of each `<service>-db` secret (spec 3.3). */
export const DATABASE_SECRET_PROPERTIES = [
  ['DB_HOST', 'host'],
  ['DB_PORT', 'port'],
  ['DB_DATABASE', 'database'],
  ['DB_USERNAME', 'username'],
  ['DB_PASSWORD', 'password'],
] as const;
