import { gitOpsEnv } from '@app/kube';
import { loadConfig } from '@app/platform';
import { SECRET_STORE_ENV } from '@app/secrets';
import { z } from 'zod';
import { configFields } from '../config';

/**
 * tenantctl's configuration: the API's own variables for the stores and the grace period, nothing else, so the
 * CLI runs without the webhook secret or API tokens. Logs go to stderr and default to warnings only.
 */
export const tenantctlConfigSchema = configFields
  .pick({
    EVENTSTORE_URL: true,
    EVENTSTORE_SCHEMA: true,
    READ_MODEL_URL: true,
    READ_MODEL_SCHEMA: true,
    GRACE_PERIOD_DAYS: true,
  })
  .extend({ LOG_LEVEL: configFields.shape.LOG_LEVEL.unwrap().default('warn') });

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
  LOG_LEVEL: configFields.shape.LOG_LEVEL.unwrap().default('warn'),
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
  LOG_LEVEL: configFields.shape.LOG_LEVEL.unwrap().default('warn'),
});

export type GitOpsCliConfig = ReturnType<typeof gitOpsConfigSchema.parse>;

export function loadGitOpsConfig(env: NodeJS.ProcessEnv): GitOpsCliConfig {
  return loadConfig(gitOpsConfigSchema, env);
}
