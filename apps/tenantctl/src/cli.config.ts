import { gitOpsEnv } from '@app/kube';
import { loadConfig } from '@app/platform';
import { SECRET_STORE_ENV } from '@app/secrets';
import { logLevel, TENANCY_ENV } from '@app/tenancy';
import { z } from 'zod';

/** Logs go to stderr, warnings and worse unless LOG_LEVEL says otherwise. */
const LOG_LEVEL = logLevel.default('warn');

/**
 * tenantctl's configuration: the API's own variables for the stores and the grace period, nothing else, so the
 * CLI runs without the webhook secret or API tokens. Logs go to stderr and default to warnings only.
 */
export const tenantctlConfigSchema = z.object({ ...TENANCY_ENV, LOG_LEVEL });

export type TenantctlConfig = ReturnType<typeof tenantctlConfigSchema.parse>;

export function loadTenantctlConfig(env: NodeJS.ProcessEnv): TenantctlConfig {
  return loadConfig(tenantctlConfigSchema, env);
}

/**
 * `tenantctl secrets`: the resource services' secret store variables (its URL and keys) and nothing of the API,
 * so it runs with exactly what a service holding credentials is given.
 */
export const secretsConfigSchema = z.object({
  ...SECRET_STORE_ENV,
  LOG_LEVEL,
});

export type SecretsConfig = ReturnType<typeof secretsConfigSchema.parse>;

export function loadSecretsConfig(env: NodeJS.ProcessEnv): SecretsConfig {
  return loadConfig(secretsConfigSchema, env);
}

/**
 * `tenantctl gitops`: the GitOps variables the k8s-service is given (GITOPS_REMOTE, GITOPS_BRANCH, ...), with a
 * working copy and author of tenantctl's own by default, so it never shares a service's lock.
 */
export const gitOpsConfigSchema = z.object({
  ...gitOpsEnv('tenantctl'),
  LOG_LEVEL,
});

export type GitOpsCliConfig = ReturnType<typeof gitOpsConfigSchema.parse>;

export function loadGitOpsConfig(env: NodeJS.ProcessEnv): GitOpsCliConfig {
  return loadConfig(gitOpsConfigSchema, env);
}
