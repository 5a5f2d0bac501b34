import { loadPackageFile } from './esm';
import { mapViolations, nameViolations } from './names';

/** A rendered Kubernetes object: plain JSON, as written to Git or sent to the API server. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

type ModelClass = new (data: unknown) => { validate(): void };

/** Where the official schema of each kind we render lives (package, file, export). */
const MODELS: Record<string, [pkg: string, file: string, exportName: string]> = {
  'v1/Namespace': ['kubernetes-models', 'v1/Namespace.js', 'Namespace'],
  'v1/ResourceQuota': ['kubernetes-models', 'v1/ResourceQuota.js', 'ResourceQuota'],
  'v1/LimitRange': ['kubernetes-models', 'v1/LimitRange.js', 'LimitRange'],
  'v1/Service': ['kubernetes-models', 'v1/Service.js', 'Service'],
  'v1/ConfigMap': ['kubernetes-models', 'v1/ConfigMap.js', 'ConfigMap'],
  'v1/Secret': ['kubernetes-models', 'v1/Secret.js', 'Secret'],
  'v1/Pod': ['kubernetes-models', 'v1/Pod.js', 'Pod'],
  'apps/v1/Deployment': ['kubernetes-models', 'apps/v1/Deployment.js', 'Deployment'],
  'batch/v1/Job': ['kubernetes-models', 'batch/v1/Job.js', 'Job'],
  'networking.k8s.io/v1/NetworkPolicy': [
    'kubernetes-models',
    'networking.k8s.io/v1/NetworkPolicy.js',
    'NetworkPolicy',
  ],
  'networking.k8s.io/v1/Ingress': ['kubernetes-models', 'networking.k8s.io/v1/Ingress.js', 'Ingress'],
  'argoproj.io/v1alpha1/ApplicationSet': [
    '@kubernetes-models/argo-cd',
    'argoproj.io/v1alpha1/ApplicationSet.js',
    'ApplicationSet',
  ],
  'argoproj.io/v1alpha1/Application': [
    '@kubernetes-models/argo-cd',
    'argoproj.io/v1alpha1/Application.js',
    'Application',
  ],
  'argoproj.io/v1alpha1/AppProject': [
    '@kubernetes-models/argo-cd',
    'argoproj.io/v1alpha1/AppProject.js',
    'AppProject',
  ],
  'cert-manager.io/v1/Certificate': [
    '@kubernetes-models/cert-manager',
    'cert-manager.io/v1/Certificate.js',
    'Certificate',
  ],
  'external-secrets.io/v1/ExternalSecret': [
    '@kubernetes-models/external-secrets',
    'external-secrets.io/v1/ExternalSecret.js',
    'ExternalSecret',
  ],
  'external-secrets.io/v1/ClusterSecretStore': [
    '@kubernetes-models/external-secrets',
    'external-secrets.io/v1/ClusterSecretStore.js',
    'ClusterSecretStore',
  ],
  'v1/ServiceAccount': ['kubernetes-models', 'v1/ServiceAccount.js', 'ServiceAccount'],
  'rbac.authorization.k8s.io/v1/Role': ['kubernetes-models', 'rbac.authorization.k8s.io/v1/Role.js', 'Role'],
  'rbac.authorization.k8s.io/v1/RoleBinding': [
    'kubernetes-models',
    'rbac.authorization.k8s.io/v1/RoleBinding.js',
    'RoleBinding',
  ],
  'monitoring.coreos.com/v1/ServiceMonitor': [
    '@kubernetes-models/prometheus-operator',
    'monitoring.coreos.com/v1/ServiceMonitor.js',
    'ServiceMonitor',
  ],
  'monitoring.coreos.com/v1/PrometheusRule': [
    '@kubernetes-models/prometheus-operator',
    'monitoring.coreos.com/v1/PrometheusRule.js',
    'PrometheusRule',
  ],
};

const loaded = new Map<string, ModelClass>();

function modelFor(apiVersion: string, kind: string): ModelClass | undefined {
  const key = `${apiVersion}/${kind}`;
  const entry = MODELS[key];
  if (!entry) return undefined;
  let model = loaded.get(key);
  if (!model) {
    const [pkg, file, exportName] = entry;
    const mod = loadPackageFile<Record<string, ModelClass>>(pkg, file);
    model = mod[exportName];
    loaded.set(key, model);
  }
  return model;
}

/** Label maps nested in the kinds we render (selectors and pod templates carry label values too). */
function nestedLabelViolations(object: KubeObject): string[] {
  const spec = (object.spec ?? {}) as Record<string, unknown>;
  const get = (value: unknown, ...path: string[]): unknown =>
    path.reduce<unknown>(
      (acc, key) => (acc && typeof acc === 'object' ? (acc as Record<string, unknown>)[key] : undefined),
      value,
    );
  const out: string[] = [];
  if (object.kind === 'Deployment') {
    out.push(...mapViolations('spec.selector.matchLabels', get(spec, 'selector', 'matchLabels'), true));
    out.push(
      ...mapViolations('spec.template.metadata.labels', get(spec, 'template', 'metadata', 'labels'), true),
    );
  }
  if (object.kind === 'Service') out.push(...mapViolations('spec.selector', spec.selector, true));
  if (object.kind === 'ServiceMonitor') {
    out.push(...mapViolations('spec.selector.matchLabels', get(spec, 'selector', 'matchLabels'), true));
  }
  return out;
}

/** Error raised when a rendered object would be refused by a real API server. */
export class ManifestError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly violations: string[],
  ) {
    super(message);
    this.name = 'ManifestError';
  }
}

/**
 * Validates an object against its kind's official OpenAPI schema and the name rules the API server enforces.
 * Returns the violations (empty when valid); an unknown kind is itself a violation.
 */
export function objectViolations(object: KubeObject): string[] {
  const violations: string[] = [];
  const Model = modelFor(object.apiVersion, object.kind);
  if (!Model) violations.push(`no schema for ${object.apiVersion}/${object.kind}`);
  else {
    try {
      new Model(object).validate();
    } catch (error) {
      violations.push(
        `schema: ${error instanceof Error || isErrorLike(error) ? error.message : String(error)}`,
      );
    }
  }
  violations.push(...nameViolations(object), ...nestedLabelViolations(object));
  return violations;
}

function isErrorLike(value: unknown): value is { message: string } {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { message?: unknown }).message === 'string'
  );
}

export function assertValidObject(object: KubeObject): void {
  const violations = objectViolations(object);
  if (violations.length > 0) {
    throw new ManifestError(
      'K8S.INVALID_MANIFEST',
      `${object.kind} ${object.metadata?.name ?? '?'} is invalid: ${violations.join('; ')}`,
      violations,
    );
  }
}
