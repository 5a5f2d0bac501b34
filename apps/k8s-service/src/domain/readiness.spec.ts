import type { KubeObject } from '@app/kube';
import {
  type TenantObservation,
  deploymentProblem,
  evaluateReadiness,
  jobFailure,
  podProblems,
  purgeLeftovers,
} from './readiness';

const NS = 'e-commerce-acme-1a2b3c';
const JOB = 'tenant-migration-acme-1a2b3c';

function deployment(
  name: string,
  status: Record<string, unknown>,
  spec: Record<string, unknown> = { replicas: 2 },
  generation = 1,
): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: NS, generation },
    spec,
    status,
  };
}
const availableTrue = { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable' };
const availableFalse = { type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable' };
const ready = (name: string, replicas = 2) =>
  deployment(
    name,
    {
      observedGeneration: 1,
      replicas,
      updatedReplicas: replicas,
      readyReplicas: replicas,
      availableReplicas: replicas,
      conditions: [availableTrue, { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable' }],
    },
    { replicas },
  );

function pod(
  name: string,
  phase: string,
  containers: Record<string, unknown>[],
  extra: { labels?: Record<string, string>; init?: Record<string, unknown>[]; owner?: string } = {},
): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: NS,
      labels: extra.labels ?? {},
      ownerReferences: extra.owner ? [{ kind: 'Job', name: extra.owner }] : [],
    },
    status: {
      phase,
      containerStatuses: containers,
      ...(extra.init ? { initContainerStatuses: extra.init } : {}),
    },
  };
}
const waiting = (name: string, reason: string) => ({ name, state: { waiting: { reason } } });
const terminated = (name: string, reason: string, exitCode: number) => ({
  name,
  state: { terminated: { reason, exitCode } },
});

function job(conditions: Record<string, unknown>[], status: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: JOB, namespace: NS },
    status: { ...status, conditions },
  };
}
const complete = job([{ type: 'Complete', status: 'True' }], { succeeded: 1 });
const certificate = (readyStatus: string, reason = 'Ready'): KubeObject => ({
  apiVersion: 'cert-manager.io/v1',
  kind: 'Certificate',
  metadata: { name: 'tenant-tls', namespace: NS },
  status: { conditions: [{ type: 'Ready', status: readyStatus, reason }] },
});

function observation(overrides: Partial<TenantObservation> = {}): TenantObservation {
  return {
    namespaceName: NS,
    namespace: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS }, status: { phase: 'Active' } },
    expectedDeployments: ['api-gateway', 'products-service'],
    deployments: [ready('api-gateway', 3), ready('products-service')],
    pods: [],
    jobName: JOB,
    job: complete,
    certificateName: 'tenant-tls',
    certificate: certificate('True'),
    ...overrides,
  };
}

describe('deploymentProblem: ready from status, at the current generation', () => {
  it('is ready when Available and every replica is available and updated', () => {
    expect(deploymentProblem(ready('api-gateway', 3))).toBeUndefined();
  });

  it('is not ready while the controller has not observed the current generation', () => {
    const stale = { ...ready('api-gateway'), metadata: { name: 'api-gateway', generation: 2 } };
    expect(deploymentProblem(stale)).toBe(
      'deployment api-gateway: generation 2 not observed yet (observed 1)',
    );
  });

  it('is not ready when Available is True but fewer replicas are available than wanted (25% may be missing)', () => {
    const partial = deployment(
      'api-gateway',
      { observedGeneration: 1, updatedReplicas: 4, availableReplicas: 3, conditions: [availableTrue] },
      { replicas: 4 },
    );
    expect(deploymentProblem(partial)).toBe('deployment api-gateway: 3/4 available');
  });

  it('is not ready while old pods count as available in a rollout (updatedReplicas short)', () => {
    const rolling = deployment('api-gateway', {
      observedGeneration: 1,
      updatedReplicas: 1,
      availableReplicas: 2,
      conditions: [availableTrue],
    });
    expect(deploymentProblem(rolling)).toBe('deployment api-gateway: 2/2 available, 1/2 updated');
  });

  it('reads absent counts as zero (the API server omits zeros), names Available and a failed Progressing', () => {
    const stuck = deployment('products-service', {
      observedGeneration: 1,
      conditions: [
        availableFalse,
        { type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' },
      ],
    });
    expect(deploymentProblem(stuck)).toBe(
      'deployment products-service: 0/2 available, 0/2 updated, Available=False (MinimumReplicasUnavailable), ' +
        'Progressing=False (ProgressDeadlineExceeded)',
    );
  });

  it('defaults spec.replicas to 1', () => {
    const one = deployment(
      'messages-broker',
      { observedGeneration: 1, updatedReplicas: 1, availableReplicas: 1, conditions: [availableTrue] },
      {},
    );
    expect(deploymentProblem(one)).toBeUndefined();
  });
});

describe('podProblems: waiting reasons that will not clear by themselves', () => {
  it.each([
    'CrashLoopBackOff',
    'ImagePullBackOff',
    'ErrImagePull',
    'CreateContainerConfigError',
    'InvalidImageName',
  ])('names a container waiting with %s', (reason) => {
    expect(podProblems(pod('p', 'Pending', [waiting('products-service', reason)]))).toEqual([
      `container products-service ${reason}`,
    ]);
  });

  it('names a crash-looping container of a Running pod (phase Running is not ready)', () => {
    const crashing = pod('products-service-abc', 'Running', [
      { ...waiting('products-service', 'CrashLoopBackOff'), restartCount: 4 },
    ]);
    expect(podProblems(crashing)).toEqual(['container products-service CrashLoopBackOff']);
  });

  it('names init containers as such, and leaves the kubelet’s normal waits alone', () => {
    const initializing = pod('p', 'Pending', [waiting('app', 'PodInitializing')], {
      init: [waiting('wait-for-db', 'CrashLoopBackOff')],
    });
    expect(podProblems(initializing)).toEqual(['init container wait-for-db CrashLoopBackOff']);
    expect(podProblems(pod('p', 'Pending', [waiting('app', 'ContainerCreating')]))).toEqual([]);
  });
});

describe('jobFailure', () => {
  const failed = job([
    { type: 'FailureTarget', status: 'True', reason: 'BackoffLimitExceeded' },
    {
      type: 'Failed',
      status: 'True',
      reason: 'BackoffLimitExceeded',
      message: 'Job has reached the specified backoff limit',
    },
  ]);

  it('names the job, its condition reason and its pod’s terminated reason and exit code', () => {
    const jobPod = pod(`${JOB}-x7k2p`, 'Failed', [terminated('migrate', 'Error', 1)], {
      labels: { 'batch.kubernetes.io/job-name': JOB },
    });
    const other = pod('api-gateway-1', 'Failed', [terminated('api-gateway', 'OOMKilled', 137)]);
    expect(jobFailure(failed, [jobPod, other])).toBe(
      `job ${JOB} failed: BackoffLimitExceeded: Job has reached the specified backoff limit; ` +
        `pod ${JOB}-x7k2p: container migrate terminated Error, exit code 1`,
    );
  });

  it('finds the pod by owner reference too, and keeps the condition reason when the pods are gone', () => {
    const owned = pod(`${JOB}-q9z`, 'Failed', [terminated('migrate', 'OOMKilled', 137)], { owner: JOB });
    expect(jobFailure(failed, [owned])).toMatch(
      /pod .*-q9z: container migrate terminated OOMKilled, exit code 137$/,
    );
    expect(jobFailure(failed, [])).toBe(
      `job ${JOB} failed: BackoffLimitExceeded: Job has reached the specified backoff limit`,
    );
  });

  it('is undefined for a running or complete job; FailureTarget alone already decides the outcome', () => {
    expect(jobFailure(job([], { active: 1 }), [])).toBeUndefined();
    expect(jobFailure(complete, [])).toBeUndefined();
    expect(jobFailure(job([{ type: 'FailureTarget', status: 'True', reason: 'DeadlineExceeded' }]), [])).toBe(
      `job ${JOB} failed: DeadlineExceeded`,
    );
  });
});

describe('evaluateReadiness', () => {
  it('is ready with every Deployment available, the Job Complete (its pod Succeeded) and the certificate Ready', () => {
    const jobPod = pod(`${JOB}-abcde`, 'Succeeded', [terminated('migrate', 'Completed', 0)], {
      labels: { 'job-name': JOB },
    });
    const result = evaluateReadiness(observation({ pods: [jobPod] }));
    expect(result).toEqual({
      pending: [],
      facts: {
        deploymentsAvailable: 2,
        deploymentsExpected: 2,
        migrationJobComplete: true,
        certificateReady: true,
      },
    });
  });

  it('lists everything not ready yet: a missing Deployment, a running Job, a certificate being issued', () => {
    const result = evaluateReadiness(
      observation({
        deployments: [ready('api-gateway', 3)],
        job: job([], { active: 1 }),
        certificate: certificate('False', 'DoesNotExist'),
      }),
    );
    expect(result.pending).toEqual([
      'deployment products-service not found',
      `job ${JOB} not complete (1 active)`,
      'certificate tenant-tls not ready (Ready=False (DoesNotExist))',
    ]);
    expect(result.facts).toEqual({
      deploymentsAvailable: 1,
      deploymentsExpected: 2,
      migrationJobComplete: false,
      certificateReady: false,
    });
    expect(result.migrationFailure).toBeUndefined();
  });

  it('names crash-looping and image-pull pods with their reasons, but not the pods of a completed Job', () => {
    const result = evaluateReadiness(
      observation({
        deployments: [
          ready('api-gateway', 3),
          deployment('products-service', { observedGeneration: 1, conditions: [availableFalse] }),
        ],
        pods: [
          pod('products-service-abc', 'Running', [waiting('products-service', 'CrashLoopBackOff')]),
          pod('api-gateway-xyz', 'Pending', [waiting('api-gateway', 'ImagePullBackOff')]),
          // A completed Job's pod that crashed once before succeeding is history, not a failure.
          pod(`${JOB}-old`, 'Running', [waiting('migrate', 'CrashLoopBackOff')], { owner: JOB }),
        ],
      }),
    );
    expect(result.pending).toEqual([
      expect.stringMatching(/^deployment products-service: 0\/2 available/),
      'pod products-service-abc: container products-service CrashLoopBackOff',
      'pod api-gateway-xyz: container api-gateway ImagePullBackOff',
    ]);
  });

  it('bounds the pods it names and counts the rest', () => {
    const pods = Array.from({ length: 9 }, (_, i) =>
      pod(`products-service-${i}`, 'Pending', [waiting('products-service', 'ErrImagePull')]),
    );
    const result = evaluateReadiness(observation({ pods }));
    expect(result.pending).toHaveLength(7);
    expect(result.pending.at(-1)).toBe('3 more failing containers');
  });

  it('reports a failed migration Job apart, as a failure no wait will fix', () => {
    const failed = job([{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded' }], { failed: 1 });
    const result = evaluateReadiness(observation({ job: failed }));
    expect(result.migrationFailure).toBe(`job ${JOB} failed: BackoffLimitExceeded`);
    expect(result.pending).toEqual([]);
  });

  it('checks the namespace and, in GitOps mode, the Argo CD Application', () => {
    const app = (sync: string, health: string): KubeObject => ({
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Application',
      metadata: { name: 'tenant-acme', namespace: 'argocd' },
      status: { sync: { status: sync }, health: { status: health } },
    });
    expect(
      evaluateReadiness(
        observation({
          namespace: {
            apiVersion: 'v1',
            kind: 'Namespace',
            metadata: { name: NS },
            status: { phase: 'Terminating' },
          },
          application: { name: 'tenant-acme', object: app('OutOfSync', 'Progressing') },
        }),
      ).pending,
    ).toEqual([`namespace ${NS} is Terminating`, 'Argo CD application tenant-acme is OutOfSync/Progressing']);
    expect(
      evaluateReadiness(observation({ namespace: undefined, application: { name: 'tenant-acme' } })).pending,
    ).toEqual([`namespace ${NS} not found`, 'Argo CD application tenant-acme not found']);
    expect(
      evaluateReadiness(
        observation({ application: { name: 'tenant-acme', object: app('Synced', 'Healthy') } }),
      ).pending,
    ).toEqual([]);
  });
});

describe('purgeLeftovers', () => {
  const application = { name: 'tenant-acme', namespace: 'argocd' };
  it('is empty once the Application and the namespace are gone', () => {
    expect(purgeLeftovers(application, { name: NS })).toEqual([]);
  });
  it('names an Application being pruned and a namespace Terminating with its blocking conditions', () => {
    const app: KubeObject = {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Application',
      metadata: { name: 'tenant-acme', deletionTimestamp: '2025-01-01T00:00:00Z' },
    };
    const ns: KubeObject = {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: NS },
      status: {
        phase: 'Terminating',
        conditions: [
          { type: 'NamespaceDeletionDiscoveryFailure', status: 'False', message: 'All resources discovered' },
          {
            type: 'NamespaceFinalizersRemaining',
            status: 'True',
            message:
              'Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances',
          },
        ],
      },
    };
    expect(purgeLeftovers({ ...application, object: app }, { name: NS, object: ns })).toEqual([
      'Argo CD application argocd/tenant-acme still present, being deleted (pruning)',
      `namespace ${NS} still Terminating (NamespaceFinalizersRemaining: Some content in the namespace has ` +
        'finalizers remaining: example.com/hold in 1 resource instances)',
    ]);
  });
});
