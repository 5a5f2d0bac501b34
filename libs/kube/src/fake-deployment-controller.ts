import type { Controller, ObjectStore, Stored } from './fake-api-store';
import {
  type Condition,
  type Outcome,
  omitZero,
  ownerRef,
  podIsReady,
  podStatus,
  shortHash,
  suffix,
  unavailableAllowed,
  withTransition,
} from './fake-kubelet';

/**
 * The API double's Deployment controller: a ReplicaSet and its pods, then the Deployment's replica counts and
 * its `Available`/`Progressing` conditions. Pods of the Deployments named in `neverAvailable` run but never
 * become ready, those in `crashLooping` crash-loop, and images `unpullable` says no to cannot be pulled.
 */
export class DeploymentController implements Controller {
  readonly kind = 'Deployment';

  constructor(
    private readonly store: ObjectStore,
    private readonly rolloutDelayMs: number,
    readonly neverAvailable: Set<string>,
    readonly crashLooping: Set<string>,
    private readonly unpullable: (image: string | undefined) => boolean,
  ) {}

  start(key: string, deployment: Stored): void {
    this.store.reconcile(key, deployment, this.rolloutDelayMs, (current, settled) =>
      this.sync(current, settled),
    );
  }

  /** One pass of the controller; `settled`: the rollout delay has passed. */
  private sync(deployment: Stored, settled: boolean): void {
    const store = this.store;
    const name = deployment.metadata.name;
    const namespace = deployment.metadata.namespace!;
    const generation = deployment.metadata.generation;
    const spec = (deployment.spec ?? {}) as {
      replicas?: number;
      selector?: unknown;
      template?: { metadata?: { labels?: Record<string, string> }; spec?: Record<string, unknown> };
      strategy?: { rollingUpdate?: { maxUnavailable?: number | string } };
    };
    const replicas = typeof spec.replicas === 'number' ? spec.replicas : 1;
    const hash = shortHash(spec.template);
    const rsName = `${name}-${hash}`;
    // A new template replaces the old ReplicaSet (and, by garbage collection, its pods) at once.
    for (const old of store.childrenOf(deployment, 'ReplicaSet')) {
      if (old.metadata.name !== rsName) store.deleteObject(store.keyOf(old));
    }
    const labels = { ...(spec.template?.metadata?.labels ?? {}), 'pod-template-hash': hash };
    const replicaSet =
      store.find('apps/v1', 'ReplicaSet', namespace, rsName) ??
      store.put({
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        metadata: {
          name: rsName,
          namespace,
          labels,
          ownerReferences: [ownerRef(deployment)],
        },
        spec: { replicas, selector: spec.selector, template: { ...spec.template, metadata: { labels } } },
      });
    (replicaSet.spec as { replicas: number }).replicas = replicas;

    let pods = store.childrenOf(replicaSet, 'Pod');
    for (const extra of pods.slice(replicas)) store.deleteObject(store.keyOf(extra));
    pods = pods.slice(0, replicas);
    while (pods.length < replicas) {
      pods.push(
        store.put({
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: {
            name: `${rsName}-${suffix()}`,
            generateName: `${rsName}-`,
            namespace,
            labels,
            ownerReferences: [ownerRef(replicaSet)],
          },
          spec: structuredClone(spec.template?.spec ?? {}),
        }),
      );
    }
    for (const pod of pods) {
      if (settled || !pod.status) pod.status = this.podStatus(pod, name, settled);
    }
    const ready = pods.filter((pod) => podIsReady(pod)).length;
    replicaSet.status = omitZero({
      replicas: pods.length,
      readyReplicas: ready,
      availableReplicas: ready,
      observedGeneration: 1,
    });

    const maxUnavailable = unavailableAllowed(spec.strategy?.rollingUpdate?.maxUnavailable, replicas);
    const available = ready >= replicas - maxUnavailable;
    const previous = (deployment.status?.conditions as Condition[] | undefined) ?? [];
    const progressing: Condition =
      ready === replicas
        ? {
            type: 'Progressing',
            status: 'True',
            reason: 'NewReplicaSetAvailable',
            message: `ReplicaSet "${rsName}" has successfully progressed.`,
          }
        : settled
          ? {
              type: 'Progressing',
              status: 'False',
              reason: 'ProgressDeadlineExceeded',
              message: `ReplicaSet "${rsName}" has timed out progressing.`,
            }
          : {
              type: 'Progressing',
              status: 'True',
              reason: 'ReplicaSetUpdated',
              message: `ReplicaSet "${rsName}" is progressing.`,
            };
    deployment.status = {
      ...omitZero({
        observedGeneration: generation,
        replicas: pods.length,
        updatedReplicas: pods.length,
        readyReplicas: ready,
        availableReplicas: ready,
        unavailableReplicas: replicas - ready,
      }),
      conditions: [
        withTransition(previous, {
          type: 'Available',
          status: available ? 'True' : 'False',
          reason: available ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable',
          message: available
            ? 'Deployment has minimum availability.'
            : 'Deployment does not have minimum availability.',
        }),
        withTransition(previous, progressing),
      ],
    };
    deployment.metadata.resourceVersion = store.nextResourceVersion();
  }

  private podStatus(pod: Stored, deployment: string, settled: boolean): Record<string, unknown> {
    const main: Outcome = !settled
      ? 'creating'
      : this.crashLooping.has(deployment)
        ? 'crash'
        : this.neverAvailable.has(deployment)
          ? 'unready'
          : 'ready';
    return podStatus(pod, main, settled, this.unpullable);
  }
}
