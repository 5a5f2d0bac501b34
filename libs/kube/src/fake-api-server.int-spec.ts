import { randomBytes } from 'node:crypto';
import { FakeApiServer, type FakeApiServerOptions } from './fake-api-server';
import { KubeClient } from './kube-client';
import type { KubeObject } from './schema';

/**
 * The API double's controllers, through @kubernetes/client-node: each behaviour the services read back
 * (generation, status subresource, Deployment/Job/Certificate status, pods, garbage collection, Terminating).
 */
const MANAGER = 'fake-api-server-test';
let server: FakeApiServer;
let client: KubeClient;
let ns: string;

async function startWith(options: FakeApiServerOptions = {}): Promise<void> {
  server = new FakeApiServer({ terminationDelayMs: 30, ...options });
  client = new KubeClient({ server: await server.start() }, MANAGER);
  ns = `e-commerce-test-${randomBytes(3).toString('hex')}`;
  await client.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
}
afterEach(() => server?.stop());

/** Polls until `check` returns a value (not undefined) or fails with the last observation. */
async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 3000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function deployment(name: string, replicas: number | undefined, image = `ecommerce/${name}:v1`): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: ns, labels: { tenant: 't' } },
    spec: {
      ...(replicas === undefined ? {} : { replicas }),
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name, version: 'v1' } },
        spec: { containers: [{ name, image, ports: [{ containerPort: 8000 }] }] },
      },
    },
  };
}
function job(name: string): KubeObject {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace: ns },
    spec: {
      backoffLimit: 3,
      template: {
        spec: {
          containers: [{ name: 'migrate', image: 'ecommerce/auth-service:v1' }],
          restartPolicy: 'OnFailure',
        },
      },
    },
  };
}
function certificate(name = 'tenant-tls'): KubeObject {
  return {
    apiVersion: 'cert-manager.io/v1',
    kind: 'Certificate',
    metadata: { name, namespace: ns },
    spec: {
      secretName: 'tenant-tls-secret',
      issuerRef: { name: 'letsencrypt-prod', kind: 'ClusterIssuer' },
      dnsNames: ['shop.example.com'],
    },
  };
}

type Status = Record<string, unknown> & {
  conditions?: { type: string; status: string; reason?: string }[];
};
const statusOf = (object: KubeObject | undefined) => (object?.status ?? {}) as Status;
const conditionOf = (object: KubeObject | undefined, type: string) =>
  statusOf(object).conditions?.find((c) => c.type === type);
const podsOf = async (prefix: string) =>
  (await client.list('v1', 'Pod', ns)).filter((pod) => pod.metadata.name.startsWith(`${prefix}-`));
const containerOf = (pod: KubeObject) =>
  (pod.status as { containerStatuses: Record<string, unknown>[] }).containerStatuses[0] as {
    ready: boolean;
    restartCount: number;
    state: {
      waiting?: { reason: string };
      running?: unknown;
      terminated?: { reason: string; exitCode: number };
    };
  };

describe('FakeApiServer: the API server part', () => {
  it('sets metadata.generation on create and moves it only when the spec changes', async () => {
    await startWith({ rolloutDelayMs: 10 });
    expect((await client.apply(deployment('api-gateway', 1))).metadata.generation).toBe(1);
    expect((await client.apply(deployment('api-gateway', 1))).metadata.generation).toBe(1);
    const relabelled = deployment('api-gateway', 1);
    relabelled.metadata.labels = { tenant: 't', extra: 'yes' };
    expect((await client.apply(relabelled)).metadata.generation).toBe(1);
    expect((await client.apply(deployment('api-gateway', 2))).metadata.generation).toBe(2);
  });

  it('ignores the status of an applied object whose type has a status subresource', async () => {
    await startWith({ rolloutDelayMs: 10 });
    await client.apply(deployment('api-gateway', 1));
    await eventually('the controller status', async () =>
      conditionOf(await client.read('apps/v1', 'Deployment', 'api-gateway', ns), 'Available')?.status ===
      'True'
        ? true
        : undefined,
    );
    const lying = { ...deployment('api-gateway', 1), status: { availableReplicas: 7, conditions: [] } };
    const stored = await client.apply(lying);
    expect(statusOf(stored).availableReplicas).toBe(1);
    expect(conditionOf(stored, 'Available')?.status).toBe('True');
    // On create too: a new Job's status is the controller's, not the manifest's.
    const created = await client.apply({ ...job('tenant-migration-x'), status: { succeeded: 1 } });
    expect(statusOf(created).succeeded).toBeUndefined();
  });

  it('refuses to change a Job’s pod template (immutable)', async () => {
    await startWith();
    await client.apply(job('tenant-migration-x'));
    const changed = job('tenant-migration-x');
    (
      changed.spec as { template: { spec: { containers: { image: string }[] } } }
    ).template.spec.containers[0].image = 'ecommerce/auth-service:v2';
    await expect(client.apply(changed)).rejects.toMatchObject({
      code: 'K8S.REJECTED',
      message: expect.stringMatching(/field is immutable/),
    });
  });
});

describe('FakeApiServer: the Deployment controller', () => {
  it('creates the pods of a ReplicaSet, then reports the Deployment Available at its generation', async () => {
    await startWith({ rolloutDelayMs: 1000 });
    await client.apply(deployment('api-gateway', 3));
    // Before the delay: pods exist, are not ready, and the Deployment is not Available.
    const early = await eventually('pods', async () =>
      (await podsOf('api-gateway')).length === 3 ? true : undefined,
    );
    expect(early).toBe(true);
    const progressing = await client.read('apps/v1', 'Deployment', 'api-gateway', ns);
    expect(statusOf(progressing)).toMatchObject({ observedGeneration: 1, replicas: 3, updatedReplicas: 3 });
    expect(statusOf(progressing).availableReplicas).toBeUndefined(); // zero is omitted, as the API server does
    expect(conditionOf(progressing, 'Available')).toMatchObject({
      status: 'False',
      reason: 'MinimumReplicasUnavailable',
    });
    expect(containerOf((await podsOf('api-gateway'))[0]).state.waiting?.reason).toBe('ContainerCreating');

    const done = await eventually('Available', async () => {
      const d = await client.read('apps/v1', 'Deployment', 'api-gateway', ns);
      return conditionOf(d, 'Available')?.status === 'True' ? d : undefined;
    });
    expect(statusOf(done)).toMatchObject({
      observedGeneration: 1,
      replicas: 3,
      readyReplicas: 3,
      availableReplicas: 3,
      updatedReplicas: 3,
    });
    expect(conditionOf(done, 'Progressing')).toMatchObject({
      status: 'True',
      reason: 'NewReplicaSetAvailable',
    });

    const pods = await podsOf('api-gateway');
    expect(pods).toHaveLength(3);
    const [replicaSet] = await client.list('apps/v1', 'ReplicaSet', ns);
    expect(replicaSet.metadata.ownerReferences).toEqual([
      expect.objectContaining({
        kind: 'Deployment',
        name: 'api-gateway',
        uid: done.metadata.uid,
        controller: true,
      }),
    ]);
    for (const pod of pods) {
      expect(pod.metadata.labels).toMatchObject({
        app: 'api-gateway',
        version: 'v1',
        'pod-template-hash': expect.any(String),
      });
      expect(pod.metadata.ownerReferences).toEqual([
        expect.objectContaining({
          kind: 'ReplicaSet',
          name: replicaSet.metadata.name,
          uid: replicaSet.metadata.uid,
        }),
      ]);
      expect(statusOf(pod).phase).toBe('Running');
      expect(containerOf(pod)).toMatchObject({
        ready: true,
        restartCount: 0,
        state: { running: expect.any(Object) },
      });
    }
  });

  it('scales with spec.replicas (default 1) and reports the new generation', async () => {
    await startWith({ rolloutDelayMs: 10 });
    await client.apply(deployment('messages-broker', undefined));
    await eventually('one pod ready', async () =>
      statusOf(await client.read('apps/v1', 'Deployment', 'messages-broker', ns)).availableReplicas === 1
        ? true
        : undefined,
    );
    await client.apply(deployment('messages-broker', 0));
    const scaledDown = await eventually('scaled to 0', async () => {
      const d = await client.read('apps/v1', 'Deployment', 'messages-broker', ns);
      return statusOf(d).observedGeneration === 2 && (await podsOf('messages-broker')).length === 0
        ? d
        : undefined;
    });
    expect(conditionOf(scaledDown, 'Available')?.status).toBe('True');
    await client.apply(deployment('messages-broker', 2));
    await eventually('two pods ready', async () => {
      const d = await client.read('apps/v1', 'Deployment', 'messages-broker', ns);
      return statusOf(d).observedGeneration === 3 && statusOf(d).availableReplicas === 2 ? true : undefined;
    });
  });

  it('a Deployment told never to be available: pods Running but not ready, progress deadline exceeded', async () => {
    await startWith({ rolloutDelayMs: 20, neverAvailable: ['products-service'] });
    await client.apply(deployment('products-service', 2));
    const stuck = await eventually('deadline', async () => {
      const d = await client.read('apps/v1', 'Deployment', 'products-service', ns);
      return conditionOf(d, 'Progressing')?.status === 'False' ? d : undefined;
    });
    expect(conditionOf(stuck, 'Progressing')?.reason).toBe('ProgressDeadlineExceeded');
    expect(conditionOf(stuck, 'Available')?.status).toBe('False');
    for (const pod of await podsOf('products-service')) {
      expect(statusOf(pod).phase).toBe('Running');
      expect(containerOf(pod)).toMatchObject({ ready: false, state: { running: expect.any(Object) } });
    }
  });

  it('an image that cannot be pulled: ErrImagePull, then ImagePullBackOff, the Deployment not Available', async () => {
    await startWith({ rolloutDelayMs: 1000 });
    server.failImagePull(/:does-not-exist$/);
    await client.apply(deployment('orders-service', 1, 'ecommerce/orders-service:does-not-exist'));
    const first = await eventually('a pod', async () => (await podsOf('orders-service'))[0]);
    expect(statusOf(first).phase).toBe('Pending');
    expect(containerOf(first).state.waiting?.reason).toBe('ErrImagePull');
    const stuck = await eventually('deadline', async () => {
      const d = await client.read('apps/v1', 'Deployment', 'orders-service', ns);
      return conditionOf(d, 'Progressing')?.status === 'False' ? d : undefined;
    });
    expect(conditionOf(stuck, 'Progressing')?.reason).toBe('ProgressDeadlineExceeded');
    expect(conditionOf(stuck, 'Available')?.status).toBe('False');
    const [pod] = await podsOf('orders-service');
    expect(statusOf(pod).phase).toBe('Pending');
    expect(containerOf(pod).state.waiting?.reason).toBe('ImagePullBackOff');
  });

  it('a crash-looping Deployment: phase Running, container waiting CrashLoopBackOff, restarted, not ready', async () => {
    await startWith({ rolloutDelayMs: 10 });
    server.crashLoop('baskets-service');
    await client.apply(deployment('baskets-service', 1));
    const pod = await eventually('crash loop', async () => {
      const [p] = await podsOf('baskets-service');
      return p && containerOf(p).state.waiting?.reason === 'CrashLoopBackOff' ? p : undefined;
    });
    expect(statusOf(pod).phase).toBe('Running');
    expect(containerOf(pod).ready).toBe(false);
    expect(containerOf(pod).restartCount).toBeGreaterThan(0);
    const d = await client.read('apps/v1', 'Deployment', 'baskets-service', ns);
    expect(conditionOf(d, 'Available')?.status).toBe('False');
  });

  it('deleting a Deployment deletes its ReplicaSet and pods (garbage collection)', async () => {
    await startWith({ rolloutDelayMs: 10 });
    await client.apply(deployment('api-gateway', 2));
    await eventually('pods', async () => ((await podsOf('api-gateway')).length === 2 ? true : undefined));
    await client.delete(deployment('api-gateway', 2));
    expect(await podsOf('api-gateway')).toEqual([]);
    expect(await client.list('apps/v1', 'ReplicaSet', ns)).toEqual([]);
  });
});

describe('FakeApiServer: the Job controller', () => {
  it('runs a pod that ends Succeeded, and the Job Complete with succeeded and completionTime', async () => {
    await startWith({ jobDurationMs: 1000 });
    await client.apply(job('tenant-migration-x'));
    const running = await eventually('active', async () => {
      const j = await client.read('batch/v1', 'Job', 'tenant-migration-x', ns);
      return statusOf(j).active === 1 ? j : undefined;
    });
    expect(statusOf(running).startTime).toBeTruthy();
    const done = await eventually('Complete', async () => {
      const j = await client.read('batch/v1', 'Job', 'tenant-migration-x', ns);
      return conditionOf(j, 'Complete')?.status === 'True' ? j : undefined;
    });
    expect(statusOf(done)).toMatchObject({ succeeded: 1, completionTime: expect.anything() });
    expect(statusOf(done).active).toBeUndefined();
    const [pod] = await podsOf('tenant-migration-x');
    expect(pod.metadata.labels).toMatchObject({
      'batch.kubernetes.io/job-name': 'tenant-migration-x',
      'job-name': 'tenant-migration-x',
    });
    expect(pod.metadata.ownerReferences).toEqual([
      expect.objectContaining({ kind: 'Job', name: 'tenant-migration-x' }),
    ]);
    expect(statusOf(pod).phase).toBe('Succeeded');
    expect(containerOf(pod).state.terminated).toMatchObject({ reason: 'Completed', exitCode: 0 });
  });

  it('a failing Job: pod Failed (Error, exit code 1), the Job Failed with BackoffLimitExceeded', async () => {
    await startWith({ jobDurationMs: 10, failingJobs: ['tenant-migration-x'] });
    await client.apply(job('tenant-migration-x'));
    const failed = await eventually('Failed', async () => {
      const j = await client.read('batch/v1', 'Job', 'tenant-migration-x', ns);
      return conditionOf(j, 'Failed')?.status === 'True' ? j : undefined;
    });
    expect(conditionOf(failed, 'Failed')?.reason).toBe('BackoffLimitExceeded');
    expect(conditionOf(failed, 'Complete')).toBeUndefined();
    const [pod] = await podsOf('tenant-migration-x');
    expect(statusOf(pod).phase).toBe('Failed');
    expect(containerOf(pod).state.terminated).toMatchObject({ reason: 'Error', exitCode: 1 });
  });

  it('deleting a Job deletes its pod', async () => {
    await startWith({ jobDurationMs: 10 });
    await client.apply(job('tenant-migration-x'));
    await eventually('pod', async () => (await podsOf('tenant-migration-x'))[0]);
    await client.delete(job('tenant-migration-x'));
    expect(await podsOf('tenant-migration-x')).toEqual([]);
  });
});

describe('FakeApiServer: cert-manager', () => {
  it('issues a Certificate after a delay (Ready) and, when asked, creates its TLS Secret', async () => {
    await startWith({ certificateDelayMs: 1000, issueTlsSecrets: true });
    await client.apply(certificate());
    const issuing = await eventually('issuing', async () => {
      const c = await client.read('cert-manager.io/v1', 'Certificate', 'tenant-tls', ns);
      return conditionOf(c, 'Ready') ? c : undefined;
    });
    expect(conditionOf(issuing, 'Ready')).toMatchObject({ status: 'False', reason: 'DoesNotExist' });
    const ready = await eventually('Ready', async () => {
      const c = await client.read('cert-manager.io/v1', 'Certificate', 'tenant-tls', ns);
      return conditionOf(c, 'Ready')?.status === 'True' ? c : undefined;
    });
    expect(statusOf(ready)).toMatchObject({ notAfter: expect.any(String), revision: 1 });
    expect((await client.read('v1', 'Secret', 'tenant-tls-secret', ns))?.type).toBe('kubernetes.io/tls');
  });

  it('a held Certificate is never issued', async () => {
    await startWith({ certificateDelayMs: 10 });
    server.holdCertificate('tenant-tls');
    await client.apply(certificate());
    await new Promise((resolve) => setTimeout(resolve, 80));
    const c = await client.read('cert-manager.io/v1', 'Certificate', 'tenant-tls', ns);
    expect(conditionOf(c, 'Ready')?.status).toBe('False');
    expect(await client.read('v1', 'Secret', 'tenant-tls-secret', ns)).toBeUndefined();
  });
});

describe('FakeApiServer: namespace deletion', () => {
  it('deletes the content, and the namespace goes once it is empty', async () => {
    await startWith({ rolloutDelayMs: 10, jobDurationMs: 10 });
    await client.apply(deployment('api-gateway', 2));
    await client.apply(job('tenant-migration-x'));
    await eventually('pods', async () =>
      (await client.list('v1', 'Pod', ns)).length === 3 ? true : undefined,
    );
    await client.delete({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    expect(statusOf(await client.read('v1', 'Namespace', ns)).phase).toBe('Terminating');
    await eventually('namespace gone', async () =>
      (await client.read('v1', 'Namespace', ns)) === undefined ? true : undefined,
    );
    expect(server.list()).toEqual([]);
  });

  it('stays Terminating while content with a finalizer remains, naming it; goes once the finalizer clears', async () => {
    await startWith();
    await client.apply({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'held', namespace: ns, finalizers: ['example.com/hold'] },
      data: {},
    });
    await client.delete({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    const stuck = await eventually('finalizers reported', async () => {
      const n = await client.read('v1', 'Namespace', ns);
      return conditionOf(n, 'NamespaceFinalizersRemaining') ? n : undefined;
    });
    expect(statusOf(stuck).phase).toBe('Terminating');
    expect(JSON.stringify(statusOf(stuck).conditions)).toContain('example.com/hold');
    expect((await client.read('v1', 'ConfigMap', 'held', ns))?.metadata.deletionTimestamp).toBeTruthy();
    server.clearFinalizers('v1', 'ConfigMap', ns, 'held');
    await eventually('namespace gone', async () =>
      (await client.read('v1', 'Namespace', ns)) === undefined ? true : undefined,
    );
  });
});
