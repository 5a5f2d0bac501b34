import {
  argoApplicationName,
  migrationJobName,
  namespaceName,
  type CommandMessage,
  type StepOutputs,
  type TenantProfile,
} from '@app/contracts';
import { HANDLER_DEPS, permanent } from '@app/platform';
import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { healthFailure } from '../adapters/http-probe';
import { certificate, workloadNames } from '@app/plans';
import { evaluateReadiness } from '../domain/readiness';
import type { ClusterReader, K8sHandlerDeps } from './deps';
import { isGitOps, pause, tenantPaths } from './tenant-delivery';

/** One look at the tenant: the facts observed and what is not ready yet. */
interface Check {
  facts: StepOutputs;
  failures: string[];
}

/**
 * VerifyKubernetes (spec 10.1, Kubernetes part): looks until everything is ready or the deadline passes, then
 * fails naming what is not. A failed migration Job fails at once: waiting will not make it pass.
 */
@Controller()
export class VerifyKubernetesHandler {
  constructor(@Inject(HANDLER_DEPS) private readonly deps: K8sHandlerDeps) {}

  @MessagePattern('VerifyKubernetes')
  async handle(@Payload() command: CommandMessage<'VerifyKubernetes'>): Promise<StepOutputs> {
    const { tenant } = command.data;
    const { timeoutMs, intervalMs } = this.deps.verify;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { facts, failures } = await this.verifyOnce(tenant);
      if (failures.length === 0) return { namespace: namespaceName(tenant.tenantId), ...facts };
      if (Date.now() + intervalMs > deadline) throw permanent('K8S.VERIFICATION_FAILED', failures.join('; '));
      await pause(this.deps, intervalMs);
    }
  }

  /** The cluster's objects (or, without one, the commit when trusted), then the tenant's `/health`. */
  private async verifyOnce(tenant: TenantProfile): Promise<Check> {
    const { cluster } = this.deps;
    const objects = cluster ? await this.observeCluster(tenant, cluster) : await this.trustCommit(tenant);
    const base = this.deps.verify.healthBaseUrl ?? `https://${tenant.domain}`;
    const url = `${base.replace(/\/+$/, '')}/health`;
    const status = await this.deps.probe(url, tenant.domain);
    const failure = healthFailure(url, status);
    return {
      facts: { ...objects.facts, healthUrl: url, healthStatus: status },
      failures: failure ? [...objects.failures, failure] : objects.failures,
    };
  }

  private async observeCluster(tenant: TenantProfile, cluster: ClusterReader): Promise<Check> {
    const { options } = this.deps;
    const gitops = isGitOps(this.deps);
    const ns = namespaceName(tenant.tenantId);
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
    return {
      facts: {
        ...readiness.facts,
        migrationJob: jobName,
        certificate: certificateName,
        ...(gitops ? { argoApplication: applicationName } : {}),
        verifiedAgainst: 'cluster',
      },
      failures: readiness.pending,
    };
  }

  /** Without a cluster, GitOps may trust the commit (K8S_VERIFY_TRUST_COMMIT); direct mode has nothing to trust. */
  private async trustCommit(tenant: TenantProfile): Promise<Check> {
    if (!isGitOps(this.deps) || !this.deps.verify.trustCommit) {
      return { facts: {}, failures: ['no cluster configured to verify against'] };
    }
    const paths = (await tenantPaths(this.deps, tenant.tenantId)) ?? new Set<string>();
    const committed = paths.has('namespace.yaml') && paths.has('kustomization.yaml');
    return {
      facts: {
        verifiedAgainst: 'commit',
        note: 'no cluster reachable: the namespace, Deployments, migration Job, certificate and Argo CD sync were not observed; the commit was trusted',
      },
      failures: committed ? [] : ['tenant tree is not committed'],
    };
  }
}
