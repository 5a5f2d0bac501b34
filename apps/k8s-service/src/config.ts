import { gitOpsEnv, isDns1123Label, isLabelValue, isQualifiedKey, kubeEnv } from '@app/kube';
import { envBoolean } from '@app/platform';
import { SECRET_STORE_ENV } from '@app/secrets';
import { z } from 'zod';
import { isCanonicalIpv4Cidr } from './domain/network-policy';
import { isGitRevision, repoUrlProblem } from './domain/argocd-bootstrap';
import { DEFAULT_RENDER_OPTIONS } from './domain/render-options';

const int = (fallback: number) => z.coerce.number().int().positive().default(fallback);

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

export const configSchema = z
  .object({
    /** `gitops` (spec 2.1/6.1: commit for Argo CD) or `direct` (server-side apply). */
    K8S_DELIVERY: z.enum(['gitops', 'direct']).default('gitops'),
    ...gitOpsEnv('k8s-service'),
    ...kubeEnv(),
    /**
     * GitOps mode without a reachable cluster: VerifyKubernetes trusts the commit (and says so in its outputs).
     * Off by default: a tenant is not declared healthy unless its namespace, pods and Argo CD application were
     * observed, or someone chose to trust the commit.
     */
    K8S_VERIFY_TRUST_COMMIT: envBoolean(false),
    /** Base URL for the tenant's `/health` check (local runs); default `https://<domain>`. */
    TENANT_HEALTH_BASE_URL: z.string().url().optional(),
    VERIFY_TIMEOUT_MS: int(240000),
    VERIFY_INTERVAL_MS: int(5000),
    NAMESPACE_DELETE_TIMEOUT_MS: int(120000),
    IMAGE_TAG: z
      .string()
      .regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/)
      .default('v1.2.3'),
    IMAGE_REPOSITORY: z
      .string()
      .regex(/^[a-z0-9]+([._/-][a-z0-9]+)*$/)
      .default('ecommerce'),
    /**
     * The manifests repository as Argo CD reaches it. Unset, the spec's example URL, for local runs only: under
     * NODE_ENV=production with K8S_DELIVERY=gitops it is required (refinement below).
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
      .default('HEAD')
      .refine(isGitRevision, { message: 'must be a branch, tag or commit (A-Za-z0-9._/-, no "..")' }),
    ARGOCD_PROJECT: dns1123Label('tenants', 'an AppProject name'),
    ARGOCD_NAMESPACE: dns1123Label('argocd', 'a namespace name'),
    /** Only `kustomize` (the default and only source), still accepted so a deployment that set it starts. */
    ARGOCD_SOURCE_TYPE: z
      .enum(['kustomize'], {
        error:
          'only kustomize (or unset): tenants/<id> is a kustomize tree, and Argo CD renders a source with a helm ' +
          'block as a Helm chart, which fails on it',
      })
      .optional(),
    /** Read for the production rule on ARGOCD_REPO_URL (below). */
    NODE_ENV: z.string().optional(),
    ARGOCD_MODE: z.enum(['applicationset', 'application']).default('applicationset'),
    CREDENTIALS_MODE: z.enum(['external-secret', 'secret']).default('external-secret'),
    /** The ClusterSecretStore the ExternalSecrets name (ESO's kubernetes provider; bootstrap objects). */
    CLUSTER_SECRET_STORE: z
      .string()
      .regex(/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/)
      .default('tenant-secrets'),
    /** The namespace the services' Kubernetes secret store writes to, which that store reads. */
    CLUSTER_SECRET_STORE_NAMESPACE: dns1123Label('e-commerce-shared'),
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
    // Read with CREDENTIALS_MODE=secret: the store the other services wrote the credentials to.
    ...SECRET_STORE_ENV,
  })
  .refine(
    (config) =>
      !config.SECRET_STORE_URL.startsWith('kubernetes:') ||
      URL.parse(config.SECRET_STORE_URL)?.hostname === config.CLUSTER_SECRET_STORE_NAMESPACE,
    {
      message:
        'SECRET_STORE_URL=kubernetes://<namespace> must name CLUSTER_SECRET_STORE_NAMESPACE: the ClusterSecretStore reads where the services write',
      path: ['CLUSTER_SECRET_STORE_NAMESPACE'],
    },
  )
  .refine((config) => !(config.K8S_DELIVERY === 'gitops' && config.CREDENTIALS_MODE === 'secret'), {
    message:
      'CREDENTIALS_MODE=secret would commit secret values to Git: use external-secret with K8S_DELIVERY=gitops',
    path: ['CREDENTIALS_MODE'],
  })
  .refine(
    (config) =>
      !(
        config.NODE_ENV === 'production' &&
        config.K8S_DELIVERY === 'gitops' &&
        config.ARGOCD_REPO_URL === undefined
      ),
    {
      message:
        'required under NODE_ENV=production with K8S_DELIVERY=gitops: the repository Argo CD reads the tenants ' +
        "from (unset, the spec's example URL would be committed)",
      path: ['ARGOCD_REPO_URL'],
      // Reported alongside other bad variables, once K8S_DELIVERY and ARGOCD_REPO_URL themselves parsed.
      when: (payload) =>
        payload.issues.every(
          (issue) => !['K8S_DELIVERY', 'ARGOCD_REPO_URL'].includes(String(issue.path?.[0])),
        ),
    },
  );

export type K8sConfig = z.infer<typeof configSchema>;
