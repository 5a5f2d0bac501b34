import type { KubeObject } from '@app/kube';

/**
 * Whether a tenant's workloads are ready, read from what the controllers wrote in `status` (never from a pod's
 * phase: the migration Job's pod ends `Succeeded`, and a crash-looping container is `Running` between
 * restarts). Pure: the handler reads the objects, this decides.
 */

/** What the handler read from the cluster for one tenant. */
export interface TenantObservation {
  namespaceName: string;
  namespace?: KubeObject;
  /** Every Deployment the tenant's manifests render, by name. */
  expectedDeployments: readonly string[];
  deployments: KubeObject[];
  pods: KubeObject[];
  jobName: string;
  job?: KubeObject;
  certificateName: string;
  certificate?: KubeObject;
  /** GitOps only: the tenant's Argo CD Application (name, and the object when it exists). */
  application?: { name: string; object?: KubeObject };
}

export interface Readiness {
  /** What is not ready yet, one line each: worth waiting for until the deadline. */
  pending: string[];
  /** The migration Job failed: no wait will help. */
  migrationFailure?: string;
  facts: {
    deploymentsAvailable: number;
    deploymentsExpected: number;
    migrationJobComplete: boolean;
    certificateReady: boolean;
  };
}

interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

interface ContainerState {
  waiting?: { reason?: string; message?: string };
  running?: unknown;
  terminated?: { reason?: string; exitCode?: number; message?: string };
}
interface ContainerStatus {
  name: string;
  state?: ContainerState;
  lastState?: ContainerState;
}

/**
 * Waiting reasons that mean the container will not start by itself: the pod is named with the reason. The
 * kubelet's normal waits (`ContainerCreating`, `PodInitializing`) are not in this list.
 */
export const FAILING_WAIT_REASONS: ReadonlySet<string> = new Set([
  'CrashLoopBackOff',
  'ImagePullBackOff',
  'ErrImagePull',
  'ErrImageNeverPull',
  'InvalidImageName',
  'CreateContainerConfigError',
  'CreateContainerError',
  'RunContainerError',
]);

/** At most this many pods are named in a message; the rest are counted. */
const MAX_PODS_NAMED = 6;

export function conditionsOf(object: KubeObject | undefined): Condition[] {
  const status = object?.status as { conditions?: Condition[] } | undefined;
  return Array.isArray(status?.conditions) ? status.conditions : [];
}
function condition(object: KubeObject | undefined, type: string): Condition | undefined {
  return conditionsOf(object).find((c) => c.type === type);
}
function isTrue(object: KubeObject | undefined, type: string): boolean {
  return condition(object, type)?.status === 'True';
}
function describe(c: Condition | undefined, type: string): string {
  if (!c) return `${type} not reported`;
  const reason = c.reason ? ` (${c.reason})` : '';
  return `${type}=${c.status}${reason}`;
}
function num(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

/** `undefined` when the Deployment is ready, else why not. */
export function deploymentProblem(deployment: KubeObject): string | undefined {
  const name = deployment.metadata.name;
  const spec = (deployment.spec ?? {}) as { replicas?: number };
  const status = (deployment.status ?? {}) as {
    observedGeneration?: number;
    availableReplicas?: number;
    updatedReplicas?: number;
  };
  const wanted = typeof spec.replicas === 'number' ? spec.replicas : 1;
  const generation = num(deployment.metadata.generation);
  const observed = num(status.observedGeneration);
  // Until the controller has seen the current spec, every other status field describes an older one.
  if (observed < generation) {
    return `deployment ${name}: generation ${generation} not observed yet (observed ${observed})`;
  }
  const available = num(status.availableReplicas);
  const updated = num(status.updatedReplicas);
  const availableCondition = condition(deployment, 'Available');
  const progressing = condition(deployment, 'Progressing');
  // `Available` alone means the minimum availability of the rollout strategy (25% may be missing), and an
  // old ReplicaSet's pods count as available during a rollout: the counts must match the spec too.
  if (availableCondition?.status === 'True' && available === wanted && updated >= wanted) return undefined;
  const details = [`${available}/${wanted} available`];
  if (updated < wanted) details.push(`${updated}/${wanted} updated`);
  if (availableCondition?.status !== 'True') details.push(describe(availableCondition, 'Available'));
  if (progressing?.status === 'False') details.push(describe(progressing, 'Progressing'));
  return `deployment ${name}: ${details.join(', ')}`;
}

function ownedBy(pod: KubeObject, kind: string, name: string): boolean {
  const owners = (pod.metadata.ownerReferences ?? []) as { kind?: string; name?: string }[];
  if (owners.some((owner) => owner.kind === kind && owner.name === name)) return true;
  const labels = pod.metadata.labels ?? {};
  return kind === 'Job' && (labels['batch.kubernetes.io/job-name'] === name || labels['job-name'] === name);
}

function containerStatuses(pod: KubeObject): { init: boolean; status: ContainerStatus }[] {
  const status = (pod.status ?? {}) as {
    initContainerStatuses?: ContainerStatus[];
    containerStatuses?: ContainerStatus[];
  };
  return [
    ...(status.initContainerStatuses ?? []).map((s) => ({ init: true, status: s })),
    ...(status.containerStatuses ?? []).map((s) => ({ init: false, status: s })),
  ];
}

/** Containers of a pod that wait for a reason that will not clear by itself, as `container x Reason`. */
export function podProblems(pod: KubeObject): string[] {
  return containerStatuses(pod)
    .filter(({ status }) => FAILING_WAIT_REASONS.has(status.state?.waiting?.reason ?? ''))
    .map(
      ({ init, status }) =>
        `${init ? 'init container' : 'container'} ${status.name} ${status.state!.waiting!.reason}`,
    );
}

function terminatedReason(pod: KubeObject): string | undefined {
  for (const { init, status } of containerStatuses(pod)) {
    const terminated = status.state?.terminated ?? status.lastState?.terminated;
    const waiting = status.state?.waiting?.reason;
    const label = `${init ? 'init container' : 'container'} ${status.name}`;
    if (terminated && terminated.exitCode !== 0) {
      return `${label} terminated ${terminated.reason ?? 'Error'}, exit code ${terminated.exitCode ?? 'unknown'}`;
    }
    if (waiting && FAILING_WAIT_REASONS.has(waiting)) return `${label} ${waiting}`;
  }
  return undefined;
}

/** The failed Job's reason, then its pods' reasons (the pods may be gone: the Job condition stays). */
export function jobFailure(job: KubeObject, pods: KubeObject[]): string | undefined {
  // `FailureTarget` (Kubernetes 1.31+) comes before `Failed`, once the outcome is decided.
  const failed = [condition(job, 'Failed'), condition(job, 'FailureTarget')].find(
    (c) => c?.status === 'True',
  );
  if (!failed) return undefined;
  const reason = [failed.reason, failed.message].filter(Boolean).join(': ') || 'no reason given';
  const podReasons = pods
    .filter((pod) => ownedBy(pod, 'Job', job.metadata.name))
    .map((pod) => {
      const why = terminatedReason(pod);
      return why ? `pod ${pod.metadata.name}: ${why}` : undefined;
    })
    .filter((line): line is string => line !== undefined)
    .slice(0, 3);
  return [`job ${job.metadata.name} failed: ${reason}`, ...podReasons].join('; ');
}

function phaseOf(object: KubeObject | undefined): string | undefined {
  return (object?.status as { phase?: string } | undefined)?.phase;
}

export function evaluateReadiness(observed: TenantObservation): Readiness {
  const pending: string[] = [];
  const ns = observed.namespaceName;
  if (!observed.namespace) pending.push(`namespace ${ns} not found`);
  else if (phaseOf(observed.namespace) && phaseOf(observed.namespace) !== 'Active') {
    pending.push(`namespace ${ns} is ${phaseOf(observed.namespace)}`);
  }

  if (observed.application) {
    const { name, object } = observed.application;
    const status = (object?.status ?? {}) as { sync?: { status?: string }; health?: { status?: string } };
    if (!object) pending.push(`Argo CD application ${name} not found`);
    else if (status.sync?.status !== 'Synced' || status.health?.status !== 'Healthy') {
      pending.push(
        `Argo CD application ${name} is ${status.sync?.status ?? 'Unknown'}/${status.health?.status ?? 'Unknown'}`,
      );
    }
  }

  const byName = new Map(observed.deployments.map((d) => [d.metadata.name, d]));
  let available = 0;
  for (const name of observed.expectedDeployments) {
    const deployment = byName.get(name);
    const problem = deployment ? deploymentProblem(deployment) : `deployment ${name} not found`;
    if (problem) pending.push(problem);
    else available++;
  }

  const job = observed.job;
  const migrationFailure = job ? jobFailure(job, observed.pods) : undefined;
  const jobComplete = isTrue(job, 'Complete');
  if (!job) pending.push(`job ${observed.jobName} not found`);
  else if (!jobComplete && !migrationFailure) {
    const active = num((job.status as { active?: number } | undefined)?.active);
    pending.push(`job ${observed.jobName} not complete (${active} active)`);
  }

  const certificate = observed.certificate;
  const certificateReady = isTrue(certificate, 'Ready');
  if (!certificate) pending.push(`certificate ${observed.certificateName} not found`);
  else if (!certificateReady) {
    pending.push(
      `certificate ${observed.certificateName} not ready (${describe(condition(certificate, 'Ready'), 'Ready')})`,
    );
  }

  // A finished Job's pods are history, not failures; a failed Job's are already in its message.
  const finishedJob = job && (jobComplete || migrationFailure) ? job.metadata.name : undefined;
  const podLines = observed.pods
    .filter((pod) => phaseOf(pod) !== 'Succeeded')
    .filter((pod) => !(finishedJob && ownedBy(pod, 'Job', finishedJob)))
    .flatMap((pod) => podProblems(pod).map((problem) => `pod ${pod.metadata.name}: ${problem}`));
  pending.push(...podLines.slice(0, MAX_PODS_NAMED));
  if (podLines.length > MAX_PODS_NAMED) {
    pending.push(`${podLines.length - MAX_PODS_NAMED} more failing containers`);
  }

  return {
    pending,
    ...(migrationFailure ? { migrationFailure } : {}),
    facts: {
      deploymentsAvailable: available,
      deploymentsExpected: observed.expectedDeployments.length,
      migrationJobComplete: jobComplete,
      certificateReady,
    },
  };
}

/** What still stands after a GitOps purge: the Argo CD Application, the namespace (with why it stays). */
export function purgeLeftovers(
  application: { name: string; namespace: string; object?: KubeObject },
  namespace: { name: string; object?: KubeObject },
): string[] {
  const left: string[] = [];
  if (application.object) {
    const deleting = application.object.metadata.deletionTimestamp ? ', being deleted (pruning)' : '';
    left.push(`Argo CD application ${application.namespace}/${application.name} still present${deleting}`);
  }
  if (namespace.object) {
    const blockers = conditionsOf(namespace.object)
      .filter((c) => c.status === 'True' && c.message)
      .map((c) => `${c.type}: ${c.message}`);
    left.push(
      `namespace ${namespace.name} still ${phaseOf(namespace.object) ?? 'present'}` +
        (blockers.length > 0 ? ` (${blockers.join('; ')})` : ''),
    );
  }
  return left;
}
