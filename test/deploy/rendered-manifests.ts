import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { loadPackage, objectViolations, type KubeObject } from '@app/kube';
import type { AppName } from '../support/local-stack';

/**
 * The committed output of scripts/render-deploy.sh, read as the API server would receive it, and the helpers the
 * deploy/ tests share: each app's Deployment, and the environment its container would get.
 */

export const ROOT = resolve(__dirname, '../..');
export const OVERLAYS = ['local', 'production'] as const;
export type Overlay = (typeof OVERLAYS)[number];
export const NAMESPACE = 'provisioning-system';

export function renderedPath(overlay: Overlay, dir = join(ROOT, 'deploy', 'rendered')): string {
  return join(dir, `${overlay}.yaml`);
}

export function parseManifests(text: string): KubeObject[] {
  return parseAllDocuments(text)
    .map((doc) => {
      if (doc.errors.length > 0) throw new Error(`unparsable YAML: ${doc.errors[0].message}`);
      return doc.toJS() as KubeObject | null;
    })
    .filter((object): object is KubeObject => object !== null);
}

export function loadRendered(overlay: Overlay): KubeObject[] {
  return parseManifests(readFileSync(renderedPath(overlay), 'utf8'));
}

// Kinds deploy/ renders that the manifest validator of libs/kube (built for tenant trees) has no entry for.
const EXTRA_MODELS: Record<string, string> = {
  'batch/v1/CronJob': 'kubernetes-models/batch/v1/CronJob.js',
  'policy/v1/PodDisruptionBudget': 'kubernetes-models/policy/v1/PodDisruptionBudget.js',
  'rbac.authorization.k8s.io/v1/ClusterRole': 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole.js',
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding':
    'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding.js',
};

type ModelClass = new (data: unknown) => { validate(): void };

/**
 * RBAC objects are named by path segment rules, not DNS-1123 (`system:controller:…` is a valid ClusterRole):
 * the API server refuses only `.`, `..` and names containing `/` or `%`. libs/kube checks every kind as a
 * DNS-1123 subdomain, which holds for everything else rendered here.
 */
const PATH_SEGMENT_NAMED = new Set(['Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding']);

function nameRuleFor(object: KubeObject, violations: string[]): string[] {
  if (!PATH_SEGMENT_NAMED.has(object.kind) || !object.apiVersion.startsWith('rbac.authorization.k8s.io/')) {
    return violations;
  }
  const name = object.metadata.name;
  const rest = violations.filter((violation) => !violation.startsWith('metadata.name:'));
  if (name === '.' || name === '..' || /[/%]/.test(name) || name.length === 0) {
    rest.push(`metadata.name: ${JSON.stringify(name)} is not a valid path segment name`);
  }
  return rest;
}

/** Schema and name violations of one object; an apiVersion/kind without a schema is itself a violation. */
export function manifestViolations(object: KubeObject): string[] {
  const key = `${object.apiVersion}/${object.kind}`;
  const violations = nameRuleFor(object, objectViolations(object));
  const extra = EXTRA_MODELS[key];
  if (!extra) return violations;
  const module = loadPackage<Record<string, ModelClass>>(join(ROOT, 'node_modules', extra));
  const Model = module[object.kind];
  const rest = violations.filter((violation) => violation !== `no schema for ${key}`);
  try {
    new Model(object).validate();
  } catch (error) {
    rest.push(`schema: ${(error as { message?: string }).message ?? String(error)}`);
  }
  return rest;
}

export interface Container {
  name: string;
  image?: string;
  command?: string[];
  ports?: { name?: string; containerPort: number }[];
  env?: {
    name: string;
    value?: string;
    valueFrom?: {
      secretKeyRef?: { name: string; key: string; optional?: boolean };
      configMapKeyRef?: { name: string; key: string; optional?: boolean };
      [other: string]: unknown;
    };
  }[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string }; prefix?: string }[];
  livenessProbe?: { httpGet?: { path: string; port: string | number } };
  readinessProbe?: { httpGet?: { path: string; port: string | number } };
  startupProbe?: { httpGet?: { path: string; port: string | number } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: {
    runAsNonRoot?: boolean;
    runAsUser?: number;
    readOnlyRootFilesystem?: boolean;
    allowPrivilegeEscalation?: boolean;
    capabilities?: { drop?: string[]; add?: string[] };
    seccompProfile?: { type: string };
  };
  volumeMounts?: { name: string; mountPath: string }[];
}

export interface PodSpec {
  serviceAccountName?: string;
  automountServiceAccountToken?: boolean;
  terminationGracePeriodSeconds?: number;
  securityContext?: {
    runAsNonRoot?: boolean;
    runAsUser?: number;
    runAsGroup?: number;
    seccompProfile?: { type: string };
  };
  topologySpreadConstraints?: {
    topologyKey: string;
    labelSelector?: { matchLabels?: Record<string, string> };
  }[];
  containers: Container[];
  initContainers?: Container[];
  volumes?: { name: string; emptyDir?: unknown; [other: string]: unknown }[];
}

export interface Deployment extends KubeObject {
  spec: {
    replicas?: number;
    selector: { matchLabels?: Record<string, string> };
    template: { metadata: { labels?: Record<string, string> }; spec: PodSpec };
  };
}

export function ofKind<T extends KubeObject = KubeObject>(objects: KubeObject[], kind: string): T[] {
  return objects.filter((object) => object.kind === kind) as T[];
}

export function deploymentOf(objects: KubeObject[], app: AppName): Deployment {
  const found = ofKind<Deployment>(objects, 'Deployment').find((d) => d.metadata.name === app);
  if (!found) throw new Error(`no Deployment ${app}`);
  return found;
}

/** The container running the app (the one whose command starts its main.js). */
export function appContainer(deployment: Deployment): Container {
  const main = `dist/apps/${deployment.metadata.name}/src/main.js`;
  const found = deployment.spec.template.spec.containers.find((c) => c.command?.includes(main));
  if (!found) throw new Error(`Deployment ${deployment.metadata.name} has no container running ${main}`);
  return found;
}

/**
 * Secret values for production, where the Secrets come from ExternalSecrets: one placeholder of the right form
 * per variable, so the apps' schemas judge the rest of the environment. A new secret variable needs a row here.
 */
export const PRODUCTION_SECRET_PLACEHOLDERS: Record<string, string> = {
  EVENTSTORE_URL:
    'postgres://provisioning:placeholder-password@postgresql.example.internal:5432/provisioning',
  READ_MODEL_URL:
    'postgres://provisioning:placeholder-password@postgresql.example.internal:5432/provisioning',
  AMQP_URL: 'amqp://provisioning:placeholder-password@rabbitmq.example.internal:5672',
  WEBHOOK_SIGNING_SECRET: 'placeholder-webhook-signing-secret-0123456789',
  OPERATOR_TOKENS: 'operator:placeholder-operator-token-0123456789',
  AUDITOR_TOKENS: 'auditor:placeholder-auditor-token-0123456789',
  METRICS_TOKEN: 'placeholder-metrics-token-0123456789',
  MYSQL_URL: 'mysql://provisioning:placeholder-password@mysql.example.internal:3306',
  S3_ADMIN_ACCESS_KEY: 'placeholder-access-key',
  S3_ADMIN_SECRET_KEY: 'placeholder-secret-key-0123456789',
  RABBITMQ_ADMIN_USER: 'provisioning-admin',
  RABBITMQ_ADMIN_PASSWORD: 'placeholder-password',
  GRAFANA_ADMIN_USER: 'provisioning-admin',
  GRAFANA_ADMIN_PASSWORD: 'placeholder-grafana-password',
  SMTP_URL: 'smtps://provisioning:placeholder-password@smtp.example.com:465',
  WEBSITES_API_TOKEN: 'placeholder-websites-token',
  GITOPS_REMOTE:
    'https://provisioning:placeholder-token@git.example.com/collect-verything/tenant-manifests.git',
};

/** What a Secret key resolves to: the example Secret's value, or, behind an ExternalSecret, a placeholder. */
export function secretValue(objects: KubeObject[], namespace: string, name: string, key: string): string {
  const secret = objects.find(
    (o) => o.kind === 'Secret' && o.metadata.name === name && o.metadata.namespace === namespace,
  ) as (KubeObject & { data?: Record<string, string>; stringData?: Record<string, string> }) | undefined;
  if (secret) {
    const value =
      secret.stringData?.[key] ??
      (secret.data?.[key] === undefined ? undefined : Buffer.from(secret.data[key], 'base64').toString());
    if (value === undefined) throw new Error(`Secret ${name} has no key ${key}`);
    return value;
  }
  const external = objects.find(
    (o) =>
      o.kind === 'ExternalSecret' &&
      o.metadata.namespace === namespace &&
      ((o.spec as { target?: { name?: string } }).target?.name ?? o.metadata.name) === name,
  ) as (KubeObject & { spec: { data?: { secretKey: string }[] } }) | undefined;
  if (!external) throw new Error(`no Secret or ExternalSecret produces the Secret ${name}`);
  if (!(external.spec.data ?? []).some((entry) => entry.secretKey === key)) {
    throw new Error(`ExternalSecret ${external.metadata.name} does not produce the key ${key}`);
  }
  const placeholder = PRODUCTION_SECRET_PLACEHOLDERS[key];
  if (placeholder === undefined) {
    throw new Error(
      `no placeholder for the secret variable ${key}: add one to PRODUCTION_SECRET_PLACEHOLDERS`,
    );
  }
  return placeholder;
}

function configMapData(objects: KubeObject[], namespace: string, name: string): Record<string, string> {
  const map = objects.find(
    (o) => o.kind === 'ConfigMap' && o.metadata.name === name && o.metadata.namespace === namespace,
  ) as (KubeObject & { data?: Record<string, string> }) | undefined;
  if (!map) throw new Error(`no ConfigMap ${name}`);
  return map.data ?? {};
}

/**
 * The environment the app's container gets, as the kubelet builds it: `envFrom` sources in order, then `env`
 * entries (which win). Secret values come from the rendered Secrets or, for ExternalSecrets, placeholders.
 * The image's own ENV (NODE_ENV=production) is not included: the ConfigMaps set what the apps need.
 */
export function resolveEnv(objects: KubeObject[], deployment: Deployment): Record<string, string> {
  const namespace = deployment.metadata.namespace ?? 'default';
  const container = appContainer(deployment);
  const env: Record<string, string> = {};
  for (const source of container.envFrom ?? []) {
    const prefix = source.prefix ?? '';
    if (source.configMapRef) {
      for (const [key, value] of Object.entries(
        configMapData(objects, namespace, source.configMapRef.name),
      )) {
        env[prefix + key] = value;
      }
    } else {
      throw new Error(`unsupported envFrom source in ${deployment.metadata.name}: ${JSON.stringify(source)}`);
    }
  }
  for (const entry of container.env ?? []) {
    if (entry.value !== undefined) env[entry.name] = entry.value;
    else if (entry.valueFrom?.secretKeyRef) {
      const ref = entry.valueFrom.secretKeyRef;
      env[entry.name] = secretValue(objects, namespace, ref.name, ref.key);
    } else if (entry.valueFrom?.configMapKeyRef) {
      const ref = entry.valueFrom.configMapKeyRef;
      const value = configMapData(objects, namespace, ref.name)[ref.key];
      if (value === undefined) throw new Error(`ConfigMap ${ref.name} has no key ${ref.key}`);
      env[entry.name] = value;
    } else {
      throw new Error(`unsupported env source for ${entry.name} in ${deployment.metadata.name}`);
    }
  }
  return env;
}
