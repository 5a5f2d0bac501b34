import {
  BUSINESS_SERVICES,
  type BusinessService,
  type ContainerResources,
  TIER_CATALOG,
  type TenantProfile,
  migrationJobName,
} from '@app/contracts';
import type { KubeObject } from '@app/kube';
import type { RenderOptions } from './render-options';
import {
  API_GATEWAY,
  API_GATEWAY_PORT,
  AUTH_ADMIN_CREDENTIALS,
  MESSAGES_BROKER,
  METRICS_PORT,
  MINIO_CREDENTIALS,
  RABBITMQ_CREDENTIALS,
  SERVICE_PORT,
  TENANT_CONFIG,
  dbCredentialsName,
  imageName,
  objectMeta,
  workloadName,
  workloadNames,
} from './tenant-objects';

/** The tenant's workloads: the migration Job (spec 3.2), the config (6.1), the Deployments and Services (6.2). */

// 3.2 -------------------------------------------------------------------------------------------------------
function secretEnv(name: string, secret: string, key = name) {
  return { name, valueFrom: { secretKeyRef: { name: secret, key } } };
}

/**
 * Argo CD sync option for the migration Job. A Job's pod template is immutable, so a new image tag, or the
 * `tier` label kustomize puts on templates after a tier change, would fail every sync ("field is immutable");
 * `Force=true,Replace=true` makes Argo CD delete and create the Job instead, so the migration runs again for the
 * new image. With the Application's `ApplyOutOfSyncOnly=true` that happens only when the Job itself changed.
 */
export const MIGRATION_JOB_SYNC_OPTIONS = 'Force=true,Replace=true';

/**
 * Spec 3.2. The image is pinned to the configured tag instead of the spec's `:latest` (kustomize's `images`
 * rewrites it to the same tag in GitOps mode; applied directly, `latest` would not be reproducible).
 */
export function migrationJob(tenant: TenantProfile, options: RenderOptions): KubeObject {
  const auth = dbCredentialsName('auth');
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: objectMeta(migrationJobName(tenant.tenantId), tenant, options, {
      annotations: { 'argocd.argoproj.io/sync-options': MIGRATION_JOB_SYNC_OPTIONS },
    }),
    spec: {
      template: {
        spec: {
          containers: [
            {
              name: 'migrate',
              image: `${imageName(options, workloadName('auth'))}:${options.imageTag}`,
              command: [
                '/bin/sh',
                '-c',
                'php artisan migrate --force\nphp artisan db:seed --class=InitialDataSeeder --force\n',
              ],
              env: [
                { name: 'DB_CONNECTION', value: 'mysql' },
                secretEnv('DB_HOST', auth),
                secretEnv('DB_DATABASE', auth),
                secretEnv('DB_USERNAME', auth),
                secretEnv('DB_PASSWORD', auth),
              ],
              // InitialDataSeeder creates the tenant admin from these (the password the welcome e-mail sends).
              envFrom: [{ secretRef: { name: AUTH_ADMIN_CREDENTIALS } }],
            },
          ],
          restartPolicy: 'OnFailure',
        },
      },
      backoffLimit: 3,
    },
  };
}

// 6.1 ConfigMap (kustomize generates it in GitOps mode; applied directly it is rendered) --------------------
export function tenantConfigLiterals(tenant: TenantProfile): [string, string][] {
  return [
    ['TENANT_ID', tenant.tenantId],
    ['TENANT_TIER', tenant.tier],
    ['TENANT_DOMAIN', tenant.domain],
    ['APP_ENV', 'production'],
    ['APP_DEBUG', 'false'],
    ['LOG_LEVEL', 'info'],
  ];
}
export function tenantConfigMap(tenant: TenantProfile, options: RenderOptions): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: objectMeta(TENANT_CONFIG, tenant, options),
    data: Object.fromEntries(tenantConfigLiterals(tenant)),
  };
}

// 6.2 -------------------------------------------------------------------------------------------------------
function probes(port: number) {
  return {
    livenessProbe: { httpGet: { path: '/health', port }, initialDelaySeconds: 30, periodSeconds: 10 },
    readinessProbe: { httpGet: { path: '/ready', port }, initialDelaySeconds: 10, periodSeconds: 5 },
  };
}
function resources(spec: ContainerResources) {
  return { requests: { ...spec.requests }, limits: { ...spec.limits } };
}

function deployment(
  tenant: TenantProfile,
  options: RenderOptions,
  name: string,
  replicas: number,
  port: number,
  env: unknown[],
  sizing: ContainerResources,
  envFrom?: unknown[],
): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: objectMeta(name, tenant, options),
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name, version: options.imageTag } },
        spec: {
          containers: [
            {
              name,
              image: `${imageName(options, name)}:${options.imageTag}`,
              ports: [
                { containerPort: port, name: 'http' },
                { containerPort: METRICS_PORT, name: 'metrics' },
              ],
              ...(envFrom ? { envFrom } : {}),
              env,
              resources: resources(sizing),
              ...probes(port),
            },
          ],
        },
      },
    },
  };
}

/** Spec 6.2, with replicas and resources from the tier catalog (premium is the spec's 3 / 500m-2 / 512Mi-2Gi). */
export function apiGatewayDeployment(tenant: TenantProfile, options: RenderOptions): KubeObject {
  const sizing = TIER_CATALOG[tenant.tier].workloads.apiGateway;
  return deployment(
    tenant,
    options,
    API_GATEWAY,
    sizing.replicas,
    API_GATEWAY_PORT,
    [
      { name: 'TENANT_ID', valueFrom: { configMapKeyRef: { name: TENANT_CONFIG, key: 'TENANT_ID' } } },
      secretEnv('DB_HOST', dbCredentialsName('auth')),
      secretEnv('RABBITMQ_HOST', RABBITMQ_CREDENTIALS),
      secretEnv('MINIO_ENDPOINT', MINIO_CREDENTIALS),
    ],
    sizing.resources,
  );
}

/** A business service: its own database credentials, the broker and storage credentials, the tenant config. */
export function serviceDeployment(
  tenant: TenantProfile,
  service: BusinessService,
  options: RenderOptions,
): KubeObject {
  const sizing = TIER_CATALOG[tenant.tier].workloads.service;
  return deployment(
    tenant,
    options,
    workloadName(service),
    sizing.replicas,
    SERVICE_PORT,
    [{ name: 'DB_CONNECTION', value: 'mysql' }],
    sizing.resources,
    [
      { configMapRef: { name: TENANT_CONFIG } },
      { secretRef: { name: dbCredentialsName(service) } },
      { secretRef: { name: RABBITMQ_CREDENTIALS } },
      { secretRef: { name: MINIO_CREDENTIALS } },
      // The auth service forces the change of the initial password at first login (MUST_CHANGE_AT_FIRST_LOGIN).
      ...(service === 'auth' ? [{ secretRef: { name: AUTH_ADMIN_CREDENTIALS } }] : []),
    ],
  );
}

export function messagesBrokerDeployment(tenant: TenantProfile, options: RenderOptions): KubeObject {
  const sizing = TIER_CATALOG[tenant.tier].workloads.service;
  return deployment(tenant, options, MESSAGES_BROKER, sizing.replicas, SERVICE_PORT, [], sizing.resources, [
    { configMapRef: { name: TENANT_CONFIG } },
    { secretRef: { name: RABBITMQ_CREDENTIALS } },
  ]);
}

export function deployments(tenant: TenantProfile, options: RenderOptions): KubeObject[] {
  return [
    apiGatewayDeployment(tenant, options),
    ...BUSINESS_SERVICES.map((service) => serviceDeployment(tenant, service, options)),
    messagesBrokerDeployment(tenant, options),
  ];
}

/** Spec 6.2's Service, plus the `metrics` port the ServiceMonitor of 8.1 scrapes. */
export function service(tenant: TenantProfile, options: RenderOptions, name: string): KubeObject {
  const port = name === API_GATEWAY ? API_GATEWAY_PORT : SERVICE_PORT;
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: objectMeta(name, tenant, options),
    spec: {
      selector: { app: name },
      ports: [
        { port, targetPort: port, name: 'http' },
        { port: METRICS_PORT, targetPort: 'metrics', name: 'metrics' },
      ],
      type: 'ClusterIP',
    },
  };
}
export function services(tenant: TenantProfile, options: RenderOptions): KubeObject[] {
  return workloadNames().map((name) => service(tenant, options, name));
}

/** Every tenant workload at zero replicas (suspension keeps the objects, stops the pods). */
export function withReplicas(objects: KubeObject[], replicas: number): KubeObject[] {
  return objects.map((object) =>
    object.kind === 'Deployment'
      ? { ...object, spec: { ...(object.spec as Record<string, unknown>), replicas } }
      : object,
  );
}
