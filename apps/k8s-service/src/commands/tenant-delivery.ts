import {
  IMAGE_TAG_PATTERN,
  isImageTag,
  type StepOutputs,
  type TenantProfile,
  brokerSecretPath,
  namespaceName,
  storageSecretPath,
} from '@app/contracts';
import type { KubeObject } from '@app/kube';
import { permanent, retryable } from '@app/platform';
import { type SecretStore, type SecretValues, withSecretStore } from '@app/secrets';
import { withDelivery } from '../adapters/delivery-errors';
import type { DeliveryResult, TenantChange } from '../adapters/delivery.port';
import {
  MINIO_CREDENTIALS,
  RABBITMQ_CREDENTIALS,
  credentialsSecret,
  tenantConfigMap,
  type ManifestFile,
  workloadFiles,
} from '@app/plans';
import type { K8sHandlerDeps } from './deps';

/** What the k8s-service's handlers share: delivering a tenant's files, its workloads' files, the step outputs. */

export function isGitOps(deps: K8sHandlerDeps): boolean {
  return deps.driver.mode === 'gitops';
}

export function pause(deps: K8sHandlerDeps, ms: number): Promise<void> {
  return deps.sleep ? deps.sleep(ms) : new Promise<void>((resolve) => setTimeout(resolve, ms));
}

/** The facts every step records: the namespace, the delivery mode, what changed. */
export function outputs(tenant: TenantProfile, result: DeliveryResult, extra: StepOutputs = {}): StepOutputs {
  return {
    namespace: namespaceName(tenant.tenantId),
    mode: result.mode,
    changed: result.changed,
    ...(result.revision ? { revision: result.revision } : {}),
    applied: result.applied.length,
    removed: result.removed.length,
    ...extra,
  };
}

/** One change to the tenant (nothing removed and the registration kept unless said), its failure classified. */
export function deliver(
  deps: K8sHandlerDeps,
  change: Pick<TenantChange, 'tenant' | 'reason' | 'correlationId'> & Partial<TenantChange>,
): Promise<DeliveryResult> {
  return withDelivery(() => deps.driver.applyTenant({ put: [], remove: [], application: 'keep', ...change }));
}

/** Removes everything of the tenant, its failure classified. */
export function removeTenant(
  deps: K8sHandlerDeps,
  tenant: TenantProfile,
  context: { reason: string; correlationId: string },
): Promise<DeliveryResult> {
  return withDelivery(() => deps.driver.removeTenant(tenant, context));
}

/** Paths the tenant's tree holds (GitOps); undefined when the driver keeps no tree. */
export function tenantPaths(deps: K8sHandlerDeps, tenantId: string): Promise<Set<string>> | undefined {
  const read = deps.driver.tenantPaths?.bind(deps.driver);
  return read ? withDelivery(() => read(tenantId)) : undefined;
}

/** Whether the tenant has `object` already: in its tree (GitOps), else in the cluster when one is reachable. */
export async function has(
  deps: K8sHandlerDeps,
  tenant: TenantProfile,
  path: string,
  object: Pick<KubeObject, 'apiVersion' | 'kind' | 'metadata'>,
): Promise<boolean> {
  const paths = tenantPaths(deps, tenant.tenantId);
  if (paths) return (await paths).has(path);
  if (!deps.cluster) return false;
  const { apiVersion, kind, metadata } = object;
  return (await deps.cluster.read(apiVersion, kind, metadata.name, metadata.namespace)) !== undefined;
}

/** The workloads' files; direct mode adds what kustomize would generate (and the plain Secrets in Secret mode). */
export async function workloads(
  deps: K8sHandlerDeps,
  tenant: TenantProfile,
  suspended = false,
  imageTag?: string,
): Promise<ManifestFile[]> {
  const options = imageTag ? { ...deps.options, imageTag } : deps.options;
  let files = workloadFiles(tenant, options, suspended);
  if (!isGitOps(deps) && deps.options.credentialsMode === 'secret') {
    // The plain Secrets replace the two extracted ExternalSecrets.
    files = files.map((file) =>
      file.path === 'external-secrets.yaml'
        ? {
            ...file,
            objects: file.objects.filter(
              (o) => o.metadata.name !== MINIO_CREDENTIALS && o.metadata.name !== RABBITMQ_CREDENTIALS,
            ),
          }
        : file,
    );
  }
  return [...(await directExtras(deps, tenant)), ...files];
}

/**
 * The tenant's own image tag a command carries (`params.imageTag`), or undefined for the service's IMAGE_TAG. It
 * reaches every workload's image, kustomize's `newTag` and the `version` label, so anything but an OCI tag is
 * refused for good, naming the value.
 */
export function tenantImageTag(params: { imageTag?: unknown }): string | undefined {
  const tag = params.imageTag;
  if (tag === undefined) return undefined;
  if (!isImageTag(tag)) {
    const shown = JSON.stringify(typeof tag === 'string' ? tag.slice(0, 140) : tag) ?? String(tag);
    throw permanent(
      'K8S.INVALID_IMAGE_TAG',
      `params.imageTag ${shown} is not an OCI image tag (${IMAGE_TAG_PATTERN}); nothing was changed`,
    );
  }
  return tag;
}

/** Direct mode has no kustomize: the generated ConfigMap and, in Secret mode, the plain credentials. */
async function directExtras(deps: K8sHandlerDeps, tenant: TenantProfile): Promise<ManifestFile[]> {
  if (isGitOps(deps)) return [];
  const { options } = deps;
  const extras: ManifestFile[] = [
    { path: 'tenant-config.yaml', objects: [tenantConfigMap(tenant, options)] },
  ];
  if (options.credentialsMode === 'secret') {
    const { secrets } = deps;
    if (!secrets) throw permanent('K8S.BAD_CONFIG', 'CREDENTIALS_MODE=secret needs a secret store');
    const [minio, rabbit] = await Promise.all([
      storedSecret(secrets, storageSecretPath(tenant.tenantId)),
      storedSecret(secrets, brokerSecretPath(tenant.tenantId)),
    ]);
    if (!minio || !rabbit) {
      throw retryable(
        'K8S.CREDENTIALS_MISSING',
        'storage or broker credentials are not in the secret store yet',
      );
    }
    extras.push({
      path: 'credentials.yaml',
      objects: [
        credentialsSecret(MINIO_CREDENTIALS, tenant, options, minio),
        credentialsSecret(RABBITMQ_CREDENTIALS, tenant, options, rabbit),
      ],
    });
  }
  return extras;
}

/** The same direct-mode extras, to remove: their names suffice, so no secret is read. */
export function directExtrasForRemoval(deps: K8sHandlerDeps, tenant: TenantProfile): ManifestFile[] {
  if (isGitOps(deps)) return [];
  const { options } = deps;
  const extras: ManifestFile[] = [
    { path: 'tenant-config.yaml', objects: [tenantConfigMap(tenant, options)] },
  ];
  if (options.credentialsMode === 'secret') {
    extras.push({
      path: 'credentials.yaml',
      objects: [
        credentialsSecret(MINIO_CREDENTIALS, tenant, options, {}),
        credentialsSecret(RABBITMQ_CREDENTIALS, tenant, options, {}),
      ],
    });
  }
  return extras;
}

/** One secret-store read, classified by `@app/secrets` for every service alike. */
function storedSecret(secrets: SecretStore, path: string): Promise<SecretValues | undefined> {
  return withSecretStore('K8S', 'read', path, () => secrets.get(path));
}
