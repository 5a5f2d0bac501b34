import { IMAGE_TAG_PATTERN } from '@app/contracts';
import { isDns1123Label, isLabelValue, isQualifiedKey } from '@app/kube';
import { loadConfig } from '@app/platform';
import { z } from 'zod';
import { isCanonicalIpv4Cidr } from './network-policy';
import { DEFAULT_RENDER_OPTIONS, type RenderOptions } from './render-options';

/**
 * The k8s-service's server-side apply field manager, and so the `managed-by` label of what it applies directly:
 * here so a plan computed outside the service labels the objects as the service does.
 */
export const K8S_SERVICE_FIELD_MANAGER = 'provisioning-k8s-service';
/** The monitoring-service's field manager, and so the `managed-by` label of the monitoring objects it applies. */
export const MONITORING_SERVICE_FIELD_MANAGER = 'provisioning-monitoring-service';

const NETWORK = DEFAULT_RENDER_OPTIONS.network;

function listEntries(raw: string): string[] {
  return raw
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0);
}

/** Comma-separated canonical IPv4 CIDRs; an entry with host bits set or a /0 is refused, never rounded. */
const cidrList = (fallback: readonly string[]) =>
  z
    .string()
    .default(fallback.join(','))
    .transform((raw, ctx) => {
      const entries = listEntries(raw);
      const invalid = entries.filter((entry) => !isCanonicalIpv4Cidr(entry));
      if (invalid.length > 0) {
        ctx.addIssue({
          code: 'custom',
          message: `not canonical IPv4 CIDRs (a.b.c.d/n, n 1-32, no host bits set): ${invalid.join(', ')}`,
        });
        return z.NEVER;
      }
      return entries;
    });

/** Comma-separated `key=value` label pairs, at least one (an empty selector would match every pod). */
const labelPairs = (fallback: Record<string, string>) =>
  z
    .string()
    .default(
      Object.entries(fallback)
        .map(([key, value]) => `${key}=${value}`)
        .join(','),
    )
    .transform((raw, ctx) => {
      const pairs = listEntries(raw).map((entry) => {
        const equals = entry.indexOf('=');
        return equals > 0 ? [entry.slice(0, equals), entry.slice(equals + 1)] : [entry, ''];
      });
      const invalid = pairs.filter(
        ([key, value]) => !isQualifiedKey(key) || value === '' || !isLabelValue(value),
      );
      if (pairs.length === 0 || invalid.length > 0) {
        ctx.addIssue({
          code: 'custom',
          message: `must be key=value label pairs, comma-separated, at least one${
            invalid.length > 0 ? `; invalid: ${invalid.map((pair) => pair.join('=')).join(', ')}` : ''
          }`,
        });
        return z.NEVER;
      }
      return Object.fromEntries(pairs) as Record<string, string>;
    });

/** A DNS-1123 label: what the API server requires of a namespace, and Argo CD of an AppProject name. */
const dns1123Label = (fallback: string, what = 'a namespace name') =>
  z
    .string()
    .default(fallback)
    .refine(isDns1123Label, { message: `must be ${what} (DNS-1123 label: a-z0-9-, at most 63)` });

const SCP_LIKE =
  /^[A-Za-z0-9][A-Za-z0-9._-]*@[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?:[A-Za-z0-9._~][A-Za-z0-9._~/-]*$/;

/**
 * Why Argo CD would refuse or mis-read a repository URL, or `undefined` when it is one of the forms Argo CD
 * takes: `https://host/path`, `ssh://[user@]host[:port]/path` or scp-like `user@host:path`. A URL carrying a
 * password or token is refused: it would be committed to Git (the AppProject, every Application); credentials
 * go in Argo CD's repository Secret. The message never repeats the URL.
 */
export function repoUrlProblem(url: string): string | undefined {
  const forms = 'must be https://host/path, ssh://[user@]host[:port]/path or user@host:path';
  if (url.length === 0 || /\s/.test(url)) return forms;
  if (SCP_LIKE.test(url)) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return forms;
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'ssh:') return forms;
  if (parsed.password || (parsed.protocol === 'https:' && parsed.username)) {
    return 'must not carry credentials (it is committed to Git): give Argo CD a repository Secret instead';
  }
  if (!parsed.hostname || parsed.pathname.replace(/\//g, '') === '' || parsed.search || parsed.hash) {
    return forms;
  }
  return undefined;
}

/** A branch, tag or commit as `targetRevision`: git ref characters only, no `..`. */
export function isGitRevision(revision: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9._/-]{0,254}$/.test(revision) && !revision.includes('..');
}

/**
 * The environment variables the tenant objects are rendered with. The k8s-service reads them to render what it
 * delivers; the API and tenantctl read the same ones to render what-if plans, so a deployment that gives every
 * process the same values gets plans showing exactly what the service would apply.
 */
export const TENANT_RENDER_ENV = {
  /** `gitops` (spec 2.1/6.1: commit for Argo CD) or `direct` (server-side apply); sets `managed-by`. */
  K8S_DELIVERY: z.enum(['gitops', 'direct']).default('gitops'),
  /** The monitoring-service's delivery, which sets the monitoring objects' `managed-by` (the same choices). */
  MONITORING_DELIVERY: z.enum(['gitops', 'direct']).default('gitops'),
  IMAGE_TAG: z
    .string()
    .regex(IMAGE_TAG_PATTERN, { message: `must be an OCI tag (${IMAGE_TAG_PATTERN})` })
    .default(DEFAULT_RENDER_OPTIONS.imageTag),
  IMAGE_REPOSITORY: z
    .string()
    .regex(/^[a-z0-9]+([._/-][a-z0-9]+)*$/, {
      message: 'must be an image repository (lowercase a-z0-9 segments joined by . _ / -)',
    })
    .default(DEFAULT_RENDER_OPTIONS.imageRepository),
  /**
   * The manifests repository as Argo CD reaches it. Unset, the spec's example URL, for local runs only (the
   * k8s-service requires it under NODE_ENV=production with gitops delivery).
   */
  ARGOCD_REPO_URL: z
    .string()
    .superRefine((url, ctx) => {
      const problem = repoUrlProblem(url);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .optional(),
  ARGOCD_REVISION: z
    .string()
    .default(DEFAULT_RENDER_OPTIONS.gitRevision)
    .refine(isGitRevision, { message: 'must be a branch, tag or commit (A-Za-z0-9._/-, no "..")' }),
  ARGOCD_PROJECT: dns1123Label(DEFAULT_RENDER_OPTIONS.argoProject, 'an AppProject name'),
  ARGOCD_NAMESPACE: dns1123Label(DEFAULT_RENDER_OPTIONS.argoNamespace, 'a namespace name'),
  ARGOCD_MODE: z.enum(['applicationset', 'application']).default(DEFAULT_RENDER_OPTIONS.argoMode),
  CREDENTIALS_MODE: z.enum(['external-secret', 'secret']).default(DEFAULT_RENDER_OPTIONS.credentialsMode),
  /** The ClusterSecretStore the ExternalSecrets name (ESO's kubernetes provider; bootstrap objects). */
  CLUSTER_SECRET_STORE: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/, { message: 'must be a DNS-1123 subdomain' })
    .default(DEFAULT_RENDER_OPTIONS.clusterSecretStore),
  /** The namespace the services' Kubernetes secret store writes to, which that store reads. */
  CLUSTER_SECRET_STORE_NAMESPACE: dns1123Label(DEFAULT_RENDER_OPTIONS.secretStoreNamespace),
  // The cluster facts the tenant NetworkPolicies depend on (network-policy.ts); lists are comma-separated.
  NETWORK_POLICY_SHARED_NAMESPACE: dns1123Label(NETWORK.sharedNamespace),
  /** Set when MySQL, RabbitMQ or MinIO runs outside the cluster: the CIDRs replace the pod selector. */
  NETWORK_POLICY_MYSQL_CIDRS: cidrList(NETWORK.sharedCidrs.mysql),
  NETWORK_POLICY_RABBITMQ_CIDRS: cidrList(NETWORK.sharedCidrs.rabbitmq),
  NETWORK_POLICY_MINIO_CIDRS: cidrList(NETWORK.sharedCidrs.minio),
  NETWORK_POLICY_INGRESS_NAMESPACE: dns1123Label(NETWORK.ingressControllerNamespace),
  NETWORK_POLICY_INGRESS_POD_LABELS: labelPairs(NETWORK.ingressControllerPodLabels),
  NETWORK_POLICY_MONITORING_NAMESPACE: dns1123Label(NETWORK.monitoringNamespace),
  /** Excluded from the internet HTTPS rule, with NETWORK_POLICY_PRIVATE_CIDRS and link-local. */
  NETWORK_POLICY_POD_CIDRS: cidrList(NETWORK.podCidrs),
  NETWORK_POLICY_SERVICE_CIDRS: cidrList(NETWORK.serviceCidrs),
  NETWORK_POLICY_PRIVATE_CIDRS: cidrList(NETWORK.privateCidrs),
};

export const tenantRenderEnvSchema = z.object(TENANT_RENDER_ENV);

/** The render variables as parsed, from this schema or from an app schema that spreads `TENANT_RENDER_ENV`. */
export type TenantRenderEnv = z.infer<typeof tenantRenderEnvSchema>;

/** The render options the variables describe: the one mapping every process uses. */
export function renderOptionsFromEnv(config: TenantRenderEnv): RenderOptions {
  return {
    ...DEFAULT_RENDER_OPTIONS,
    imageTag: config.IMAGE_TAG,
    imageRepository: config.IMAGE_REPOSITORY,
    gitRepoUrl: config.ARGOCD_REPO_URL ?? DEFAULT_RENDER_OPTIONS.gitRepoUrl,
    gitRevision: config.ARGOCD_REVISION,
    argoProject: config.ARGOCD_PROJECT,
    argoNamespace: config.ARGOCD_NAMESPACE,
    argoMode: config.ARGOCD_MODE,
    credentialsMode: config.CREDENTIALS_MODE,
    clusterSecretStore: config.CLUSTER_SECRET_STORE,
    secretStoreNamespace: config.CLUSTER_SECRET_STORE_NAMESPACE,
    managedBy: config.K8S_DELIVERY === 'gitops' ? 'argocd' : K8S_SERVICE_FIELD_MANAGER,
    monitoringManagedBy:
      config.MONITORING_DELIVERY === 'gitops' ? 'argocd' : MONITORING_SERVICE_FIELD_MANAGER,
    network: {
      sharedNamespace: config.NETWORK_POLICY_SHARED_NAMESPACE,
      sharedCidrs: {
        mysql: config.NETWORK_POLICY_MYSQL_CIDRS,
        rabbitmq: config.NETWORK_POLICY_RABBITMQ_CIDRS,
        minio: config.NETWORK_POLICY_MINIO_CIDRS,
      },
      ingressControllerNamespace: config.NETWORK_POLICY_INGRESS_NAMESPACE,
      ingressControllerPodLabels: config.NETWORK_POLICY_INGRESS_POD_LABELS,
      monitoringNamespace: config.NETWORK_POLICY_MONITORING_NAMESPACE,
      podCidrs: config.NETWORK_POLICY_POD_CIDRS,
      serviceCidrs: config.NETWORK_POLICY_SERVICE_CIDRS,
      privateCidrs: config.NETWORK_POLICY_PRIVATE_CIDRS,
    },
  };
}

/** Reads and validates the render variables; throws `ConfigError` naming each bad one. */
export function loadRenderOptions(env: NodeJS.ProcessEnv): RenderOptions {
  return renderOptionsFromEnv(loadConfig(tenantRenderEnvSchema, env));
}
