import { createHash, randomBytes } from 'node:crypto';
import type { KubeObject } from './schema';

/**
 * What the API double's controllers write: the kubelet's pod and container status, and the small helpers the
 * controllers share. Runtime code like the double itself: no Jest here.
 */

export interface Container {
  name: string;
  image?: string;
}
export interface Condition {
  type: string;
  status: 'True' | 'False';
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
  [key: string]: unknown;
}
/** What a container is doing, as the kubelet would report it. */
export type Outcome =
  | 'creating'
  | 'initializing'
  | 'pull-error'
  | 'pull-backoff'
  | 'ready'
  | 'unready'
  | 'crash'
  | 'completed'
  | 'failed';

/** The kubelet's report for a pod whose main containers have `main` as outcome (image pulls aside). */
export function podStatus(
  pod: KubeObject,
  main: Outcome,
  settled: boolean,
  unpullable: (image: string | undefined) => boolean,
): Record<string, unknown> {
  const spec = (pod.spec ?? {}) as { containers?: Container[]; initContainers?: Container[] };
  const now = new Date().toISOString();
  const pullOutcome: Outcome = settled ? 'pull-backoff' : 'pull-error';
  const init = (spec.initContainers ?? []).map((container) =>
    containerStatus(
      container,
      unpullable(container.image) ? pullOutcome : settled ? 'completed' : 'creating',
      pod.metadata.name,
      now,
    ),
  );
  const initBlocked = init.some((s) => s.state && 'waiting' in (s.state as object));
  const containers = (spec.containers ?? []).map((container) =>
    containerStatus(
      container,
      initBlocked ? 'initializing' : unpullable(container.image) ? pullOutcome : main,
      pod.metadata.name,
      now,
    ),
  );
  const outcomes = containers.map((s) => s.outcome);
  const phase = outcomes.some((o) => ['creating', 'initializing', 'pull-error', 'pull-backoff'].includes(o))
    ? 'Pending'
    : outcomes.every((o) => o === 'completed')
      ? 'Succeeded'
      : outcomes.some((o) => o === 'failed')
        ? 'Failed'
        : 'Running';
  const ready = phase === 'Running' && containers.every((s) => s.ready);
  const condition = (type: string, value: boolean, reason?: string): Condition => ({
    type,
    status: value ? 'True' : 'False',
    ...(reason && !value ? { reason } : {}),
    lastTransitionTime: now,
  });
  return {
    phase,
    conditions: [
      condition('PodScheduled', true),
      condition('Initialized', !initBlocked, 'ContainersNotInitialized'),
      condition('ContainersReady', ready, 'ContainersNotReady'),
      condition('Ready', ready, 'ContainersNotReady'),
    ],
    startTime: (pod.status as { startTime?: string } | undefined)?.startTime ?? now,
    ...(init.length > 0 ? { initContainerStatuses: init.map(({ outcome: _o, ...s }) => s) } : {}),
    containerStatuses: containers.map(({ outcome: _o, ...s }) => s),
  };
}

export function containerStatus(
  container: Container,
  outcome: Outcome,
  pod: string,
  now: string,
): Record<string, unknown> & { outcome: Outcome; ready: boolean } {
  const base = { name: container.name, image: container.image, imageID: '', outcome };
  // A container that is not running: not ready, not started, waiting for `reason`.
  const waiting = (reason: string, message?: string, restartCount = 0) => ({
    ...base,
    ready: false,
    started: false,
    restartCount,
    state: { waiting: { reason, ...(message ? { message } : {}) } },
  });
  switch (outcome) {
    case 'creating':
      return waiting('ContainerCreating');
    case 'initializing':
      return waiting('PodInitializing');
    case 'pull-error':
      return waiting('ErrImagePull', `failed to pull and unpack image "${container.image}": not found`);
    case 'pull-backoff':
      return waiting('ImagePullBackOff', `Back-off pulling image "${container.image}"`);
    case 'ready':
    case 'unready':
      return {
        ...base,
        ready: outcome === 'ready',
        started: true,
        restartCount: 0,
        state: { running: { startedAt: now } },
      };
    case 'crash':
      return {
        ...waiting(
          'CrashLoopBackOff',
          `back-off 40s restarting failed container=${container.name} pod=${pod}`,
          3,
        ),
        lastState: { terminated: { exitCode: 1, reason: 'Error', startedAt: now, finishedAt: now } },
      };
    case 'completed':
    case 'failed':
      return {
        ...base,
        ready: false,
        started: false,
        restartCount: 0,
        state: {
          terminated: {
            exitCode: outcome === 'completed' ? 0 : 1,
            reason: outcome === 'completed' ? 'Completed' : 'Error',
            startedAt: now,
            finishedAt: now,
          },
        },
      };
  }
}

export function podIsReady(pod: KubeObject): boolean {
  const conditions = (pod.status as { conditions?: Condition[] } | undefined)?.conditions ?? [];
  return conditions.some((c) => c.type === 'Ready' && c.status === 'True');
}

export function ownerRef(owner: KubeObject) {
  return {
    apiVersion: owner.apiVersion,
    kind: owner.kind,
    name: owner.metadata.name,
    uid: owner.metadata.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** The Deployment default `maxUnavailable: 25%`, rounded down as the controller does. */
export function unavailableAllowed(value: number | string | undefined, replicas: number): number {
  if (typeof value === 'number') return value;
  const percent = typeof value === 'string' && value.endsWith('%') ? Number(value.slice(0, -1)) : 25;
  return Math.floor((replicas * percent) / 100);
}

/** Keeps a condition's transition time while its status does not change. */
export function withTransition(previous: Condition[], next: Condition): Condition {
  const before = previous.find((c) => c.type === next.type);
  const now = new Date().toISOString();
  return {
    ...next,
    lastUpdateTime: now,
    lastTransitionTime: before && before.status === next.status ? before.lastTransitionTime : now,
  };
}

/** The API server omits zero counts (`omitempty`), and readers must cope. */
export function omitZero(counts: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(counts).filter(([, value]) => value !== 0 && value !== undefined));
}

export function num(value: unknown): number {
  return typeof value === 'number' ? value : 0;
}

/** JSON with sorted keys: YAML and stored objects compare by content, not key order. */
export function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
      .map((key) => `${JSON.stringify(key)}:${canonical((value as Record<string, unknown>)[key])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export function shortHash(value: unknown): string {
  return createHash('sha256').update(canonical(value)).digest('hex').slice(0, 10);
}

/** The five characters a controller appends to generated names (no vowels, as upstream). */
export function suffix(): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  return [...randomBytes(5)].map((byte) => alphabet[byte % alphabet.length]).join('');
}
