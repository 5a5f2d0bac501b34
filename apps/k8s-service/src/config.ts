import { gitOpsEnv, kubeEnv } from '@app/kube';
import { envBoolean } from '@app/platform';
import { TENANT_RENDER_ENV } from '@app/plans';
import { SECRET_STORE_ENV } from '@app/secrets';
import { z } from 'zod';

const int = (fallback: number) => z.coerce.number().int().positive().default(fallback);

export const configSchema = z
  .object({
    /**
     * What the tenant objects are rendered with (K8S_DELIVERY, IMAGE_*, ARGOCD_*, CREDENTIALS_MODE,
     * CLUSTER_SECRET_STORE*, NETWORK_POLICY_*): read alike by the API and tenantctl for what-if plans.
     */
    ...TENANT_RENDER_ENV,
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
