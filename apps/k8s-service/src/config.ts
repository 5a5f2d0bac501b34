import { gitOpsEnv, kubeEnv } from '@app/kube';
import { envBoolean } from '@app/platform';
import { SECRET_STORE_ENV } from '@app/secrets';
import { z } from 'zod';

const int = (fallback: number) => z.coerce.number().int().positive().default(fallback);

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
    ARGOCD_REPO_URL: z.string().default('https://github.com/company/e-commerce-manifests'),
    ARGOCD_REVISION: z.string().default('HEAD'),
    ARGOCD_PROJECT: z.string().default('tenants'),
    ARGOCD_NAMESPACE: z.string().default('argocd'),
    ARGOCD_SOURCE_TYPE: z.enum(['helm', 'kustomize']).default('helm'),
    ARGOCD_MODE: z.enum(['applicationset', 'application']).default('applicationset'),
    CREDENTIALS_MODE: z.enum(['external-secret', 'secret']).default('external-secret'),
    CLUSTER_SECRET_STORE: z.string().default('aws-secrets-manager'),
    // Read with CREDENTIALS_MODE=secret: the store the other services wrote the credentials to.
    ...SECRET_STORE_ENV,
  })
  .refine((config) => !(config.K8S_DELIVERY === 'gitops' && config.CREDENTIALS_MODE === 'secret'), {
    message:
      'CREDENTIALS_MODE=secret would commit secret values to Git: use external-secret with K8S_DELIVERY=gitops',
    path: ['CREDENTIALS_MODE'],
  });

export type K8sConfig = z.infer<typeof configSchema>;
