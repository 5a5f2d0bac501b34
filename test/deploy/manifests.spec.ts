import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveOptions } from '@app/messaging';
import type { KubeObject } from '@app/kube';
import { APPS, type AppName } from '../support/local-stack';
import {
  NAMESPACE,
  OVERLAYS,
  ROOT,
  appContainer,
  deploymentOf,
  loadRendered,
  manifestViolations,
  ofKind,
  renderedPath,
  resolveEnv,
  secretValue,
  type Deployment,
} from './rendered-manifests';

const COMPONENT: Record<AppName, string> = {
  'provisioning-api': 'api',
  orchestrator: 'orchestrator',
  'k8s-service': 'resource-service',
  'database-service': 'resource-service',
  'storage-service': 'resource-service',
  'broker-service': 'resource-service',
  'monitoring-service': 'resource-service',
  'notification-service': 'resource-service',
};
const portName = (app: AppName) => (app === 'provisioning-api' ? 'http' : 'health');
const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

function kubectlOnPath(): boolean {
  return spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;
}

describe('deploy/rendered is what scripts/render-deploy.sh makes of deploy/ now', () => {
  const hasKubectl = kubectlOnPath();

  it.each(OVERLAYS)('%s.yaml is current', (overlay) => {
    if (!hasKubectl) {
      console.log(`skipped: kubectl is not on PATH, deploy/rendered/${overlay}.yaml was not re-rendered`);
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), 'render-deploy-'));
    try {
      const run = spawnSync('bash', [join(ROOT, 'scripts', 'render-deploy.sh'), dir], { encoding: 'utf8' });
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      const fresh = readFileSync(renderedPath(overlay, dir), 'utf8');
      // The message says what to do; the diff itself is in the assertion below.
      if (fresh !== readFileSync(renderedPath(overlay), 'utf8')) {
        console.log(`deploy/rendered/${overlay}.yaml is stale: run bash scripts/render-deploy.sh`);
      }
      expect(readFileSync(renderedPath(overlay), 'utf8')).toBe(fresh);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the manifest validator', () => {
  it('refuses a kind it has no schema for, and an object its schema refuses', () => {
    const unknown = { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } };
    expect(manifestViolations(unknown)).toContain('no schema for example.com/v1/Widget');
    const pdb = {
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name: 'p' },
      spec: { maxUnavailable: 1, selector: { matchLabels: 'app' } },
    };
    expect(manifestViolations(pdb).join('\n')).toMatch(/schema/);
  });

  it('names RBAC objects by path segment rules (colons allowed, slashes refused)', () => {
    const role = (name: string) => ({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name },
      rules: [],
    });
    expect(manifestViolations(role('provisioning:reader'))).toEqual([]);
    expect(manifestViolations(role('provisioning/reader')).join('\n')).toContain('path segment');
  });
});

describe.each(OVERLAYS)('deploy/rendered/%s.yaml', (overlay) => {
  const objects = loadRendered(overlay);
  const deployments = ofKind<Deployment>(objects, 'Deployment');

  it('every object validates against its Kubernetes or CRD schema', () => {
    const invalid = objects
      .map((object) => ({ object, violations: manifestViolations(object) }))
      .filter(({ violations }) => violations.length > 0)
      .map(({ object, violations }) => `${object.kind} ${object.metadata.name}: ${violations.join('; ')}`);
    expect(invalid).toEqual([]);
  });

  it('every object carries the part-of label, and an app object its name and component', () => {
    for (const object of objects) {
      const labels = object.metadata.labels ?? {};
      expect([object.kind, object.metadata.name, labels['app.kubernetes.io/part-of']]).toEqual([
        object.kind,
        object.metadata.name,
        'provisioning-control-plane',
      ]);
      const app = labels['app.kubernetes.io/name'] as AppName | undefined;
      if (app && (APPS as readonly string[]).includes(app)) {
        expect(labels['app.kubernetes.io/component']).toBe(COMPONENT[app]);
      }
    }
  });

  it('has one Deployment per app, each with two replicas', () => {
    expect(deployments.map((d) => d.metadata.name).sort()).toEqual([...APPS].sort());
    for (const deployment of deployments) {
      expect([deployment.metadata.name, deployment.metadata.namespace, deployment.spec.replicas]).toEqual([
        deployment.metadata.name,
        NAMESPACE,
        2,
      ]);
    }
  });

  it.each(APPS)(
    '%s runs as non-root, read-only, without capabilities, under RuntimeDefault seccomp',
    (app) => {
      const pod = deploymentOf(objects, app).spec.template.spec;
      expect(pod.securityContext?.runAsNonRoot).toBe(true);
      expect(pod.securityContext?.runAsUser).toBeGreaterThan(0);
      expect(pod.securityContext?.runAsGroup).toBeGreaterThan(0);
      expect(pod.securityContext?.seccompProfile?.type).toBe('RuntimeDefault');
      for (const container of [...pod.containers, ...(pod.initContainers ?? [])]) {
        const context = container.securityContext ?? {};
        expect(context.runAsNonRoot).not.toBe(false);
        expect(context.runAsUser ?? 1).not.toBe(0);
        expect(context.readOnlyRootFilesystem).toBe(true);
        expect(context.allowPrivilegeEscalation).toBe(false);
        expect(context.capabilities?.drop).toContain('ALL');
        expect(context.capabilities?.add ?? []).toEqual([]);
        expect(context.seccompProfile?.type ?? 'RuntimeDefault').toBe('RuntimeDefault');
      }
    },
  );

  it.each(APPS)('%s writes only to emptyDir volumes: /tmp, and its GitOps working copy', (app) => {
    const deployment = deploymentOf(objects, app);
    const pod = deployment.spec.template.spec;
    const container = appContainer(deployment);
    const emptyDirs = new Set((pod.volumes ?? []).filter((v) => v.emptyDir !== undefined).map((v) => v.name));
    const writable = (container.volumeMounts ?? [])
      .filter((mount) => emptyDirs.has(mount.name))
      .map((mount) => mount.mountPath);
    expect(writable).toContain('/tmp');
    const workdir = resolveEnv(objects, deployment).GITOPS_WORKDIR;
    if (app === 'k8s-service' || app === 'monitoring-service') expect(workdir).toBeDefined();
    if (workdir !== undefined) {
      expect(writable.some((path) => workdir === path || workdir.startsWith(`${path}/`))).toBe(true);
    }
  });

  it.each(APPS)('%s probes /health and /ready on its declared port, with requests and limits', (app) => {
    const container = appContainer(deploymentOf(objects, app));
    expect(container.ports?.map((port) => port.name)).toContain(portName(app));
    expect(container.livenessProbe?.httpGet).toEqual({ path: '/health', port: portName(app) });
    expect(container.readinessProbe?.httpGet).toEqual({ path: '/ready', port: portName(app) });
    for (const kind of ['requests', 'limits'] as const) {
      expect(Object.keys(container.resources?.[kind] ?? {}).sort()).toEqual(['cpu', 'memory']);
    }
  });

  it.each(APPS)('%s listens where its probes look (PORT or HEALTH_PORT)', (app) => {
    const deployment = deploymentOf(objects, app);
    const env = resolveEnv(objects, deployment);
    const port = appContainer(deployment).ports?.find((p) => p.name === portName(app))?.containerPort;
    expect(String(port)).toBe(app === 'provisioning-api' ? env.PORT : env.HEALTH_PORT);
  });

  it('runs a pinned image, the same for every app, set in one place', () => {
    const images = new Set(deployments.flatMap((d) => d.spec.template.spec.containers.map((c) => c.image)));
    expect(images.size).toBe(1);
    const [image] = [...images];
    expect(image).toMatch(/:[A-Za-z0-9_][A-Za-z0-9_.-]*$/);
    expect(image).not.toMatch(/:latest$/);
    if (overlay === 'production') expect(image?.endsWith(`:${version}`)).toBe(true);
  });

  it('gives a service account token only to the apps that call the Kubernetes API', () => {
    for (const deployment of deployments) {
      const app = deployment.metadata.name as AppName;
      const env = resolveEnv(objects, deployment);
      const needsToken =
        app === 'k8s-service' ||
        app === 'monitoring-service' ||
        (env.SECRET_STORE_URL ?? '').startsWith('kubernetes:');
      const pod = deployment.spec.template.spec;
      expect([app, pod.automountServiceAccountToken]).toEqual([app, needsToken]);
      expect(pod.serviceAccountName).toBe(app);
      const account = objects.find((o) => o.kind === 'ServiceAccount' && o.metadata.name === app) as
        (KubeObject & { automountServiceAccountToken?: boolean }) | undefined;
      expect(account?.automountServiceAccountToken).toBe(needsToken);
    }
  });

  it('lets every app finish its shutdown before the kubelet kills it', () => {
    // Consumers drain their in-flight messages, then publishers settle their confirms: each bounded by the
    // messaging library's shutdown timeout.
    const { shutdownTimeoutMs } = resolveOptions({ url: 'amqp://localhost', connectionName: 'deploy-test' });
    for (const deployment of deployments) {
      expect(deployment.spec.template.spec.terminationGracePeriodSeconds).toBeGreaterThan(
        (2 * shutdownTimeoutMs) / 1000,
      );
    }
  });

  it('spreads each app over nodes (and, in production, zones)', () => {
    for (const deployment of deployments) {
      const constraints = deployment.spec.template.spec.topologySpreadConstraints ?? [];
      const keys = constraints
        .filter(
          (c) =>
            c.labelSelector?.matchLabels?.['app.kubernetes.io/name'] === deployment.metadata.name &&
            Object.keys(c.labelSelector.matchLabels).length === 1,
        )
        .map((c) => c.topologyKey);
      expect(keys).toContain('kubernetes.io/hostname');
      if (overlay === 'production') expect(keys).toContain('topology.kubernetes.io/zone');
    }
  });

  it('has a PodDisruptionBudget for each Deployment that still lets a node drain', () => {
    const budgets = ofKind<KubeObject & { spec: Record<string, unknown> }>(objects, 'PodDisruptionBudget');
    for (const deployment of deployments) {
      const labels = deployment.spec.template.metadata.labels ?? {};
      const matching = budgets.filter((pdb) => {
        const selector = (pdb.spec.selector as { matchLabels?: Record<string, string> }).matchLabels ?? {};
        return (
          pdb.metadata.namespace === deployment.metadata.namespace &&
          Object.keys(selector).length > 0 &&
          Object.entries(selector).every(([key, value]) => labels[key] === value)
        );
      });
      expect([deployment.metadata.name, matching.length]).toEqual([deployment.metadata.name, 1]);
      const { minAvailable, maxUnavailable } = matching[0].spec as {
        minAvailable?: number;
        maxUnavailable?: number;
      };
      const replicas = deployment.spec.replicas ?? 1;
      const allowed = maxUnavailable ?? replicas - (minAvailable ?? replicas);
      expect(allowed).toBeGreaterThanOrEqual(1);
      expect(allowed).toBeLessThan(replicas);
    }
  });

  it('has a Service per app on the contract ports, selecting that app only', () => {
    for (const app of APPS) {
      const service = objects.find((o) => o.kind === 'Service' && o.metadata.name === app) as
        | (KubeObject & { spec: { selector: Record<string, string>; ports: Record<string, unknown>[] } })
        | undefined;
      expect(service?.spec.selector).toEqual({ 'app.kubernetes.io/name': app });
      expect(service?.spec.ports).toEqual([
        expect.objectContaining(
          app === 'provisioning-api'
            ? { name: 'http', port: 80, targetPort: 'http' }
            : { name: 'health', port: 8081, targetPort: 'health' },
        ),
      ]);
    }
  });

  it('names an existing Secret (or ExternalSecret target) and key in every secret reference', () => {
    const problems: string[] = [];
    for (const deployment of deployments) {
      for (const container of deployment.spec.template.spec.containers) {
        for (const entry of container.env ?? []) {
          const ref = entry.valueFrom?.secretKeyRef;
          if (!ref) continue;
          try {
            secretValue(objects, deployment.metadata.namespace ?? 'default', ref.name, ref.key);
          } catch (error) {
            problems.push(`${deployment.metadata.name} ${entry.name}: ${(error as Error).message}`);
          }
        }
        expect(container.envFrom?.filter((source) => source.secretRef) ?? []).toEqual([]);
      }
    }
    expect(problems).toEqual([]);
  });

  if (overlay === 'production') {
    it('holds no secret value: every credential comes from an ExternalSecret', () => {
      expect(ofKind(objects, 'Secret').map((s) => s.metadata.name)).toEqual([]);
      for (const external of ofKind<KubeObject & { spec: { secretStoreRef: unknown } }>(
        objects,
        'ExternalSecret',
      )) {
        expect(external.spec.secretStoreRef).toEqual({
          kind: 'ClusterSecretStore',
          name: 'provisioning-control-plane',
        });
      }
    });
  }

  it('denies all traffic in the namespace by default, and opens the API only to the ingress controller', () => {
    const policies = ofKind<KubeObject & { spec: Record<string, unknown> }>(objects, 'NetworkPolicy').filter(
      (p) => p.metadata.namespace === NAMESPACE,
    );
    const denyAll = policies.find(
      (p) =>
        JSON.stringify(p.spec.podSelector) === '{}' &&
        JSON.stringify(p.spec.policyTypes) === '["Ingress","Egress"]' &&
        p.spec.ingress === undefined &&
        p.spec.egress === undefined,
    );
    expect(denyAll?.metadata.name).toBe('default-deny');
    const apiIngress = policies.filter(
      (p) =>
        Array.isArray(p.spec.ingress) &&
        JSON.stringify(p.spec.ingress).includes('"kubernetes.io/metadata.name":"ingress-nginx"'),
    );
    expect(apiIngress.map((p) => p.spec.podSelector)).toEqual([
      { matchLabels: { 'app.kubernetes.io/name': 'provisioning-api' } },
    ]);
  });

  it('routes the API Ingress to the http port with TLS on the same host', () => {
    const [ingress] = ofKind<
      KubeObject & {
        spec: {
          ingressClassName: string;
          tls: { hosts: string[] }[];
          rules: { host: string; http: { paths: { backend: unknown }[] } }[];
        };
      }
    >(objects, 'Ingress');
    expect(ingress.spec.ingressClassName).toBe('nginx');
    expect(ingress.metadata.annotations?.['cert-manager.io/cluster-issuer']).toBeDefined();
    expect(ingress.spec.tls[0].hosts).toEqual([ingress.spec.rules[0].host]);
    expect(ingress.spec.rules[0].host).not.toMatch(/\.invalid$/);
    expect(ingress.spec.rules[0].http.paths[0].backend).toEqual({
      service: { name: 'provisioning-api', port: { name: 'http' } },
    });
  });
});
