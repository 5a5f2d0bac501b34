import {
  type CommandType,
  type StepOutputs,
  type TenantProfile,
  type Tier,
  argoApplicationName,
  brokerSecretPath,
  migrationJobName,
  namespaceName,
  storageSecretPath,
} from '@app/contracts';
import { type KubeObject, manifestGuard } from '@app/kube';
import { type CommandHandlers, permanent, retryable } from '@app/platform';
import type { SecretStore } from '@app/secrets';
import type { DeliveryDriver, DeliveryResult } from './adapters/delivery.port';
import {
  MINIO_CREDENTIALS,
  RABBITMQ_CREDENTIALS,
  certificate,
  credentialsSecret,
  deprovisioningMetadata,
  ingress,
  markedNamespace,
  tenantConfigMap,
  workloadNames,
} from './domain/manifests';
import { downgradeRefusals, isDowngrade, quotaDiff } from './domain/quota';
import { evaluateReadiness, purgeLeftovers } from './domain/readiness';
import type { RenderOptions } from './domain/render-options';
import { type ManifestFile, ingressFiles, namespaceFiles, workloadFiles } from './domain/tenant-tree';

/** Reads from the cluster (direct mode always; GitOps mode when a cluster is reachable). */
export interface ClusterReader {
  read(apiVersion: string, kind: string, name: string, namespace?: string): Promise<KubeObject | undefined>;
  list(apiVersion: string, kind: string, namespace?: string): Promise<KubeObject[]>;
}

/** `GET url` → HTTP status (0 when unreachable). */
export type HealthProbe = (url: string, host: string) => Promise<number>;

export interface K8sHandlerDeps {
  driver: DeliveryDriver;
  options: RenderOptions;
  cluster?: ClusterReader;
  /** Plain-Secret credentials mode (direct only) reads the values here. */
  secrets?: SecretStore;
  probe: HealthProbe;
  verify: { timeoutMs: number; intervalMs: number; healthBaseUrl?: string; trustCommit: boolean };
  /**
   * GitOps purge: how long RemoveNamespace waits for Argo CD to prune (the Application and the namespace gone)
   * when a cluster is observable. Default: 120 s, polled every second.
   */
  purge?: { timeoutMs: number; intervalMs: number };
  sleep?: (ms: number) => Promise<void>;
}

function outputs(tenant: TenantProfile, result: DeliveryResult, extra: StepOutputs = {}): StepOutputs {
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

const guard = manifestGuard('K8S');

export function createHandlers(deps: K8sHandlerDeps): CommandHandlers {
  const { driver, options } = deps;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const gitops = driver.mode === 'gitops';

  const apply = (
    tenant: TenantProfile,
    reason: CommandType,
    correlationId: string,
    put: ManifestFile[],
    remove: ManifestFile[] = [],
    application: 'register' | 'keep' | 'unregister' = 'keep',
  ) => driver.applyTenant({ tenant, put, remove, application, reason, correlationId });

  /** Direct mode has no kustomize: the generated ConfigMap and, in Secret mode, the plain credentials. */
  async function directExtras(tenant: TenantProfile): Promise<ManifestFile[]> {
    if (gitops) return [];
    const extras: ManifestFile[] = [
      { path: 'tenant-config.yaml', objects: [tenantConfigMap(tenant, options)] },
    ];
    if (options.credentialsMode === 'secret') {
      if (!deps.secrets) throw permanent('K8S.BAD_CONFIG', 'CREDENTIALS_MODE=secret needs a secret store');
      const [minio, rabbit] = await Promise.all([
        deps.secrets.get(storageSecretPath(tenant.tenantId)),
        deps.secrets.get(brokerSecretPath(tenant.tenantId)),
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

  async function workloads(tenant: TenantProfile, suspended = false): Promise<ManifestFile[]> {
    let files = workloadFiles(tenant, options, suspended);
    if (!gitops && options.credentialsMode === 'secret') {
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
    return [...(await directExtras(tenant)), ...files];
  }

  async function has(
    tenant: TenantProfile,
    path: string,
    object: Pick<KubeObject, 'apiVersion' | 'kind' | 'metadata'>,
  ) {
    if (driver.tenantPaths) return (await driver.tenantPaths(tenant.tenantId)).has(path);
    if (!deps.cluster) return false;
    return (
      (await deps.cluster.read(
        object.apiVersion,
        object.kind,
        object.metadata.name,
        object.metadata.namespace,
      )) !== undefined
    );
  }

  return {
    ProvisionNamespace: guard<'ProvisionNamespace'>(async (command, correlationId) => {
      const { tenant } = command.data;
      // GitOps: registering the tenant now lets Argo CD create the namespace this step reports.
      const result = await apply(
        tenant,
        'ProvisionNamespace',
        correlationId,
        namespaceFiles(tenant, options),
        [],
        'register',
      );
      return outputs(tenant, result, {
        quota: 'tenant-quota',
        limitRange: 'tenant-limits',
        networkPolicy: 'tenant-isolation',
      });
    }),

    DeployWorkloads: guard<'DeployWorkloads'>(async (command, correlationId) => {
      const { tenant } = command.data;
      const result = await apply(
        tenant,
        'DeployWorkloads',
        correlationId,
        await workloads(tenant),
        [],
        'register',
      );
      return outputs(tenant, result, {
        deployments: 13,
        argoApplication: gitops ? argoApplicationName(tenant.tenantId) : null,
        migrationJob: `tenant-migration-${tenant.tenantId}`,
      });
    }),

    ConfigureIngress: guard<'ConfigureIngress'>(async (command, correlationId) => {
      const { tenant } = command.data;
      const result = await apply(tenant, 'ConfigureIngress', correlationId, ingressFiles(tenant, options));
      return outputs(tenant, result, {
        ingress: 'tenant-ingress',
        certificate: 'tenant-tls',
        hosts: [tenant.domain, `www.${tenant.domain}`],
      });
    }),

    RemoveIngress: guard<'RemoveIngress'>(async (command, correlationId) => {
      const { tenant } = command.data;
      return outputs(
        tenant,
        await apply(tenant, 'RemoveIngress', correlationId, [], ingressFiles(tenant, options)),
      );
    }),

    RemoveWorkloads: guard<'RemoveWorkloads'>(async (command, correlationId) => {
      const { tenant } = command.data;
      const files = [...(await directExtrasForRemoval(tenant)), ...workloadFiles(tenant, options)];
      return outputs(tenant, await apply(tenant, 'RemoveWorkloads', correlationId, [], files));
    }),

    RemoveNamespace: guard<'RemoveNamespace'>(async (command, correlationId) => {
      const { tenant } = command.data;
      const result = await driver.removeTenant(tenant, { reason: 'RemoveNamespace', correlationId });
      const argoApplication = gitops ? argoApplicationName(tenant.tenantId) : null;
      // Direct: the driver waited until the namespace was gone. GitOps: the commit only asks Argo CD to prune.
      if (!gitops) return outputs(tenant, result, { argoApplication, deletion: 'observed' });
      if (!deps.cluster) {
        return outputs(tenant, result, {
          argoApplication,
          deletion: 'trusted',
          note: 'no cluster reachable: the tenant left Git; Argo CD pruning its application and namespace was not observed',
        });
      }
      await waitPruned(tenant, deps.cluster);
      return outputs(tenant, result, { argoApplication, deletion: 'observed' });
    }),

    MarkNamespaceDeprovisioning: guard<'MarkNamespaceDeprovisioning'>(async (command, correlationId) => {
      const { tenant, params } = command.data;
      const file = { path: 'namespace.yaml', objects: [markedNamespace(tenant, options, params)] };
      const result = await apply(tenant, 'MarkNamespaceDeprovisioning', correlationId, [file]);
      return outputs(tenant, result, { annotations: deprovisioningMetadata(params).annotations });
    }),

    UnmarkNamespaceDeprovisioning: guard<'UnmarkNamespaceDeprovisioning'>(async (command, correlationId) => {
      const { tenant } = command.data;
      const file = { path: 'namespace.yaml', objects: [markedNamespace(tenant, options, undefined)] };
      return outputs(tenant, await apply(tenant, 'UnmarkNamespaceDeprovisioning', correlationId, [file]));
    }),

    UpdateQuota: guard<'UpdateQuota'>(async (command, correlationId) => {
      const { params } = command.data;
      const tenant: TenantProfile = { ...command.data.tenant, tier: params.toTier as Tier };
      const changes = quotaDiff(params.fromTier, params.toTier);
      let usageChecked = false;
      if (isDowngrade(changes) && deps.cluster) {
        const quota = await deps.cluster.read(
          'v1',
          'ResourceQuota',
          'tenant-quota',
          namespaceName(tenant.tenantId),
        );
        const used = ((quota?.status ?? {}) as { used?: Record<string, string> }).used ?? {};
        usageChecked = quota !== undefined;
        const refusals = downgradeRefusals(params.toTier, used);
        if (refusals.length > 0) {
          throw permanent(
            'K8S.DOWNGRADE_DOES_NOT_FIT',
            `current usage does not fit the ${params.toTier} tier: ${refusals.join('; ')}`,
          );
        }
      }
      const files = [...namespaceFiles(tenant, options)];
      if (
        await has(tenant, 'external-secrets.yaml', {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: { name: 'api-gateway', namespace: namespaceName(tenant.tenantId) },
        })
      ) {
        files.push(...(await workloads(tenant)));
      }
      const result = await apply(tenant, 'UpdateQuota', correlationId, files, [], 'register');
      return outputs(tenant, result, {
        fromTier: params.fromTier,
        toTier: params.toTier,
        usageChecked,
        changes: changes
          .filter((c) => c.direction !== 'same')
          .map((c) => ({ resource: c.resource, from: c.from, to: c.to })),
      });
    }),

    SuspendWorkloads: guard<'SuspendWorkloads'>(async (command, correlationId) => {
      const { tenant } = command.data;
      const ingressFile = ingressFiles(tenant, options).filter((file) => file.path === 'ingress.yaml');
      const result = await apply(
        tenant,
        'SuspendWorkloads',
        correlationId,
        await workloads(tenant, true),
        ingressFile,
      );
      return outputs(tenant, result, { replicas: 0, ingress: 'removed' });
    }),

    ResumeWorkloads: guard<'ResumeWorkloads'>(async (command, correlationId) => {
      const { tenant } = command.data;
      const cert = ingressFiles(tenant, options)[0];
      const files = await workloads(tenant);
      const hadIngress = await has(tenant, cert.path, cert.objects[0]);
      if (hadIngress) files.push({ path: 'ingress.yaml', objects: [ingress(tenant, options)] });
      const result = await apply(tenant, 'ResumeWorkloads', correlationId, files);
      return outputs(tenant, result, { ingress: hadIngress ? 'restored' : 'not-configured' });
    }),

    VerifyKubernetes: guard<'VerifyKubernetes'>(async (command) => {
      const { tenant } = command.data;
      const deadline = Date.now() + deps.verify.timeoutMs;
      let failures: string[] = [];
      for (;;) {
        failures = [];
        const facts = await verifyOnce(tenant, failures);
        if (failures.length === 0) return { namespace: namespaceName(tenant.tenantId), ...facts };
        if (Date.now() + deps.verify.intervalMs > deadline) break;
        await sleep(deps.verify.intervalMs);
      }
      throw permanent('K8S.VERIFICATION_FAILED', failures.join('; '));
    }),
  };

  /** Until the Argo CD Application and the namespace are both gone, or the deadline. */
  async function waitPruned(tenant: TenantProfile, cluster: ClusterReader): Promise<void> {
    const { timeoutMs, intervalMs } = deps.purge ?? { timeoutMs: 120000, intervalMs: 1000 };
    const deadline = Date.now() + timeoutMs;
    const application = { name: argoApplicationName(tenant.tenantId), namespace: options.argoNamespace };
    const namespace = { name: namespaceName(tenant.tenantId) };
    for (;;) {
      const [app, ns] = await Promise.all([
        cluster.read('argoproj.io/v1alpha1', 'Application', application.name, application.namespace),
        cluster.read('v1', 'Namespace', namespace.name),
      ]);
      const left = purgeLeftovers({ ...application, object: app }, { ...namespace, object: ns });
      if (left.length === 0) return;
      if (Date.now() >= deadline) {
        throw retryable(
          'K8S.NAMESPACE_TERMINATION_TIMEOUT',
          `after ${timeoutMs} ms: ${left.join('; ')}; left to Argo CD and the namespace controller, no finalizer stripped`,
        );
      }
      await sleep(intervalMs);
    }
  }

  async function directExtrasForRemoval(tenant: TenantProfile): Promise<ManifestFile[]> {
    if (gitops) return [];
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

  /**
   * Spec 10.1, Kubernetes part. Appends what is not ready yet; returns the facts observed. A failed migration
   * Job throws at once: waiting will not make it pass.
   */
  async function verifyOnce(tenant: TenantProfile, failures: string[]): Promise<StepOutputs> {
    const facts: StepOutputs = {};
    const ns = namespaceName(tenant.tenantId);
    if (deps.cluster) {
      const cluster = deps.cluster;
      const jobName = migrationJobName(tenant.tenantId);
      const certificateName = certificate(tenant, options).metadata.name;
      const applicationName = argoApplicationName(tenant.tenantId);
      // The Job before its pods: a Job seen Failed then comes with the pods as they were when it failed, so the
      // error can name the pod's reason (read together, the pod list may predate the failure).
      const job = await cluster.read('batch/v1', 'Job', jobName, ns);
      const [namespace, deployments, pods, cert, application] = await Promise.all([
        cluster.read('v1', 'Namespace', ns),
        cluster.list('apps/v1', 'Deployment', ns),
        cluster.list('v1', 'Pod', ns),
        cluster.read('cert-manager.io/v1', 'Certificate', certificateName, ns),
        gitops
          ? cluster.read('argoproj.io/v1alpha1', 'Application', applicationName, options.argoNamespace)
          : Promise.resolve(undefined),
      ]);
      const readiness = evaluateReadiness({
        namespaceName: ns,
        namespace,
        expectedDeployments: workloadNames(),
        deployments,
        pods,
        jobName,
        job,
        certificateName,
        certificate: cert,
        ...(gitops ? { application: { name: applicationName, object: application } } : {}),
      });
      if (readiness.migrationFailure) throw permanent('K8S.MIGRATION_FAILED', readiness.migrationFailure);
      failures.push(...readiness.pending);
      Object.assign(facts, readiness.facts, { migrationJob: jobName, certificate: certificateName });
      if (gitops) facts.argoApplication = applicationName;
      facts.verifiedAgainst = 'cluster';
    } else if (gitops && deps.verify.trustCommit) {
      const paths = driver.tenantPaths ? await driver.tenantPaths(tenant.tenantId) : new Set<string>();
      if (!paths.has('namespace.yaml') || !paths.has('kustomization.yaml'))
        failures.push('tenant tree is not committed');
      facts.verifiedAgainst = 'commit';
      facts.note =
        'no cluster reachable: the namespace, Deployments, migration Job, certificate and Argo CD sync were not observed; the commit was trusted';
    } else {
      failures.push('no cluster configured to verify against');
    }
    const base = deps.verify.healthBaseUrl ?? `https://${tenant.domain}`;
    const url = `${base.replace(/\/+$/, '')}/health`;
    const code = await deps.probe(url, tenant.domain);
    if (code !== 200) failures.push(`GET ${url} answered ${code === 0 ? 'nothing' : `HTTP ${code}`}`);
    facts.healthUrl = url;
    facts.healthStatus = code;
    return facts;
  }
}

/** The real probe: `fetch` with the tenant's Host header when the base URL is overridden. */
export async function httpProbe(url: string, host: string): Promise<number> {
  try {
    const response = await fetch(url, {
      headers: new URL(url).hostname === host ? {} : { host },
      signal: AbortSignal.timeout(10000),
      redirect: 'manual',
    });
    await response.body?.cancel();
    return response.status;
  } catch {
    return 0;
  }
}
