import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import type { GitOpsConfig } from './git-working-copy';
import type { KubeConnection } from './kube-client';

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

/**
 * The `GITOPS_*` variables of a service that commits manifests, to spread into its config schema. Each
 * service gets its own working copy and author by default, so two services on one host never share a lock.
 */
export function gitOpsEnv(service: string) {
  return {
    GITOPS_WORKDIR: z.string().default(join(tmpdir(), 'provisioning-manifests', service)),
    GITOPS_REMOTE: z.string().optional(),
    GITOPS_BRANCH: z.string().default('main'),
    GITOPS_AUTHOR_NAME: z.string().default(`provisioning-${service}`),
    GITOPS_AUTHOR_EMAIL: z.string().email().default('provisioning@collectverything.com'),
    GITOPS_PUSH_ATTEMPTS: positiveInt(5),
    GITOPS_LOCK_TIMEOUT_MS: positiveInt(60000),
    /** A git command silent for this long (a remote that hangs) is killed, so the lock is released. */
    GITOPS_COMMAND_TIMEOUT_MS: positiveInt(20000),
  };
}

/** Cluster access: an API server URL (local double), or a kubeconfig path; neither = loadFromDefault. */
export function kubeEnv() {
  return {
    KUBE_API_SERVER: z.string().url().optional(),
    KUBE_TOKEN: z.string().optional(),
    KUBECONFIG: z.string().optional(),
    /** Bound on each Kubernetes API request; a server that never answers fails the step as retryable. */
    KUBE_REQUEST_TIMEOUT_MS: positiveInt(30_000),
  };
}

type GitOpsVariables = z.infer<z.ZodObject<ReturnType<typeof gitOpsEnv>>>;
type KubeVariables = z.infer<z.ZodObject<ReturnType<typeof kubeEnv>>>;

export function gitOpsConfigFrom(env: GitOpsVariables): GitOpsConfig {
  return {
    workdir: env.GITOPS_WORKDIR,
    remote: env.GITOPS_REMOTE,
    branch: env.GITOPS_BRANCH,
    authorName: env.GITOPS_AUTHOR_NAME,
    authorEmail: env.GITOPS_AUTHOR_EMAIL,
    pushAttempts: env.GITOPS_PUSH_ATTEMPTS,
    lockTimeoutMs: env.GITOPS_LOCK_TIMEOUT_MS,
    commandTimeoutMs: env.GITOPS_COMMAND_TIMEOUT_MS,
  };
}

export function kubeConnectionFrom(env: KubeVariables): KubeConnection {
  return {
    server: env.KUBE_API_SERVER,
    token: env.KUBE_TOKEN,
    kubeconfig: env.KUBECONFIG,
    requestTimeoutMs: env.KUBE_REQUEST_TIMEOUT_MS,
  };
}
