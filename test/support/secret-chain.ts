import { execFileSync } from 'node:child_process';
import { tenantSecretPrefix } from '@app/contracts';
import type { KubeObject } from '@app/kube';
import { loadConfig } from '@app/platform';
import {
  buildSecretManifest,
  EncryptedPostgresSecretStore,
  parseSecretStoreKey,
  type SecretValues,
} from '@app/secrets';
import type { V1Secret } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { configSchema as k8sConfigSchema } from '../../apps/k8s-service/src/config';
import { type RenderOptions, renderOptionsFrom } from '../../apps/k8s-service/src';
import type { LocalStack } from './local-stack';

/**
 * What the secret chain of a tenant is made of on the local stack: the objects Argo CD would apply (read from
 * the GitOps bare repository's `main`), the k8s-service's render options, and what the stack's secret store
 * holds, projected into the Secrets `KubernetesSecretStore` would write for the same paths.
 */

function git(stack: LocalStack, args: string[]): string {
  return execFileSync('git', ['--git-dir', stack.gitRemote, ...args], {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
}

/** Every object of `tenants/<id>/` on `main` (kustomization files are kustomize's input, not objects). */
export function committedTenantObjects(stack: LocalStack, tenantId: string): KubeObject[] {
  const files = git(stack, ['ls-tree', '-r', '--name-only', 'main', `tenants/${tenantId}/`])
    .split('\n')
    .filter((path) => path.endsWith('.yaml') && !path.endsWith('kustomization.yaml'));
  return files.flatMap((path) =>
    parseAllDocuments(git(stack, ['show', `main:${path}`]))
      .map((document) => document.toJSON() as KubeObject | null)
      .filter((object): object is KubeObject => object !== null),
  );
}

/** Every commit's message and patch on every ref: all content the repository ever held. */
export function gitHistoryText(stack: LocalStack): string {
  return git(stack, ['log', '--all', '--patch', '--format=%H%n%an <%ae>%n%B']);
}

export function k8sRenderOptions(stack: LocalStack): RenderOptions {
  return renderOptionsFrom(loadConfig(k8sConfigSchema, stack.envs.get('k8s-service') ?? {}));
}

export interface ProjectedSecret {
  path: string;
  values: SecretValues;
  secret: V1Secret;
}

/** What the stack's store holds under `prefix` (the tenant's by default), as Secrets in `namespace`. */
export async function projectSecretStore(
  stack: LocalStack,
  tenantId: string,
  namespace: string,
  prefix = tenantSecretPrefix(tenantId),
): Promise<ProjectedSecret[]> {
  const store = new EncryptedPostgresSecretStore({
    connectionString: stack.pgUrl,
    schema: `${stack.options.schemaPrefix}_secrets`,
    key: parseSecretStoreKey(stack.secretStoreKey),
  });
  try {
    const projected: ProjectedSecret[] = [];
    for (const path of await store.list(prefix)) {
      const values = (await store.get(path)) ?? {};
      projected.push({ path, values, secret: buildSecretManifest(namespace, path, values) });
    }
    return projected;
  } finally {
    await store.close();
  }
}
