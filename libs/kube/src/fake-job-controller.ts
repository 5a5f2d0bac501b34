import type { Controller, ObjectStore, Stored } from './fake-api-store';
import { ownerRef, podStatus, suffix } from './fake-kubelet';

/**
 * The API double's Job controller: a pod that runs, then `Succeeded` and the Job `Complete`, or, for the Jobs
 * named in `failing`, `Failed` and the Job `Failed` (BackoffLimitExceeded).
 */
export class JobController implements Controller {
  readonly kind = 'Job';

  constructor(
    private readonly store: ObjectStore,
    private readonly jobDurationMs: number,
    readonly failing: Set<string>,
    private readonly unpullable: (image: string | undefined) => boolean,
  ) {}

  start(key: string, job: Stored): void {
    // Passes survive a new generation: the pod template, all a pass reads of the spec, is immutable.
    this.store.reconcile(
      key,
      job,
      this.jobDurationMs,
      (current, finished) => this.sync(current, finished),
      false,
    );
  }

  private sync(job: Stored, finished: boolean): void {
    const name = job.metadata.name;
    const uid = job.metadata.uid;
    const template = (
      (job.spec ?? {}) as { template?: { metadata?: { labels?: Record<string, string> }; spec?: unknown } }
    ).template;
    const now = new Date().toISOString();
    let pod = this.store.childrenOf(job, 'Pod')[0];
    if (!pod) {
      pod = this.store.put({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          name: `${name}-${suffix()}`,
          generateName: `${name}-`,
          namespace: job.metadata.namespace,
          labels: {
            ...(template?.metadata?.labels ?? {}),
            'batch.kubernetes.io/controller-uid': String(uid),
            'batch.kubernetes.io/job-name': name,
            'controller-uid': String(uid),
            'job-name': name,
          },
          ownerReferences: [ownerRef(job)],
        },
        spec: structuredClone(template?.spec ?? {}),
      });
    }
    const outcome = !finished ? 'creating' : this.failing.has(name) ? 'failed' : 'completed';
    pod.status = podStatus(pod, outcome, finished, this.unpullable);
    const phase = (pod.status as { phase: string }).phase;
    const startTime = (job.status?.startTime as string | undefined) ?? now;
    // The two conditions the controller sets when a Job ends, with one reason and message.
    const ended = (types: [string, string], reason: string, message: string) =>
      types.map((type) => ({ type, status: 'True', reason, message, lastTransitionTime: now }));
    if (phase === 'Succeeded') {
      job.status = {
        startTime,
        completionTime: now,
        succeeded: 1,
        conditions: ended(
          ['SuccessCriteriaMet', 'Complete'],
          'CompletionsReached',
          'Reached expected number of succeeded pods',
        ),
      };
    } else if (phase === 'Failed') {
      job.status = {
        startTime,
        failed: 1,
        conditions: ended(
          ['FailureTarget', 'Failed'],
          'BackoffLimitExceeded',
          'Job has reached the specified backoff limit',
        ),
      };
    } else {
      job.status = { startTime, active: 1, ready: 0 };
    }
    job.metadata.resourceVersion = this.store.nextResourceVersion();
  }
}
